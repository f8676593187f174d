"""The openai backend at the protocol level: requests checked against the
official SDK's types, responses made by the SDK's own models, and a canned
HTTP fixture server for errors, Retry-After and images."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from pathlib import Path

import pytest
from aiohttp import web
from openai.types.chat import ChatCompletion
from openai.types.chat.completion_create_params import CompletionCreateParamsNonStreaming
from pydantic import TypeAdapter

from conftest import start_chat_server
from fourfold.cases import load_file
from fourfold.models import ChatMessage, ChatPart, GenerationSettings, MalformedReply, PermanentError, TransientError
from fourfold.models.openai import OpenAIBackend, parse_retry_after
from fourfold.run import RunConfig, Runner
from fourfold.store import Store

PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==")


def _completion(text: str, model: str = "canned-model") -> dict:
    """A response built by the SDK's own type, so the wire shape is the API's."""
    return ChatCompletion.model_validate({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }).model_dump(mode="json")


class CannedServer:
    """aiohttp server on loopback answering from a script of canned responses."""

    def __init__(self, script: list[web.Response]):
        self.script = script
        self.requests: list[dict] = []
        self.times: list[float] = []

    async def handler(self, request: web.Request) -> web.Response:
        self.requests.append({"body": await request.json(), "headers": dict(request.headers)})
        self.times.append(time.monotonic())
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    async def __aenter__(self) -> str:
        self.runner, url = await start_chat_server(self.handler)
        return url

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()


def test_request_body_matches_sdk_types(tmp_path: Path):
    img = tmp_path / "x.png"
    img.write_bytes(PNG_1PX)
    b = OpenAIBackend("openai/m", "m", "http://127.0.0.1:1/v1")
    msgs = [ChatMessage("system", (ChatPart("text", text="be brief"),)),
            ChatMessage("user", (ChatPart("text", text="what is this?"), ChatPart("image", path=img)))]
    body = b.request_body(msgs, GenerationSettings())
    TypeAdapter(CompletionCreateParamsNonStreaming).validate_python(body)
    assert body["messages"][0] == {"role": "system", "content": "be brief"}
    url = body["messages"][1]["content"][1]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == PNG_1PX
    assert body["temperature"] == 0 and body["seed"] == 1234


def test_response_parsed_and_served_model_recorded():
    async def go() -> None:
        server = CannedServer([web.json_response(_completion("Paris", model="gpt-canned-2024"))])
        async with server as url:
            b = OpenAIBackend(f"openai/x@{url}", "x", url)
            gen = await b.generate([ChatMessage("user", (ChatPart("text", text="capital of France?"),))],
                                   GenerationSettings())
            await b.aclose()
        assert gen.text == "Paris" and gen.served_model == "gpt-canned-2024"
        assert gen.prompt_tokens == 5 and gen.completion_tokens == 2
        assert server.requests[0]["body"]["model"] == "x"
    asyncio.run(go())


def test_error_classes(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-canned-secret-abcdef123456")

    async def go() -> None:
        script = [
            web.json_response({"error": {"message": "slow down"}}, status=429, headers={"Retry-After": "7"}),
            web.json_response({"error": {"message": "Incorrect API key provided: sk-canned-secret-abcdef123456"}},
                              status=401),
            web.Response(text="not json", status=200),
        ]
        async with CannedServer(script) as url:
            b = OpenAIBackend(f"openai/x@{url}", "x", url)
            msg = [ChatMessage("user", (ChatPart("text", text="hi"),))]
            with pytest.raises(TransientError) as e1:
                await b.generate(msg, GenerationSettings())
            assert e1.value.retry_after == 7
            with pytest.raises(PermanentError):
                await b.generate(msg, GenerationSettings())
            with pytest.raises(MalformedReply, match="the body is not JSON"):  # stored as this case's error, not retried
                await b.generate(msg, GenerationSettings())
            await b.aclose()
    asyncio.run(go())


def test_retry_after_date_form():
    from email.utils import formatdate

    # an HTTP date 60 s ahead (whole seconds): 59-60 s, less however long this machine takes to get here
    assert 30.0 < parse_retry_after(formatdate(time.time() + 60, usegmt=True)) <= 60.0  # type: ignore[operator]
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after("garbage") is None


def _one_case(tmp_path: Path) -> Path:
    f = tmp_path / "c.jsonl"
    f.write_text('{"id": "c1", "cell": "text/generalizability", "category": "math", '
                 '"input": "2+2? Answer: <n>", "reference": {"kind": "numeric", "answer": 4}}\n')
    return f


def test_runner_honours_retry_after_and_redacts_errors(tmp_path: Path, monkeypatch):
    secret = "sk-canned-secret-zyx987654321"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    cases = load_file(_one_case(tmp_path))

    async def go() -> None:
        script = [web.json_response({"error": {"message": "busy"}}, status=429, headers={"Retry-After": "1"}),
                  web.json_response(_completion("Answer: 4"))]
        server = CannedServer(script)
        async with server as url:
            store = Store(tmp_path / "r.db")
            runner = Runner(store, RunConfig(progress=False, backoff_base_s=0.01))
            await runner.run(cases, [OpenAIBackend(f"openai/x@{url}", "x", url)])
        assert server.times[1] - server.times[0] >= 0.95, "Retry-After: 1 must be waited out"
        assert server.requests[0]["headers"]["Authorization"] == f"Bearer {secret}"
        row = store.latest_results()[0]
        assert row.status == "ok" and row.verdict == "good" and row.attempts == 2

        # a permanent error is stored as error (retried next run), with the key redacted
        script2 = [web.json_response({"error": {"message": f"bad request for key {secret}"}}, status=400)]
        async with CannedServer(script2) as url2:
            store2 = Store(tmp_path / "r2.db")
            await Runner(store2, RunConfig(progress=False)).run(cases, [OpenAIBackend(f"openai/y@{url2}", "y", url2)])
        row2 = store2.latest_results()[0]
        assert row2.status == "error" and "400" in row2.error
        assert secret not in row2.error and secret not in (row2.rationale or "")
        assert secret.encode() not in (tmp_path / "r2.db").read_bytes()
        for extra in tmp_path.glob("r2.db-*"):
            assert secret.encode() not in extra.read_bytes()
    asyncio.run(go())


def test_unusable_backend_stops_at_once_and_exits_1(tmp_path: Path, monkeypatch):
    """A wrong key (401) or an unknown model (404) fails every case alike: the run
    stops that model after the requests already in flight, records nothing for
    it (the next run, once fixed, sends them all), and says why."""
    secret = "sk-wrong-key-0123456789abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    f = tmp_path / "c.jsonl"
    f.write_text("".join(json.dumps({"id": f"c{i}", "cell": "text/generalizability", "category": "math",
                                     "input": f"{i}+1?", "reference": {"kind": "numeric", "answer": i + 1}}) + "\n"
                         for i in range(40)))

    async def go() -> tuple[CannedServer, Store, object]:
        script = [web.json_response({"error": {"message": f"Incorrect API key provided: {secret}"}}, status=401)
                  for _ in range(8)]
        server = CannedServer(script)
        async with server as url:
            store = Store(tmp_path / "r.db")
            summary = await Runner(store, RunConfig(progress=False, concurrency=4)).run(
                load_file(f), [OpenAIBackend(f"openai/x@{url}", "x", url)])
        return server, store, summary

    server, store, summary = asyncio.run(go())
    assert len(server.requests) <= 4, "only the requests already in flight"
    assert store.latest_results() == []
    ms = summary.models[0]  # type: ignore[attr-defined]
    assert ms.stopped and "401" in ms.stopped and secret not in ms.stopped
