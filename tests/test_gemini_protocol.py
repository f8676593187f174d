"""The gemini backend at the protocol level: bodies checked against the official
google-genai SDK's types and compared with what the SDK sends, replies built by the
SDK's own models, and a canned-response server (canned_gemini_server) that also
speaks the Files API's resumable upload: images inline, video inline under the
limit and uploaded (once) above it, errors, RetryInfo, RESOURCE_EXHAUSTED, blocked
prompts; then a whole ``fourfold run`` with the key kept out of everything stored."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from google import genai
from google.genai import types

from canned_providers import Canned, CannedServer, Seen, assert_key_nowhere, ok, run_cases, text_cases
from conftest import fourfold, red_rectangle_case
from fourfold.cases.media.encode import encode_video
from fourfold.models import (
    BackendUnusable,
    ChatMessage,
    ChatPart,
    Generation,
    GenerationSettings,
    MalformedReply,
    PermanentError,
    TransientError,
    create_backend,
)
from fourfold.models.gemini import GeminiBackend
from fourfold.models.gemini_files import FilesClient
from fourfold.store import Store

KEY = "AIzaCannedSecretKey0123456789abcdefXYZ"
PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==")


def dump(model: types.BaseModel) -> dict:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def answer(text: str, finish: str = "STOP") -> Canned:
    """A reply built by the SDK's own type, so the wire shape is the API's."""
    return ok(dump(types.GenerateContentResponse.model_validate({
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": finish}],
        "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 2, "thoughtsTokenCount": 1},
        "modelVersion": "gemini-canned-001"})))


def gerror(code: int, status: str, message: str, *details: dict, **headers: str) -> Canned:
    return code, {"error": {"code": code, "status": status, "message": message, "details": list(details)}}, headers


class CannedGeminiServer(CannedServer):
    """generateContent from the script; the Files API from fixed replies: a start
    gives an upload URL, the final chunk a PROCESSING file, which the first poll
    finds ACTIVE."""

    def __init__(self, script: list[Canned]):
        super().__init__(script)
        self.uploaded: dict[str, bytearray] = {}
        self.polls = 0

    def _file(self, n: str, state: str, mime: str = "video/mp4") -> dict:
        return dump(types.File(name=f"files/{n}", uri=f"{self.base_url}/v1beta/files/{n}", mime_type=mime,
                               state=types.FileState(state)))

    def answer(self, seen: Seen) -> Canned:
        command = seen.headers.get("X-Goog-Upload-Command", "")
        if seen.path.endswith(":generateContent"):
            return self.next_reply()
        if seen.path.startswith("/upload/") and command == "start":
            n = f"u{len(self.uploaded)}"
            self.uploaded[n] = bytearray()
            return ok({}, **{"X-Goog-Upload-URL": f"{self.base_url}/upload/v1beta/files?upload_id={n}",
                             "X-Goog-Upload-Status": "active"})
        if seen.path.startswith("/upload/"):
            n = seen.query["upload_id"]
            self.uploaded[n] += seen.body
            if "finalize" in command:
                return ok({"file": self._file(n, "PROCESSING")}, **{"X-Goog-Upload-Status": "final"})
            return ok({}, **{"X-Goog-Upload-Status": "active"})
        if seen.method == "GET" and seen.path.startswith("/v1beta/files/"):
            self.polls += 1
            return ok(self._file(seen.path.rsplit("/", 1)[1], "ACTIVE"))
        return 404, {"error": {"code": 404, "message": f"no route {seen.path}", "status": "NOT_FOUND"}}, {}


@pytest.fixture
def canned_gemini_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[CannedGeminiServer]:
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    monkeypatch.setattr(FilesClient, "poll_s", 0.01)
    with CannedGeminiServer([answer("Paris")]) as server:
        yield server


def _backend(server: CannedServer) -> GeminiBackend:
    return create_backend(f"gemini/gemini-x@{server.base_url}")  # type: ignore[return-value]


def _clip(tmp_path: Path, name: str = "clip.mp4") -> Path:
    frames = [np.full((48, 64, 3), i * 12, np.uint8) for i in range(16)]
    encode_video(frames, tmp_path / name, fps=8)
    return tmp_path / name


def _msgs(tmp_path: Path, n_images: int = 1, video: Path | None = None) -> list[ChatMessage]:
    parts = []
    for i in range(n_images):
        (tmp_path / f"i{i}.png").write_bytes(PNG_1PX)
        parts.append(ChatPart("image", path=tmp_path / f"i{i}.png"))
    if video is not None:
        parts.append(ChatPart("video", path=video))
    return [ChatMessage("system", (ChatPart("text", text="be brief"),)),
            ChatMessage("user", (*parts, ChatPart("text", text="what is this?")))]


def _generate(b: GeminiBackend, *calls: list[ChatMessage], settings: GenerationSettings | None = None
              ) -> list[Generation]:
    async def go() -> list[Generation]:
        try:
            return list(await asyncio.gather(*(b.generate(m, settings or GenerationSettings()) for m in calls)))
        finally:
            await b.aclose()
    return asyncio.run(go())


def test_request_body_matches_sdk_types(tmp_path: Path, canned_gemini_server: CannedGeminiServer):
    b = _backend(canned_gemini_server)
    body = b.request_body(_msgs(tmp_path, n_images=2, video=_clip(tmp_path)), GenerationSettings(max_tokens=77))
    assert set(body) == {"contents", "generationConfig", "systemInstruction"}
    for content in (*body["contents"], body["systemInstruction"]):
        types.Content.model_validate(content)  # the SDK's models forbid unknown fields
    config = types.GenerateContentConfig.model_validate(body["generationConfig"])
    assert (config.temperature, config.top_p, config.max_output_tokens, config.seed, config.candidate_count) == (
        0.0, 1.0, 77, 1234, 1)
    parts = body["contents"][0]["parts"]
    assert [next(iter(p)) for p in parts] == ["inlineData", "inlineData", "inlineData", "text"]
    assert parts[0]["inlineData"]["mimeType"] == "image/png"
    assert parts[2]["inlineData"]["mimeType"] == "video/mp4"
    assert base64.b64decode(parts[2]["inlineData"]["data"]) == (tmp_path / "clip.mp4").read_bytes()
    schema = {"type": "object", "properties": {"v": {"type": "string"}}, "required": ["v"]}
    constrained = b.request_body(_msgs(tmp_path), GenerationSettings(json_schema=schema, top_k=5))
    cfg = types.GenerateContentConfig.model_validate(constrained["generationConfig"])
    assert (cfg.response_mime_type, cfg.response_json_schema, cfg.top_k) == ("application/json", schema, 5)
    with pytest.raises(BackendUnusable, match="gemini/ has no min_p parameter"):
        b.request_body(_msgs(tmp_path), GenerationSettings(min_p=0.1))


def test_sdk_and_backend_send_the_same_request(tmp_path: Path, canned_gemini_server: CannedGeminiServer):
    """The official client, pointed at the canned server, parses its reply; and
    fourfold's request is the one the SDK sends for the same contents and config."""
    server = canned_gemini_server
    b = _backend(server)
    msgs = _msgs(tmp_path)
    body = b.request_body(msgs, GenerationSettings())
    client = genai.Client(api_key=KEY, http_options=types.HttpOptions(base_url=server.base_url, api_version="v1beta"))
    config = types.GenerateContentConfig.model_validate(body["generationConfig"]).model_copy(
        update={"system_instruction": types.Content.model_validate(body["systemInstruction"])})
    reply = client.models.generate_content(model="gemini-x", contents=[types.Content.model_validate(c)
                                                                       for c in body["contents"]], config=config)
    assert reply.text == "Paris"
    [gen] = _generate(b, msgs)
    sdk, ours = server.seen
    assert ours.path == sdk.path == "/v1beta/models/gemini-x:generateContent"
    assert ours.query == sdk.query == {}, "the key never goes in the URL"
    assert ours.headers["x-goog-api-key"] == sdk.headers["x-goog-api-key"] == KEY
    theirs = sdk.json()
    assert ours.json()["generationConfig"] == theirs["generationConfig"]
    # the SDK writes inlineData's mime type in snake case; the API reads both spellings
    assert [types.Content.model_validate(c) for c in ours.json()["contents"]] == \
        [types.Content.model_validate(c) for c in theirs["contents"]]
    assert types.Content.model_validate(ours.json()["systemInstruction"]).parts == \
        types.Content.model_validate(theirs["systemInstruction"]).parts
    assert (gen.text, gen.served_model, gen.finish_reason) == ("Paris", "gemini-canned-001", "STOP")
    assert (gen.prompt_tokens, gen.completion_tokens) == (9, 3)  # thinking tokens are billed as output


