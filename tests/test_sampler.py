"""Every decoding parameter stated on every path, so the same weights give the
same greedy answers whichever way they are served.

The embedded model in process (``smollm2``) and behind llama-cpp-python's own
server, started as the README says, through the openai backend: the answers
must be byte-identical. They were not while each path applied its own defaults
(the server's repeat penalty is 1.1, the library's 1.0): 5 of 6 answers differed.
The request fields are checked at the protocol level against a canned-response
server (``canned_chat_server``)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from conftest import fourfold, llama_cpp_server, start_chat_server
from fourfold.models import BackendUnusable, ChatMessage, ChatPart, GenerationSettings, create_backend
from fourfold.models.openai import OpenAIBackend

LLAMACPP_FIELDS = {"temperature": 0.0, "top_p": 1.0, "top_k": 40, "min_p": 0.05, "typical_p": 1.0,
                   "repeat_penalty": 1.0, "presence_penalty": 0.0, "frequency_penalty": 0.0, "mirostat_mode": 0}
STANDARD_FIELDS = {"temperature", "top_p", "presence_penalty", "frequency_penalty"}
ASK = [ChatMessage("user", (ChatPart("text", text="capital of France?"),))]


def _reply(text: str = "Paris") -> dict:
    return {"id": "c", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}]}


def _bodies(spec: str, settings: GenerationSettings, status: int = 200, error: str = "") -> tuple[list[dict], object]:
    """The bodies ``spec`` (with ``{url}`` for the canned server) sends for one question, and the outcome."""
    bodies: list[dict] = []

    async def handler(request: web.Request) -> web.Response:
        bodies.append(await request.json())
        if status != 200:
            return web.json_response({"error": {"message": error}}, status=status)
        return web.json_response(_reply())

    async def go() -> object:
        runner, url = await start_chat_server(handler)
        backend = create_backend(spec.format(url=url))
        try:
            return await backend.generate(ASK, settings)
        except Exception as e:  # noqa: BLE001 -- the outcome is what is checked
            return e
        finally:
            await backend.aclose()
            await runner.cleanup()

    outcome = asyncio.run(go())
    return bodies, outcome


def test_every_sampler_field_is_sent_to_a_compatible_server() -> None:
    bodies, out = _bodies("openai/m@{url}", GenerationSettings())
    assert getattr(out, "text", None) == "Paris"
    body = bodies[0]
    assert {k: body[k] for k in LLAMACPP_FIELDS} == LLAMACPP_FIELDS
    assert body["repetition_penalty"] == 1.0  # vLLM's and SGLang's name for it
    assert body["seed"] == 1234 and body["max_tokens"] == 256


def test_settings_reach_the_body_and_the_key() -> None:
    s = GenerationSettings(temperature=0.7, top_k=5, min_p=0.1, repeat_penalty=1.2, presence_penalty=0.5)
    body = _bodies("openai/m@{url}", s)[0][0]
    assert (body["temperature"], body["top_k"], body["min_p"], body["repeat_penalty"], body["repetition_penalty"],
            body["presence_penalty"]) == (0.7, 5, 0.1, 1.2, 1.2, 0.5)
    # every field is in the settings that key a result, defaults too
    dumped = GenerationSettings().model_dump()
    assert {k: dumped[k] for k in LLAMACPP_FIELDS if k != "mirostat_mode"} == \
        {k: v for k, v in LLAMACPP_FIELDS.items() if k != "mirostat_mode"}
    assert GenerationSettings(repeat_penalty=1.1).model_dump_json() != GenerationSettings().model_dump_json()


def test_standard_sends_openais_fields_only(monkeypatch: pytest.MonkeyPatch) -> None:
    body = _bodies("openai/m@{url}#image,standard", GenerationSettings())[0][0]
    assert STANDARD_FIELDS <= body.keys()
    assert not body.keys() & {"top_k", "min_p", "typical_p", "repeat_penalty", "repetition_penalty", "mirostat_mode"}
    b = create_backend("openai/m@http://127.0.0.1:9/v1#standard")
    assert b.capabilities.multi_image  # "standard" is no capability: the default ones stay
    assert asyncio.run(b.identity())["sampler"] == "standard"
    assert "sampler" not in asyncio.run(create_backend("openai/m@http://127.0.0.1:9/v1").identity())
    # OpenAI itself rejects unknown fields: it gets the standard ones without being told
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    api = create_backend("openai/gpt-4o-mini")
    assert isinstance(api, OpenAIBackend)
    body = api.request_body(ASK, GenerationSettings())
    assert STANDARD_FIELDS <= body.keys() and "top_k" not in body and "repeat_penalty" not in body


def test_standard_cannot_send_a_changed_extra_field() -> None:
    _, out = _bodies("openai/m@{url}#standard", GenerationSettings(repeat_penalty=1.3))
    assert isinstance(out, BackendUnusable) and "repeat_penalty" in str(out)


def test_a_server_rejecting_extra_fields_names_the_fix() -> None:
    bodies, out = _bodies("openai/m@{url}", GenerationSettings(), status=400,
                          error="Unrecognized request argument supplied: top_k")
    assert isinstance(out, BackendUnusable)
    assert re.fullmatch(r"HTTP 400: Unrecognized request argument supplied: top_k; this server takes OpenAI's "
                        r"sampler fields only: add #standard to the model spec "
                        r"\(openai/m@http://127\.0\.0\.1:\d+/v1#standard\)", str(out)), str(out)
    assert len(bodies) == 1  # not retried: every case would be refused alike


# ------------------------------------------------------------------ the parity, for real


@pytest.fixture
def readme_llama_server(tmp_path: Path) -> Iterator[str]:
    """llama-cpp-python's server on the embedded model, started with the README's flags."""
    yield from llama_cpp_server(tmp_path / "llama-server.log", "--n_threads", "2", "--interrupt_requests", "False",
                                "--model_alias", "smollm2")


def _answers(store: Path) -> dict[str, str]:
    with sqlite3.connect(store) as con:
        return dict(con.execute("SELECT case_id, response FROM results WHERE status = 'ok'"))


@pytest.mark.slow
def test_same_weights_same_greedy_answers_in_process_and_served(readme_llama_server: str, tmp_path: Path) -> None:
    args = ["--cells", "text/generalizability,code/generalizability,text/trustworthiness", "--limit", "2",
            "--max-tokens", "48", "--no-report", "--no-progress"]
    fourfold("run", "--model", "smollm2", "--store", str(tmp_path / "in-process.db"), *args)
    fourfold("run", "--model", f"openai/smollm2@{readme_llama_server}", "--concurrency", "2",
             "--store", str(tmp_path / "served.db"), *args, env={"OPENAI_API_KEY": "sk-local-not-needed-123456"})
    in_process, served = _answers(tmp_path / "in-process.db"), _answers(tmp_path / "served.db")
    assert len(in_process) == 6 and all(in_process.values())
    assert served == in_process
