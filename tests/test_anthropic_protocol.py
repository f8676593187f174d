"""The anthropic backend at the protocol level: request bodies checked against the
official SDK's types and compared with what the SDK itself sends, replies built by
the SDK's own models, and a canned-response server (canned_anthropic_server) for
images, errors, Retry-After, overload (529) and malformed replies; then a whole
``fourfold run`` against it, with the key kept out of everything stored."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path

import anthropic
import pytest
from anthropic.types import Message
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
from pydantic import TypeAdapter

from canned_providers import Canned, CannedServer, assert_key_nowhere, error, ok, run_cases, text_cases
from conftest import fourfold, red_rectangle_case
from fourfold.models import (
    BackendUnusable,
    ChatMessage,
    ChatPart,
    GenerationSettings,
    MalformedReply,
    ModelSpecError,
    PermanentError,
    TransientError,
    create_backend,
)
from fourfold.models.anthropic import API_VERSION, AnthropicBackend
from fourfold.store import Store

KEY = "sk-ant-canned-secret-0123456789abcdef"
PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==")


def message(text: str, stop: str = "end_turn", model: str = "claude-canned-1") -> Canned:
    """A reply built by the SDK's own type, so the wire shape is the API's."""
    return ok(Message.model_validate({
        "id": "msg_1", "type": "message", "role": "assistant", "model": model, "stop_reason": stop,
        "stop_sequence": None, "content": [{"type": "text", "text": text}],
        "usage": {"input_tokens": 11, "output_tokens": 3}}).model_dump(mode="json"))


@pytest.fixture
def canned_anthropic_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[CannedServer]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with CannedServer([message("Paris")]) as server:
        yield server


def _backend(server: CannedServer, name: str = "claude-x") -> AnthropicBackend:
    return create_backend(f"anthropic/{name}@{server.base_url}")  # type: ignore[return-value]


def _msgs(tmp_path: Path, n_images: int = 1) -> list[ChatMessage]:
    parts = []
    for i in range(n_images):
        (tmp_path / f"i{i}.png").write_bytes(PNG_1PX)
        parts.append(ChatPart("image", path=tmp_path / f"i{i}.png"))
    return [ChatMessage("system", (ChatPart("text", text="be brief"),)),
            ChatMessage("user", (*parts, ChatPart("text", text="what is this?")))]


#: What the API still takes on the models that sample, though the SDK (1.x on) sends it through extra_body.
SAMPLING = {"temperature", "top_p", "top_k"}


def _check_sdk_types(body: dict) -> None:
    TypeAdapter(MessageCreateParamsNonStreaming).validate_python(body)
    unknown = set(body) - set(MessageCreateParamsNonStreaming.__annotations__) - SAMPLING
    assert not unknown, f"not in the SDK's MessageCreateParams: {unknown}"


def _sdk_kwargs(body: dict) -> dict:
    """``body`` as the SDK's ``messages.create`` arguments (sampling in extra_body)."""
    return {**{k: v for k, v in body.items() if k not in SAMPLING},
            "extra_body": {k: v for k, v in body.items() if k in SAMPLING}}


def test_request_body_matches_sdk_types(tmp_path: Path, canned_anthropic_server: CannedServer):
    b = _backend(canned_anthropic_server)
    body = b.request_body(_msgs(tmp_path, n_images=2), GenerationSettings(max_tokens=77))
    _check_sdk_types(body)
    assert body["system"] == "be brief" and [m["role"] for m in body["messages"]] == ["user"]
    blocks = body["messages"][0]["content"]
    assert [b["type"] for b in blocks] == ["image", "image", "text"]
    assert blocks[0]["source"]["media_type"] == "image/png"
    assert base64.b64decode(blocks[0]["source"]["data"]) == PNG_1PX
    # every decoding setting is explicit; top_p at 1.0 is a no-op recent models refuse beside temperature
    assert (body["max_tokens"], body["temperature"], "top_p" in body) == (77, 0.0, False)
    assert b.request_body(_msgs(tmp_path), GenerationSettings(top_p=0.9))["top_p"] == 0.9
    schema = {"type": "object", "properties": {"v": {"type": "string"}}, "required": ["v"],
              "additionalProperties": False}
    constrained = b.request_body(_msgs(tmp_path), GenerationSettings(json_schema=schema))
    _check_sdk_types(constrained)
    assert constrained["output_config"] == {"format": {"type": "json_schema", "schema": schema}}