def test_large_video_goes_through_the_files_api_once(tmp_path: Path, canned_gemini_server: CannedGeminiServer,
                                                      monkeypatch: pytest.MonkeyPatch):
    server = canned_gemini_server
    monkeypatch.setattr(GeminiBackend, "inline_request_bytes", 1000)
    clip = _clip(tmp_path)
    b = _backend(server)
    gens = _generate(b, _msgs(tmp_path, 0, clip), _msgs(tmp_path, 0, clip), _msgs(tmp_path, 1, clip))
    assert [g.text for g in gens] == ["Paris"] * 3
    starts = [s for s in server.seen if s.headers.get("X-Goog-Upload-Command") == "start"]
    chunks = [s for s in server.seen if s.query.get("upload_id")]
    assert len(starts) == 1 and len(chunks) == 1, "one upload for three requests with the same clip"
    assert bytes(server.uploaded["u0"]) == clip.read_bytes()
    start = starts[0]
    assert start.path == "/upload/v1beta/files" and start.headers["x-goog-api-key"] == KEY
    assert (start.headers["X-Goog-Upload-Protocol"], start.headers["X-Goog-Upload-Header-Content-Length"],
            start.headers["X-Goog-Upload-Header-Content-Type"]) == ("resumable", str(clip.stat().st_size), "video/mp4")
    assert chunks[0].headers["X-Goog-Upload-Command"] == "upload, finalize"
    assert chunks[0].headers["X-Goog-Upload-Offset"] == "0" and "x-goog-api-key" not in chunks[0].headers
    assert server.polls == 1, "PROCESSING until polled once"
    for s in server.seen:
        assert KEY not in s.path and KEY not in json.dumps(s.query)
    for s in (x for x in server.seen if x.path.endswith(":generateContent")):
        video = [p for p in s.json()["contents"][0]["parts"] if "fileData" in p]
        assert video == [{"fileData": {"mimeType": "video/mp4", "fileUri": f"{server.base_url}/v1beta/files/u0"}}]
        types.Content.model_validate(s.json()["contents"][0])
    # under the limit the same clip goes inline, and nothing more is uploaded
    monkeypatch.setattr(GeminiBackend, "inline_request_bytes", 20_000_000)
    _generate(_backend(server), _msgs(tmp_path, 0, clip))
    assert "inlineData" in server.seen[-1].json()["contents"][0]["parts"][0] and len(server.uploaded) == 1


