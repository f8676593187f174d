"""``openai/NAME[@BASE_URL]``: the chat-completions wire format, for OpenAI and any
compatible server (vLLM, SGLang, Ollama, llama.cpp's server, LM Studio).

The hot path uses the shared keep-alive pool (``models.transport``) instead of
the official SDK: the SDK costs ~1.5 ms of CPU a request here, five times a bare
client, and that alone caps throughput at 64-way concurrency. The payloads are
the SDK's own (tests check them against ``openai.types``), so nothing is lost
but overhead.

Replies are validated at this edge (``parse_reply``): whatever a server sends, a
call returns a ``Generation`` or raises one of the ``base`` errors with a reason,
so a broken or hostile server costs one case, never the run. Bodies are read up to
a byte cap (``max_body_bytes``), so a runaway answer cannot take the memory.
"""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, StrictStr, ValidationError

from .base import (
    BackendSpec,
    BackendUnusable,
    Capabilities,
    ChatMessage,
    Generation,
    GenerationSettings,
    MalformedReply,
    ModelSpecError,
    to_openai_messages,
)
from .http import (
    WHAT,
    HttpBackend,
    TokenCount,
    WireModel,
    check_unsent,
    error_message,
    json_type,
    parse_retry_after,
    partial_json,
    post_json,
    raise_for_status,
)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
#: The sampler fields of OpenAI's own API. The rest of ``GenerationSettings``
#: (top_k, min_p, typical_p, repeat_penalty, mirostat off) are extra body fields
#: that llama.cpp's servers, vLLM and SGLang read and most others ignore, but
#: OpenAI itself rejects ("Unrecognized request argument"): they are sent to every
#: server except api.openai.com, and not where the spec says ``#standard``.
STANDARD_SAMPLER = ("temperature", "top_p", "presence_penalty", "frequency_penalty")


# ------------------------------------------------------------- the reply edge


class _Part(WireModel):
    """One content part of an assistant message: text, or a refusal."""

    type: Literal["text", "refusal"]
    text: StrictStr | None = None
    refusal: StrictStr | None = None


class _Message(WireModel):
    content: StrictStr | list[_Part] | None = None
    refusal: StrictStr | None = None


class _Choice(WireModel):
    message: _Message
    finish_reason: StrictStr | None = None


class _Usage(WireModel):
    prompt_tokens: TokenCount = None
    completion_tokens: TokenCount = None


class _Reply(WireModel):
    """What fourfold uses of a chat completion, typed strictly; everything else
    a server adds is ignored (servers differ in their extras, not in these)."""

    model: StrictStr | None = None
    choices: Annotated[list[_Choice], Field(min_length=1)]
    usage: _Usage | None = None


def _describe(e: ValidationError) -> str:
    """``choices.0.message.content: must be a string, ... (got integer)``: where and
    what, never the value itself (it may be huge, or hold what a model echoed)."""
    out: list[str] = []
    for err in e.errors(include_url=False):
        if err["type"] == "json_invalid":
            return f"the body is not JSON ({err['msg'].removeprefix('Invalid JSON: ')})"
        loc = [str(x) for x in err["loc"]]
        if "content" in loc:
            msg = _content_error(loc, err)
        else:
            what = WHAT.get(err["type"], err["msg"])
            got = "" if err["type"] == "missing" else f" (got {json_type(err.get('input'))})"
            msg = f"{'.'.join(loc) or 'the body'} {what}{got}"
        if msg and msg not in out:
            out.append(msg)
    return "; ".join(out[:3])