def test_sdk_and_backend_send_the_same_request(tmp_path: Path, canned_anthropic_server: CannedServer):
    """The official client, pointed at the canned server, parses its reply; and
    fourfold's request is byte for byte the JSON the SDK sends for the same body."""
    server = canned_anthropic_server
    b = _backend(server)
    msgs, settings = _msgs(tmp_path), GenerationSettings()
    body = b.request_body(msgs, settings)
    client = anthropic.Anthropic(api_key=KEY, base_url=server.base_url, max_retries=0)
    reply = client.messages.create(**_sdk_kwargs(body))
    assert reply.content[0].text == "Paris" and reply.usage.output_tokens == 3  # type: ignore[union-attr]

    async def go() -> object:
        try:
            return await b.generate(msgs, settings)
        finally:
            await b.aclose()
    gen = asyncio.run(go())
    sdk, ours = server.seen
    assert ours.method == sdk.method == "POST" and ours.path == sdk.path == "/v1/messages"
    assert ours.json() == sdk.json() == json.loads(json.dumps(body))
    # The SDK (2.x) sends the key as a bearer token and its newest version date; fourfold
    # keeps the documented x-api-key and 2023-06-01, which the API and every
    # Anthropic-compatible server take, under which this body format is defined.
    assert sdk.headers.get("x-api-key", sdk.headers.get("Authorization", "").removeprefix("Bearer ")) == KEY
    assert ours.headers["anthropic-version"] == API_VERSION == "2023-06-01" and ours.headers["x-api-key"] == KEY
    assert gen.text == "Paris" and gen.served_model == "claude-canned-1"  # type: ignore[attr-defined]
    assert (gen.prompt_tokens, gen.completion_tokens, gen.finish_reason) == (11, 3, "end_turn")  # type: ignore[attr-defined]


def test_error_classes(canned_anthropic_server: CannedServer):
    server = canned_anthropic_server
    server.script = [
        error(429, "rate limited", "rate_limit_error", **{"Retry-After": "7"}),
        error(529, "Overloaded", "overloaded_error"),
        error(400, "prompt is too long", "invalid_request_error"),
        error(401, f"invalid x-api-key {KEY}", "authentication_error"),
        error(403, "no access to this model", "permission_error"),
        ok({"content": "not a list", "model": "m"}),
        ok({"content": [{"type": "text", "text": 5}]}),
        message("I can't help with that.", stop="refusal"),
    ]
    b = _backend(server)
    msg = [ChatMessage("user", (ChatPart("text", text="hi"),))]

    async def go() -> object:
        with pytest.raises(TransientError) as e429:
            await b.generate(msg, GenerationSettings())
        assert e429.value.retry_after == 7
        with pytest.raises(TransientError, match="HTTP 529: Overloaded"):
            await b.generate(msg, GenerationSettings())
        with pytest.raises(PermanentError, match="HTTP 400: prompt is too long") as e400:
            await b.generate(msg, GenerationSettings())
        assert not isinstance(e400.value, BackendUnusable)
        for status in (401, 403):  # every case would fail alike: the runner stops the model
            with pytest.raises(BackendUnusable, match=f"HTTP {status}"):
                await b.generate(msg, GenerationSettings())
        with pytest.raises(MalformedReply, match="content must be a JSON array"):
            await b.generate(msg, GenerationSettings())
        with pytest.raises(MalformedReply, match=r"content\.0\.text must be a string \(got integer\)"):
            await b.generate(msg, GenerationSettings())
        refusal = await b.generate(msg, GenerationSettings())  # a refusal is an answer
        await b.aclose()
        return refusal
    refusal = asyncio.run(go())
    assert refusal.finish_reason == "refusal" and refusal.text == "I can't help with that."  # type: ignore[attr-defined]