def test_the_canned_files_api_speaks_the_sdk_protocol(tmp_path: Path, canned_gemini_server: CannedGeminiServer):
    """The SDK's own upload works against the canned server, with the headers
    fourfold's upload sends (so the test above checks the real protocol)."""
    server = canned_gemini_server
    clip = _clip(tmp_path)
    client = genai.Client(api_key=KEY, http_options=types.HttpOptions(base_url=server.base_url, api_version="v1beta"))
    f = client.files.upload(file=clip)
    assert f.state == types.FileState.PROCESSING and f.uri and bytes(server.uploaded["u0"]) == clip.read_bytes()
    assert client.files.get(name=f.name).state == types.FileState.ACTIVE  # type: ignore[arg-type]
    sdk_start, sdk_chunk = server.seen[0], server.seen[1]
    assert sdk_start.path == "/upload/v1beta/files" and sdk_start.headers["X-Goog-Upload-Command"] == "start"
    for h in ("X-Goog-Upload-Protocol", "X-Goog-Upload-Header-Content-Length", "X-Goog-Upload-Header-Content-Type"):
        assert sdk_start.headers[h] in ("resumable", str(clip.stat().st_size), "video/mp4"), h
    assert (sdk_chunk.headers["X-Goog-Upload-Command"], sdk_chunk.headers["X-Goog-Upload-Offset"]) == (
        "upload, finalize", "0")


