"""``anthropic/NAME[@BASE_URL][#no-sampling]``: Claude through the Messages API.

Like the openai backend, the hot path is the shared keep-alive pool, not the
SDK (whose per-request CPU would cap throughput); the request bodies are the
SDK's own types (``anthropic.types.MessageCreateParams``, checked in the tests)
and replies are validated here at the edge, so a broken reply costs one case.

Decoding: ``max_tokens`` and ``temperature`` are always sent, ``top_p`` and
``top_k`` when they cut anything (at 1.0 and 0 they keep every token, and leaving
them out decodes the same: recent models reject temperature and top_p together).
The newest models (Opus 4.7 on) take no sampling parameters at all and answer
400 "deprecated for this model"; ``#no-sampling`` sends none, and the identity
records that the model's own sampling decided (so such results never mix with
sampled-as-asked ones). The SDK (1.x on) dropped these from its signature, not the
API: it sends them through ``extra_body``, as the tests check. The Messages API
has no seed and no penalties: the identity says so, and a penalty set away from
its neutral value makes the backend unusable rather than silently ignored.
"""

from __future__ import annotations

import base64
import mimetypes
from typing import TYPE_CHECKING, Any, Self

from pydantic import StrictStr

from .base import (
    BackendSpec,
    BackendUnusable,
    Capabilities,
    ChatPart,
    Generation,
    ModelSpecError,
    PermanentError,
    chat_turns,
)
from .http import (
    ProviderBackend,
    Reply,
    TokenCount,
    WireModel,
    check_unsent,
    cut_note,
    error_message,
    validate_reply,
)

if TYPE_CHECKING:  # annotations only
    from .base import ChatMessage, GenerationSettings

#: The API version header the SDK sends; the body format below is this version's.
API_VERSION = "2023-06-01"
#: The image types the Messages API takes.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


class _Usage(WireModel):
    input_tokens: TokenCount = None
    output_tokens: TokenCount = None


class _Block(WireModel):
    """One content block of the reply; only text blocks carry the answer
    (thinking or tool blocks are skipped)."""

    type: StrictStr
    text: StrictStr | None = None


class _Reply(WireModel):
    """What fourfold uses of a Message (``anthropic.types.Message``)."""

    model: StrictStr | None = None
    content: list[_Block]
    stop_reason: StrictStr | None = None
    usage: _Usage | None = None


def parse_reply(raw: bytes, cut_at: int | None = None) -> Generation:
    """A Messages API body -> ``Generation`` (a refusal is an answer: its
    ``stop_reason`` is kept); anything else -> ``MalformedReply`` naming the field."""
    reply = validate_reply(_Reply, raw, cut_at)
    usage = reply.usage
    return Generation(
        text="".join(b.text or "" for b in reply.content if b.type == "text"), served_model=reply.model,
        finish_reason=reply.stop_reason, prompt_tokens=usage.input_tokens if usage else None,
        completion_tokens=usage.output_tokens if usage else None, truncated=cut_note(cut_at))


def _image_block(path: Any) -> dict[str, Any]:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if mime not in IMAGE_TYPES:
        raise PermanentError(f"{path.name}: the Messages API takes JPEG, PNG, GIF or WebP images, not {mime}")
    return {"type": "image", "source": {"type": "base64", "media_type": mime,
                                        "data": base64.b64encode(path.read_bytes()).decode("ascii")}}


def to_anthropic(messages: list[ChatMessage]) -> tuple[str, list[dict[str, Any]]]:
    """(the system prompt, the turns): system messages go to the top-level
    ``system``; text-only turns as plain strings, others as content blocks."""
    system = "\n\n".join(m.text() for m in messages if m.role == "system")
    return system, chat_turns((m for m in messages if m.role != "system"), _media_block)


def _media_block(p: ChatPart) -> dict[str, Any]:
    if p.type == "image" and p.path is not None:
        return _image_block(p.path)
    raise PermanentError("the Messages API takes no video: send it as frames")


class AnthropicBackend(ProviderBackend):
    kind = "anthropic"
    syntax = "anthropic/NAME[@BASE_URL][#no-sampling]"
    accepts = "text, image, multi_image; video as 16 frames"
    description = ("Claude through the Anthropic Messages API; key from ANTHROPIC_API_KEY; #no-sampling for models "
                   "that take no temperature (Opus 4.7 on)")
    capabilities = Capabilities(text=True, image=True, multi_image=True, video=False)

    key_vars = ("ANTHROPIC_API_KEY",)
    base_url_var = "ANTHROPIC_BASE_URL"
    default_base_url = "https://api.anthropic.com"

    #: False for ``#no-sampling``: temperature, top_p and top_k are not sent.
    sampling = True

    @classmethod
    def from_spec(cls, spec: BackendSpec) -> Self:
        rest, _, option = spec.rest.partition("#")
        if option not in ("", "no-sampling"):
            raise ModelSpecError(f"model spec {spec.text!r}: unknown option #{option} (known: #no-sampling)")
        backend = super().from_spec(BackendSpec(spec.text, spec.backend, rest))
        backend.sampling = not option
        return backend

    def __init__(self, spec: str, name: str, base_url: str | None = None, *, timeout_s: float = 300.0):
        super().__init__(spec, name, base_url, timeout_s=timeout_s)
        self._url = self.base_url + "/v1/messages"

    async def identity(self) -> dict[str, Any]:
        sampling = "temperature; top_p and top_k when they cut" if self.sampling else "the model's own (#no-sampling)"
        return {"backend": "anthropic", "model": self.name, "base_url": self.base_url, "api_version": API_VERSION,
                "accepts": self.capabilities.names(), "sampling": sampling,
                "not_sent": "seed and penalties (the Messages API has none)"}

    def request_body(self, messages: list[ChatMessage], settings: GenerationSettings) -> dict[str, Any]:
        system, turns = to_anthropic(messages)
        body: dict[str, Any] = {"model": self.name, "messages": turns, "max_tokens": settings.max_tokens}
        sent = set()
        if self.sampling:
            body["temperature"] = settings.temperature
            if settings.top_p != 1.0:  # see the module docstring
                body["top_p"] = settings.top_p
            top_k = getattr(settings, "top_k", 0)
            if top_k:
                body["top_k"] = top_k
            sent.add("top_k")
        check_unsent(settings, sent, self.kind)
        if system:
            body["system"] = system
        if settings.json_schema:  # structured output: the reply is decoded to the schema
            body["output_config"] = {"format": {"type": "json_schema", "schema": settings.json_schema}}
        return body

    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", "x-api-key": self.key(),
                "anthropic-version": API_VERSION}

    async def generate(self, messages: list[ChatMessage], settings: GenerationSettings) -> Generation:
        # 529 overloaded_error is transient, with 429 and the 5xx (http.RETRYABLE)
        return parse_reply(*await self.send(self._url, self.request_body(messages, settings)))

    def raise_error(self, r: Reply) -> None:
        msg = error_message(r.raw) or f"HTTP {r.status}"
        if r.status == 400 and self.sampling and "deprecated for this model" in msg:
            raise BackendUnusable(f"HTTP 400: {msg}; this model takes no sampling parameters: run it as "
                                  f"anthropic/{self.name}#no-sampling")
        super().raise_error(r)
