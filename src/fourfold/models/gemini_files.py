"""The Gemini Files API, for videos too large to send inline.

The resumable upload protocol as the official google-genai SDK speaks it: a
``start`` request announcing the size and type returns an upload URL; the bytes
go to it in 8 MiB chunks, the last one with ``upload, finalize``; then the file
is polled until its state is ``ACTIVE`` (videos are processed first). The key
goes in the ``x-goog-api-key`` header of the start and poll requests, never in
a URL (URLs get logged); like the SDK, the chunks carry no key (the upload URL
names the upload session).

Each file is uploaded once per backend (so once per run), keyed by the sha256
of its bytes: a clip used by ten cases, or retried, is not sent again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, StrictStr

from .base import PermanentError, TransientError
from .http import (
    ERROR_BODY_BYTES,
    Reply,
    error_message,
    parse_retry_after,
    raise_for_status,
    send_request,
    validate_reply,
)
from .transport import HttpPool

#: The SDK's chunk size.
CHUNK_BYTES = 8 << 20


class _File(BaseModel):
    """A Files API ``File``: what fourfold needs of it."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    name: StrictStr
    uri: StrictStr | None = None
    mimeType: StrictStr | None = None  # noqa: N815 -- the wire name
    state: StrictStr | None = None


class _Uploaded(BaseModel):
    model_config = ConfigDict(extra="ignore")
    file: _File


@dataclass(frozen=True)
class UploadedFile:
    """What a ``fileData`` part names."""

    uri: str
    mime_type: str


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def video_mime(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "video/mp4"


class FilesClient:
    """Uploads through one backend's session; ``poll_s`` and ``poll_limit_s`` are
    attributes so tests need not wait."""

    poll_s = 2.0
    poll_limit_s = 600.0

    def __init__(self, base_url: str, pool: HttpPool, headers: dict[str, str]):
        self.base_url = base_url
        self.pool = pool
        self.headers = headers

    async def _send(self, method: str, url: str, headers: dict[str, str], body: bytes = b"") -> Reply:
        reply = await send_request(self.pool, method, url, body, headers, ERROR_BODY_BYTES, what="Files API: ")
        if reply.status != 200:
            raise_for_status(reply.status, f"Files API: {error_message(reply.raw) or f'HTTP {reply.status}'}",
                             parse_retry_after(reply.headers.get("Retry-After")))
        return reply

    async def upload(self, path: Path) -> UploadedFile:
        """``path`` uploaded and processed: its uri and type."""
        size, mime = path.stat().st_size, video_mime(path)
        start = {**self.headers, "X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start",
                 "X-Goog-Upload-Header-Content-Length": str(size), "X-Goog-Upload-Header-Content-Type": mime}
        r = await self._send("POST", f"{self.base_url}/upload/v1beta/files", {**start, "Content-Type": "application/json"},
                             json.dumps({"file": {"displayName": path.name}}).encode())
        upload_url = r.headers.get("X-Goog-Upload-URL")
        if not upload_url:
            raise PermanentError("Files API: the start of the upload returned no upload URL")
        offset = 0
        with path.open("rb") as f:
            while True:
                chunk = await asyncio.to_thread(f.read, CHUNK_BYTES)
                last = offset + len(chunk) >= size
                r = await self._send("POST", upload_url, {
                    "X-Goog-Upload-Command": "upload, finalize" if last else "upload",
                    "X-Goog-Upload-Offset": str(offset)}, chunk)
                offset += len(chunk)
                if last or r.headers.get("X-Goog-Upload-Status", "").lower() != "active":
                    break
        if r.headers.get("X-Goog-Upload-Status", "").lower() != "final":
            raise PermanentError("Files API: the upload was not finalized")
        return await self._active(validate_reply(_Uploaded, r.raw, None).file, mime)

    async def _active(self, file: _File, mime: str) -> UploadedFile:
        """Polls until the file is ``ACTIVE`` (a video is processed after upload)."""
        waited = 0.0
        while file.state not in (None, "ACTIVE"):
            if file.state == "FAILED":
                raise PermanentError(f"Files API: processing {file.name} failed")
            if waited >= self.poll_limit_s:
                raise TransientError(f"Files API: {file.name} still {file.state} after {waited:g} s")
            await asyncio.sleep(self.poll_s)
            waited += self.poll_s
            r = await self._send("GET", f"{self.base_url}/v1beta/{file.name}", self.headers)
            file = validate_reply(_File, r.raw, None)
        if not file.uri:
            raise PermanentError(f"Files API: {file.name} has no uri")
        return UploadedFile(file.uri, file.mimeType or mime)


class UploadCache:
    """One upload per file content; concurrent cases asking for the same clip
    wait for the one upload. A failed upload is forgotten, so a retry sends it again."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[UploadedFile]] = {}
        self._shas: dict[Path, str] = {}

    async def get(self, path: Path, client: FilesClient) -> UploadedFile:
        sha = self._shas.get(path) or await asyncio.to_thread(file_sha256, path)
        self._shas[path] = sha
        task = self._tasks.get(sha)
        if task is None:
            task = self._tasks[sha] = asyncio.ensure_future(client.upload(path))
        try:
            return await asyncio.shield(task)
        except BaseException:
            if task.done() and self._tasks.get(sha) is task:
                del self._tasks[sha]
            raise

    def __len__(self) -> int:
        return len(self._tasks)
