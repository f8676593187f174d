"""``gemini/NAME[@BASE_URL]``: Gemini through the Gemini API's ``generateContent``.

Video is native, as the study fed Gemini: the clip's bytes inline while the
request stays under the API's inline limit (``inline_request_bytes``), else
uploaded through the Files API (``gemini_files``) and named by a ``fileData``
part. Images go inline.

The hot path is the openai backend's (one keep-alive pool, replies validated at
this edge, bodies read under a cap); bodies are the SDK's wire format (camelCase,
checked against ``google.genai.types`` in the tests). The key goes in the
``x-goog-api-key`` header, never in the URL: URLs get logged.

A prompt the API blocks (``promptFeedback.blockReason``) or an answer stopped for
safety is an answer, not an error: empty text, the reason in ``finish_reason``.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from .base import ALL_INPUTS, BackendUnusable, ChatMessage, Generation, GenerationSettings, MalformedReply
from .gemini_files import FilesClient, UploadCache, UploadedFile, video_mime
from .http import (
    ProviderBackend,
    Reply,
    TokenCount,
    check_unsent,
    cut_note,
    error_message,
    parse_retry_after,
    raise_for_status,
    validate_reply,
)

_camel = ConfigDict(extra="ignore", populate_by_name=True)


class _Part(BaseModel):
    model_config = _camel
    text: StrictStr | None = None
    thought: StrictBool | None = None


class _Content(BaseModel):
    model_config = _camel
    parts: list[_Part] = []


class _Candidate(BaseModel):
    model_config = _camel
    content: _Content | None = None
    finish_reason: StrictStr | None = Field(None, alias="finishReason")


class _Feedback(BaseModel):
    model_config = _camel
    block_reason: StrictStr | None = Field(None, alias="blockReason")


class _Usage(BaseModel):
    model_config = _camel
    prompt: TokenCount = Field(None, alias="promptTokenCount")
    candidates: TokenCount = Field(None, alias="candidatesTokenCount")
    thoughts: TokenCount = Field(None, alias="thoughtsTokenCount")


class _Reply(BaseModel):
    """What fourfold uses of a ``GenerateContentResponse``; the rest is ignored."""

    model_config = _camel
    candidates: list[_Candidate] = []
    prompt_feedback: _Feedback | None = Field(None, alias="promptFeedback")
    usage: _Usage | None = Field(None, alias="usageMetadata")
    model_version: StrictStr | None = Field(None, alias="modelVersion")


def parse_reply(raw: bytes, cut_at: int | None = None) -> Generation:
    """A ``generateContent`` body -> ``Generation``; thought parts are not the
    answer, though their tokens count as completion (they are billed so)."""
    reply = validate_reply(_Reply, raw, cut_at)
    usage = reply.usage or _Usage()
    blocked = reply.prompt_feedback.block_reason if reply.prompt_feedback else None
    if not reply.candidates and not blocked:
        raise MalformedReply("malformed reply from server: candidates is missing (and no promptFeedback.blockReason)")
    cand = reply.candidates[0] if reply.candidates else _Candidate()
    parts = cand.content.parts if cand.content else []
    completion = None if usage.candidates is None and usage.thoughts is None else \
        (usage.candidates or 0) + (usage.thoughts or 0)
    return Generation(
        text="".join(p.text or "" for p in parts if not p.thought), served_model=reply.model_version,
        finish_reason=f"blocked: {blocked}" if blocked else cand.finish_reason, prompt_tokens=usage.prompt,
        completion_tokens=completion, truncated=cut_note(cut_at))


def retry_delay(raw: bytes) -> float | None:
    """``RetryInfo.retryDelay`` (``"37s"``) from an error's details: Gemini says
    how long to wait there, seldom in a Retry-After header."""
    m = re.search(rb'"retryDelay"\s*:\s*"([0-9.]+)s"', raw)
    return float(m.group(1)) if m else None


def _inline(path: Path, mime: str) -> dict[str, Any]:
    return {"inlineData": {"mimeType": mime, "data": base64.b64encode(path.read_bytes()).decode("ascii")}}


def to_gemini(messages: list[ChatMessage], uploads: dict[Path, UploadedFile]) -> tuple[str, list[dict[str, Any]]]:
    """(the system instruction, the contents): roles ``user`` and ``model``;
    images inline, videos inline unless ``uploads`` has them (a ``fileData`` part)."""
    system = "\n\n".join(m.text() for m in messages if m.role == "system")
    contents = []
    for m in messages:
        if m.role == "system":
            continue
        parts: list[dict[str, Any]] = []
        for p in m.parts:
            if p.type == "text":
                parts.append({"text": p.text})
            elif p.path is not None and p.path in uploads:
                f = uploads[p.path]
                parts.append({"fileData": {"mimeType": f.mime_type, "fileUri": f.uri}})
            elif p.path is not None:
                mime = video_mime(p.path) if p.type == "video" else \
                    mimetypes.guess_type(p.path.name)[0] or "application/octet-stream"
                parts.append(_inline(p.path, mime))
        contents.append({"role": "model" if m.role == "assistant" else "user", "parts": parts})
    return system, contents


class GeminiBackend(ProviderBackend):
    kind = "gemini"
    syntax = "gemini/NAME[@BASE_URL]"
    accepts = "text, image, multi_image, video (native: inline, or the Files API when large)"
    description = "Gemini through the Gemini API (generateContent); key from GEMINI_API_KEY or GOOGLE_API_KEY"
    capabilities = ALL_INPUTS
    #: Above this many bytes a request sends its videos through the Files API (the
    #: API's inline limit is 20 MB for the whole request); tests lower it.
    inline_request_bytes: ClassVar[int] = 20_000_000

    key_vars = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    base_url_var = "GEMINI_BASE_URL"
    default_base_url = "https://generativelanguage.googleapis.com"

    def __init__(self, spec: str, name: str, base_url: str | None = None, *, timeout_s: float = 300.0):
        super().__init__(spec, name.removeprefix("models/"), base_url, timeout_s=timeout_s)
        self._url = f"{self.base_url}/v1beta/models/{self.name}:generateContent"
        self.uploads = UploadCache()

    async def identity(self) -> dict[str, Any]:
        return {"backend": "gemini", "model": self.name, "base_url": self.base_url,
                "accepts": self.capabilities.names()}

    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", "x-goog-api-key": self.key()}

    def generation_config(self, settings: GenerationSettings) -> dict[str, Any]:
        """Every decoding setting the API has, sent explicitly (its defaults vary by
        model). The penalties only when not 0 (the API's own neutral value; some
        models reject them at all); ``topK`` only when set: 0 (no cut) has no wire
        form, so the model's own top-k applies, which temperature 0 never reaches."""
        config: dict[str, Any] = {"candidateCount": 1, "temperature": settings.temperature, "topP": settings.top_p,
                                  "maxOutputTokens": settings.max_tokens, "seed": settings.seed}
        for name, wire in (("top_k", "topK"), ("presence_penalty", "presencePenalty"),
                           ("frequency_penalty", "frequencyPenalty")):
            if getattr(settings, name, 0):
                config[wire] = getattr(settings, name)
        check_unsent(settings, {"top_k", "presence_penalty", "frequency_penalty"}, self.kind)
        if settings.json_schema:
            config["responseMimeType"] = "application/json"
            config["responseJsonSchema"] = settings.json_schema
        return config

    def request_body(self, messages: list[ChatMessage], settings: GenerationSettings,
                     uploads: dict[Path, UploadedFile] | None = None) -> dict[str, Any]:
        system, contents = to_gemini(messages, uploads or {})
        body: dict[str, Any] = {"contents": contents, "generationConfig": self.generation_config(settings)}
        if system:
            body["systemInstruction"] = {"parts": [{"text": system}]}
        return body

    async def _uploads(self, messages: list[ChatMessage]) -> dict[Path, UploadedFile]:
        """The videos to send through the Files API: all of them when the request
        would pass the inline limit with them inline (base64 is 4/3 the bytes)."""
        media = [p.path for m in messages for p in m.parts if p.path is not None]
        videos = [p.path for m in messages for p in m.parts if p.type == "video" and p.path is not None]
        if not videos:
            return {}
        size = sum(len(p.text) for m in messages for p in m.parts) + sum(4 * (path.stat().st_size + 2) // 3
                                                                          for path in media)
        if size + 4096 <= self.inline_request_bytes:
            return {}
        client = FilesClient(self.base_url, self.http(), self.headers())
        return {path: await self.uploads.get(path, client) for path in videos}

    async def generate(self, messages: list[ChatMessage], settings: GenerationSettings) -> Generation:
        uploads = await self._uploads(messages)
        return parse_reply(*await self.send(self._url, self.request_body(messages, settings, uploads)))

    def raise_error(self, r: Reply) -> None:
        msg = error_message(r.raw) or f"HTTP {r.status}"
        if r.status == 400 and b"API_KEY_INVALID" in r.raw:  # Gemini answers a bad key with 400
            raise BackendUnusable(f"HTTP 400: {msg}")
        # RESOURCE_EXHAUSTED (429), INTERNAL (500) and UNAVAILABLE (503) are transient
        raise_for_status(r.status, msg, parse_retry_after(r.headers.get("Retry-After")) or retry_delay(r.raw))