def _content_error(loc: list[str], err: Any) -> str:
    """``content`` is a string or a list of parts, so pydantic reports each branch;
    one message says what is wrong in the words of the wire format."""
    i = loc.index("content")
    head, tail = ".".join(loc[:i + 1]), loc[i + 1:]
    value = err.get("input")
    if tail and tail[0] == "str":
        # a list fails the string branch too; the list branch says what is wrong in it
        return "" if isinstance(value, list) else f"{head} must be a string, a list of text parts or null, got {json_type(value)}"
    if len(tail) == 1:  # the list branch, and the value is no list
        return "" if isinstance(value, str) else f"{head} must be a string, a list of text parts or null, got {json_type(value)}"
    part = f"{head} part {tail[1]}"
    if len(tail) == 2:
        return f'{part} must be a text part {{"type": "text", "text": ...}}, got {json_type(value)}'
    if tail[2:] == ["type"]:
        got = f"type {value!r}"[:60] if isinstance(value, str) else json_type(value)
        return f'{part} must be a text part {{"type": "text", "text": ...}}, got {got}'
    return f"{part}.{'.'.join(tail[2:])} {WHAT.get(err['type'], err['msg'])} (got {json_type(value)})"


def parse_reply(raw: bytes, cut_at: int | None = None) -> Generation:
    """A chat-completions body -> ``Generation``; anything else -> ``MalformedReply``
    naming the field. ``cut_at``: the body was longer than this many bytes and
    only its start is in ``raw``."""
    try:
        if cut_at is None:
            reply = _Reply.model_validate_json(raw)
        else:
            try:
                data = partial_json(raw)
            except ValueError:
                raise MalformedReply(f"reply body over {cut_at:,} bytes, and its start is not JSON") from None
            reply = _Reply.model_validate(data)
    except ValidationError as e:
        raise MalformedReply(f"malformed reply from server: {_describe(e)}") from None
    choice = reply.choices[0]
    message = choice.message
    content = message.content
    refusal = message.refusal
    if isinstance(content, list):  # content parts: join the text, keep a refusal part as the refusal
        text = "".join(p.text or "" for p in content if p.type == "text")
        refusal = refusal or "".join(p.refusal or "" for p in content if p.type == "refusal") or None
    else:
        text = content or ""
    if not text and refusal:
        text = refusal
    usage = reply.usage
    return Generation(
        text=text, served_model=reply.model, finish_reason=choice.finish_reason,
        prompt_tokens=usage.prompt_tokens if usage else None,
        completion_tokens=usage.completion_tokens if usage else None,
        truncated=None if cut_at is None else f"the reply was over {cut_at:,} bytes; read no further",
    )


def parse_capabilities(text: str, spec: str) -> Capabilities:
    """``#text``, ``#image`` (one image a prompt), ``#multi_image``, ``#video``,
    comma-separated: what an OpenAI-compatible server's model really accepts."""
    names = {c.strip() for c in text.split(",") if c.strip()}
    known = {"text", "image", "multi_image", "video"}
    bad = names - known
    if bad:
        raise ModelSpecError(f"model spec {spec!r}: unknown capability {sorted(bad)[0]!r} (known: {', '.join(sorted(known))})")
    return Capabilities(text=True, image=bool(names & {"image", "multi_image"}), multi_image="multi_image" in names,
                        video="video" in names)


def _names_extra_field(message: str) -> bool:
    """Whether an error names one of the sampler fields OpenAI's API lacks."""
    return any(f in message for f in ("top_k", "min_p", "typical_p", "repeat_penalty", "repetition_penalty",
                                      "mirostat_mode"))