def test_errors_overload_and_refusals(tmp_path: Path, canned_gemini_server: CannedGeminiServer):
    server = canned_gemini_server
    retry = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12s"}
    bad_key = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
    server.script = [
        gerror(429, "RESOURCE_EXHAUSTED", "quota exceeded", retry),
        gerror(503, "UNAVAILABLE", "The model is overloaded."),
        gerror(500, "INTERNAL", "internal error"),
        gerror(400, "INVALID_ARGUMENT", "bad request"),
        gerror(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", bad_key),
        gerror(403, "PERMISSION_DENIED", "denied"),
        ok({"candidates": [{"content": {"parts": [{"text": 5}]}}]}),
        ok({"usageMetadata": {"promptTokenCount": 3}}),
        ok(dump(types.GenerateContentResponse.model_validate(
            {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 4}}))),
        ok(dump(types.GenerateContentResponse.model_validate({"candidates": [{"finishReason": "SAFETY"}]}))),
    ]
    b = _backend(server)
    msg = [ChatMessage("user", (ChatPart("text", text="hi"),))]

    async def go() -> list[Generation]:
        with pytest.raises(TransientError, match="quota exceeded") as e429:
            await b.generate(msg, GenerationSettings())
        assert e429.value.retry_after == 12
        for what in ("overloaded", "internal error"):
            with pytest.raises(TransientError, match=what):
                await b.generate(msg, GenerationSettings())
        with pytest.raises(PermanentError, match="HTTP 400: bad request") as e400:
            await b.generate(msg, GenerationSettings())
        assert not isinstance(e400.value, BackendUnusable)
        for what in ("API key not valid", "HTTP 403: denied"):
            with pytest.raises(BackendUnusable, match=what):
                await b.generate(msg, GenerationSettings())
        with pytest.raises(MalformedReply, match=r"candidates\.0\.content\.parts\.0\.text must be a string"):
            await b.generate(msg, GenerationSettings())
        with pytest.raises(MalformedReply, match="candidates is missing"):
            await b.generate(msg, GenerationSettings())
        out = [await b.generate(msg, GenerationSettings()) for _ in range(2)]
        await b.aclose()
        return out
    blocked, stopped = asyncio.run(go())
    assert (blocked.text, blocked.finish_reason, blocked.prompt_tokens) == ("", "blocked: SAFETY", 4)
    assert (stopped.text, stopped.finish_reason) == ("", "SAFETY")


def test_runner_retries_resource_exhausted_and_malformed_costs_one_case(
        tmp_path: Path, canned_gemini_server: CannedGeminiServer):
    server = canned_gemini_server
    server.script = [gerror(429, "RESOURCE_EXHAUSTED", "quota", **{"Retry-After": "1"}), answer("Answer: 1"),
                     ok({"candidates": "nope"}), answer("Answer: 3")]

    store, _ = run_cases(tmp_path / "r.db", text_cases(tmp_path), _backend(server))
    rows = {r.case_id: r for r in store.latest_results()}
    assert server.seen[1].at - server.seen[0].at >= 0.95, "Retry-After: 1 must be waited out"
    assert rows["t0"].status == "ok" and rows["t0"].attempts == 2 and rows["t0"].verdict == "good"
    assert rows["t1"].status == "error" and "candidates must be a JSON array" in (rows["t1"].error or "")
    assert rows["t2"].status == "ok" and rows["t2"].completion_tokens == 3


def test_fourfold_run_end_to_end_keeps_the_key_out(tmp_path: Path, canned_gemini_server: CannedGeminiServer):
    server = canned_gemini_server
    server.script = [answer("Answer: 1"), answer("Answer: 2"), answer("Answer: 3"), answer("red")]
    (tmp_path / "img").mkdir()
    image_cases, _ = red_rectangle_case(tmp_path / "img", 32, 48, "What colour is the rectangle?")
    out = tmp_path / "out"
    r = fourfold("run", "--model", f"gemini/gemini-x@{server.base_url}", "--cases", str(text_cases(tmp_path)),
                 "--cases", str(image_cases), "--out", str(out), "--concurrency", "1", "--no-progress")
    assert len(server.seen) == 4 and all(s.headers["x-goog-api-key"] == KEY and not s.query for s in server.seen)
    inline = [p for s in server.seen for p in s.json()["contents"][0]["parts"] if "inlineData" in p]
    assert len(inline) == 1 and inline[0]["inlineData"]["mimeType"] == "image/png"
    rows = Store(out / "results.db").latest_results()
    assert sorted((x.case_id, x.status) for x in rows) == [("img/red", "ok"), ("t0", "ok"), ("t1", "ok"), ("t2", "ok")]
    assert all(x.served_model == "gemini-canned-001" and x.prompt_tokens == 9 for x in rows)
    assert_key_nowhere(KEY, out, r.stdout, r.stderr)


def test_missing_key_is_one_line_exit_1_nothing_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for var in ("GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    r = fourfold("run", "--model", "gemini/gemini-x", "--cases", str(text_cases(tmp_path)),
                 "--out", str(tmp_path / "out"), "--no-progress", check=False)
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip() == "fourfold: error: gemini/ needs an API key: set GEMINI_API_KEY or GOOGLE_API_KEY"
    assert not (tmp_path / "out" / "results.db").exists()
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)  # the other name is taken too
    assert isinstance(create_backend("gemini/gemini-x"), GeminiBackend)