def test_no_sampling_option_and_the_deprecation_reply(tmp_path: Path, canned_anthropic_server: CannedServer):
    """The newest models refuse temperature: the reply names ``#no-sampling``, which
    sends none and has its own identity; a setting the API lacks is not dropped silently."""
    server = canned_anthropic_server
    server.script = [error(400, "`temperature` is deprecated for this model.", "invalid_request_error"),
                     message("ok")]
    sampled, plain = _backend(server), create_backend(f"anthropic/claude-x@{server.base_url}#no-sampling")
    msg = [ChatMessage("user", (ChatPart("text", text="hi"),))]

    async def go() -> tuple[dict, dict]:
        with pytest.raises(BackendUnusable, match="run it as anthropic/claude-x#no-sampling"):
            await sampled.generate(msg, GenerationSettings())
        assert (await plain.generate(msg, GenerationSettings())).text == "ok"
        for b in (sampled, plain):
            await b.aclose()
        return await sampled.identity(), await plain.identity()
    ident_sampled, ident_plain = asyncio.run(go())
    assert ident_sampled != ident_plain and "#no-sampling" in ident_plain["sampling"]
    assert SAMPLING.isdisjoint(server.seen[1].json()) and server.seen[0].json()["temperature"] == 0
    with pytest.raises(BackendUnusable, match="anthropic/ has no repeat_penalty parameter"):
        plain.request_body(msg, GenerationSettings(repeat_penalty=1.1))
    with pytest.raises(ModelSpecError, match="unknown option #nosampling"):
        create_backend(f"anthropic/claude-x@{server.base_url}#nosampling")


def test_runner_retries_overload_and_malformed_costs_one_case(tmp_path: Path, canned_anthropic_server: CannedServer):
    server = canned_anthropic_server
    server.script = [error(529, "Overloaded", "overloaded_error", **{"Retry-After": "1"}), message("Answer: 1"),
                     ok({"content": 7}), message("Answer: 3")]

    store, _ = run_cases(tmp_path / "r.db", text_cases(tmp_path), _backend(server))
    rows = {r.case_id: r for r in store.latest_results()}
    assert server.seen[1].at - server.seen[0].at >= 0.95, "Retry-After: 1 must be waited out"
    assert rows["t0"].status == "ok" and rows["t0"].attempts == 2 and rows["t0"].verdict == "good"
    assert rows["t1"].status == "error" and "content must be a JSON array" in (rows["t1"].error or "")
    assert rows["t2"].status == "ok" and rows["t2"].prompt_tokens == 11


def test_bad_key_stops_the_model_and_records_nothing(tmp_path: Path, canned_anthropic_server: CannedServer):
    server = canned_anthropic_server
    server.script = [error(401, f"invalid x-api-key: {KEY}", "authentication_error")]

    store, summary = run_cases(tmp_path / "r.db", text_cases(tmp_path, 10), _backend(server), concurrency=2)
    assert store.latest_results() == [] and len(server.seen) <= 2
    stopped = summary.models[0].stopped  # type: ignore[attr-defined]
    assert "401" in stopped and KEY not in stopped


def test_fourfold_run_end_to_end_keeps_the_key_out(tmp_path: Path, canned_anthropic_server: CannedServer):
    """A real ``fourfold run`` in its own process: three text cases and one image
    case against the canned server; answers stored, the key nowhere."""
    server = canned_anthropic_server
    server.script = [message("Answer: 1"), message("Answer: 2"), message("Answer: 3"), message("red")]
    (tmp_path / "img").mkdir()
    image_cases, _ = red_rectangle_case(tmp_path / "img", 32, 48, "What colour is the rectangle?")
    out = tmp_path / "out"
    r = fourfold("run", "--model", f"anthropic/claude-x@{server.base_url}", "--cases", str(text_cases(tmp_path)),
                 "--cases", str(image_cases), "--out", str(out), "--concurrency", "1", "--no-progress")
    posts = [s for s in server.seen if s.method == "POST"]
    assert len(posts) == 4 and all(s.headers["x-api-key"] == KEY for s in posts)
    image_blocks = [b for s in posts for m in s.json()["messages"] if isinstance(m["content"], list)
                    for b in m["content"] if b["type"] == "image"]
    assert len(image_blocks) == 1 and image_blocks[0]["source"]["media_type"] == "image/png"
    rows = Store(out / "results.db").latest_results()
    assert sorted((x.case_id, x.status) for x in rows) == [("img/red", "ok"), ("t0", "ok"), ("t1", "ok"), ("t2", "ok")]
    assert all(x.prompt_tokens == 11 and x.completion_tokens == 3 for x in rows)
    assert_key_nowhere(KEY, out, r.stdout, r.stderr)


def test_missing_key_is_one_line_exit_1_nothing_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    r = fourfold("run", "--model", "anthropic/claude-x", "--cases", str(text_cases(tmp_path)),
                 "--out", str(tmp_path / "out"), "--no-progress", check=False)
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip() == "fourfold: error: anthropic/ needs an API key: set ANTHROPIC_API_KEY"
    assert not (tmp_path / "out" / "results.db").exists()