class OpenAIBackend(HttpBackend):
    kind = "openai"
    syntax = "openai/NAME[@BASE_URL][#CAPS]"
    accepts = "text, image, multi_image; video as 16 frames"
    description = ("OpenAI chat completions or any compatible server; key from OPENAI_API_KEY; "
                   "#image for one-image models (video as a 4x4 grid), #text for text-only; #standard sends "
                   "OpenAI's sampler fields only, to an API that rejects llama.cpp's and vLLM's (top_k, min_p, ...)")
    capabilities = Capabilities(text=True, image=True, multi_image=True, video=False)

    @classmethod
    def from_spec(cls, spec: BackendSpec) -> Self:
        """``NAME[@BASE_URL][#CAPS]``: ``#`` lists what the served model accepts,
        and ``standard`` among them sends OpenAI's sampler fields only."""
        rest, _, opts = spec.rest.partition("#")
        name, _, url = rest.partition("@")
        if not name:
            raise ModelSpecError(f"model spec {spec.text!r} has no model name ({cls.syntax})")
        words = [w.strip() for w in opts.replace("#", ",").split(",") if w.strip()]
        backend = cls(spec.text, name, url or None, standard="standard" in words)
        caps = [w for w in words if w != "standard"]
        if caps:
            backend.capabilities = parse_capabilities(",".join(caps), spec.text)
        return backend

    def __init__(self, spec: str, name: str, base_url: str | None = None, *, timeout_s: float = 300.0,
                 standard: bool = False):
        super().__init__(spec)
        self.name = name
        env_url = os.environ.get("OPENAI_BASE_URL")
        self.base_url = (base_url or env_url or DEFAULT_BASE_URL).rstrip("/")
        self.timeout_s = timeout_s
        self._url = self.base_url + "/chat/completions"
        #: ``#standard`` given; OpenAI itself gets the standard fields only either way.
        self.standard = standard
        self._standard_only = standard or urlsplit(self.base_url).hostname == "api.openai.com"
        self._sampler_for: GenerationSettings | None = None
        self._sampler: dict[str, Any] = {}

    def _headers(self) -> dict[str, str]:
        # Read at call time and never kept on the object: keys must not reach stores or logs.
        key = os.environ.get("OPENAI_API_KEY")
        h = {"Content-Type": "application/json"}
        if key:
            h["Authorization"] = f"Bearer {key}"
        return h

    async def identity(self) -> dict[str, Any]:
        # capabilities decide how video reaches the model (frames or one grid), so they are part of it
        ident = {"backend": "openai", "model": self.name, "base_url": self.base_url,
                 "accepts": self.capabilities.names()}
        if self.standard:  # fewer fields sent to the same server may decode otherwise
            ident["sampler"] = "standard"
        return ident

    def sampler_fields(self, settings: GenerationSettings) -> dict[str, Any]:
        """The sampler as this server is sent it: every field of ``settings``
        (llama.cpp's names, and ``repetition_penalty`` for vLLM and SGLang), or
        OpenAI's own only. Worked out once per settings object: the runner sends
        every case with the same one, and this is the hot path."""
        if settings is not self._sampler_for:
            full = settings.llamacpp_sampler()
            if self._standard_only:
                check_unsent(settings, set(STANDARD_SAMPLER), self.kind)
                self._sampler = {k: full[k] for k in STANDARD_SAMPLER}
            else:
                self._sampler = {**full, "repetition_penalty": settings.repeat_penalty}
            self._sampler_for = settings
        return self._sampler

    def request_body(self, messages: list[ChatMessage], settings: GenerationSettings) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.name,
            "messages": to_openai_messages(messages),
            **self.sampler_fields(settings),
            "max_tokens": settings.max_tokens,
            "seed": settings.seed,
        }
        if settings.json_schema:  # structured output: OpenAI, vLLM and llama.cpp's server decode to the schema
            body["response_format"] = {"type": "json_schema", "json_schema": {
                "name": str(settings.json_schema.get("title") or "output"), "schema": settings.json_schema,
                "strict": True}}
        return body

    async def generate(self, messages: list[ChatMessage], settings: GenerationSettings) -> Generation:
        cap = self.max_body_bytes()
        r = await post_json(self.http(), self._url, self.request_body(messages, settings), self._headers(),
                            cap)
        if r.status != 200:
            message = error_message(r.raw) or f"HTTP {r.status}"
            if r.status in (400, 422) and not self._standard_only and _names_extra_field(message):
                raise BackendUnusable(f"HTTP {r.status}: {message}; this server takes OpenAI's sampler fields only: "
                                      f"add #standard to the model spec ({self.spec}#standard)")
            # 401/403/404 (key, permission or model name) make the backend unusable: every case would fail alike
            raise_for_status(r.status, message, parse_retry_after(r.headers.get("Retry-After")))
        return parse_reply(r.raw, cap if r.cut else None)
