"""What the HTTP backends (openai, anthropic, gemini) share: one keep-alive
connection pool (``models.transport``), a POST whose body is read up to a byte
cap, Retry-After, the status -> error mapping, and the words for a reply that
fails its pydantic model.

Kept to plain functions so each backend's hot path stays one call deep: the
request CPU of the openai backend is a large share of fourfold's throughput.
"""

from __future__ import annotations

import email.utils
import json
import os
import time
from typing import Annotated, Any, ClassVar, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from .base import (
    BackendSpec,
    BackendUnusable,
    MalformedReply,
    ModelBackend,
    ModelSpecError,
    PermanentError,
    TransientError,
)
from .transport import ERROR_BODY_BYTES, HttpPool, Reply

M = TypeVar("M", bound=BaseModel)

#: A token count as a provider reports it: a non-negative int (a bool or a string is malformed), or absent.
TokenCount = Annotated[StrictInt, Field(ge=0)] | None


class WireModel(BaseModel):
    """Base of the reply models: typed strictly where fourfold reads a field, and
    whatever else a server adds is ignored (servers differ in their extras)."""

    model_config = ConfigDict(extra="ignore")

#: Statuses worth retrying: rate limits, overload (Anthropic's 529), gateway failures.
RETRYABLE = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` is seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def max_body_bytes(max_answer_chars: int) -> int:
    """The most of a reply's body read: room for ``max_answer_chars`` characters
    even if every one is sent as a 6-byte JSON escape, and never under 1 MiB."""
    return max(1 << 20, 8 * max_answer_chars + (1 << 16))


class HttpBackend(ModelBackend):
    """A backend that talks HTTP: its connection pool is made on first use (inside
    the run's event loop) and closed with the backend."""

    timeout_s: float = 300.0
    _pool: HttpPool | None = None

    def http(self) -> HttpPool:
        """The backend's connection pool, made on first use inside the run's loop."""
        if self._pool is None:
            self._pool = HttpPool(self.timeout_s)
        return self._pool

    def max_body_bytes(self) -> int:
        return max_body_bytes(self.max_answer_chars)

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None


class ProviderBackend(HttpBackend):
    """A hosted provider's API: spec ``NAME[@BASE_URL]``, the key from the
    environment (``key_vars``, checked before anything is sent or stored), the
    base URL from the spec, else ``base_url_var``, else ``default_base_url``."""

    key_vars: ClassVar[tuple[str, ...]] = ()
    base_url_var: ClassVar[str] = ""
    default_base_url: ClassVar[str] = ""

    @classmethod
    def from_spec(cls, spec: BackendSpec) -> Self:
        name, _, url = spec.rest.partition("@")
        if not name:
            raise ModelSpecError(f"model spec {spec.text!r} has no model name ({cls.syntax})")
        api_key(cls.key_vars, cls.kind)
        return cls(spec.text, name, url or None)

    def __init__(self, spec: str, name: str, base_url: str | None = None, *, timeout_s: float = 300.0):
        super().__init__(spec)
        self.name = name
        self.base_url = (base_url or os.environ.get(self.base_url_var) or self.default_base_url).rstrip("/")
        self.timeout_s = timeout_s

    def key(self) -> str:
        return api_key(self.key_vars, self.kind)

    def headers(self) -> dict[str, str]:
        """The request headers, the key among them (read now, never stored)."""
        raise NotImplementedError

    async def send(self, url: str, body: Any) -> tuple[bytes, int | None]:
        """POST ``body``: (the reply body, the cap it was cut at or None); a
        non-200 reply raises its error (``raise_error``)."""
        cap = self.max_body_bytes()
        r = await post_json(self.http(), url, body, self.headers(), cap)
        if r.status != 200:
            self.raise_error(r)
        return r.raw, cap if r.cut else None

    def raise_error(self, r: Reply) -> None:
        raise_for_status(r.status, error_message(r.raw) or f"HTTP {r.status}",
                         parse_retry_after(r.headers.get("Retry-After")))


def check_unsent(settings: Any, sent: set[str], backend: str) -> None:
    """A decoding setting the provider has no parameter for must be at its neutral
    default (where leaving it out decodes the same): otherwise no case could be
    answered as the settings say, so the backend is unusable, with the fix named."""
    fields = type(settings).model_fields
    for name in ("top_k", "min_p", "typical_p", "repeat_penalty", "presence_penalty", "frequency_penalty"):
        if name in fields and name not in sent and getattr(settings, name) != fields[name].default:
            raise BackendUnusable(f"{backend}/ has no {name} parameter: run it with {name} at its default "
                                  f"{fields[name].default}")


async def post_json(pool: HttpPool, url: str, body: Any, headers: dict[str, str], cap: int) -> Reply:
    """POST ``body`` as JSON (a non-200 body is read only up to ``ERROR_BODY_BYTES``)."""
    return await send_request(pool, "POST", url, json.dumps(body).encode(),
                              {"Content-Type": "application/json", **headers}, cap)


async def send_request(pool: HttpPool, method: str, url: str, body: bytes, headers: dict[str, str], cap: int,
                       what: str = "") -> Reply:
    """One request: a failed connection, an unreadable reply or a timeout is
    transient (worth a retry); a URL that is not http(s) makes the backend unusable."""
    try:
        return await pool.request(method, url, body, headers, cap)
    except (TimeoutError, OSError) as e:  # OSError: refused, reset, DNS, TLS, and the transport's ProtocolError
        raise TransientError(f"{what}{type(e).__name__}: {e}") from None
    except ValueError as e:
        raise BackendUnusable(f"{what}{e}") from None


def raise_for_status(status: int, msg: str, retry_after: float | None, unusable: tuple[int, ...] = (401, 403, 404)
                     ) -> None:
    """The error for a non-200 reply: retryable statuses are transient (with the
    server's Retry-After), a bad key or an unknown model makes the backend
    unusable (every case would fail alike), anything else fails this case."""
    if status in RETRYABLE:
        raise TransientError(f"HTTP {status}: {msg}", retry_after)
    if status in unusable:
        raise BackendUnusable(f"HTTP {status}: {msg}")
    raise PermanentError(f"HTTP {status}: {msg}")


def error_message(raw: bytes) -> str:
    """The ``error.message`` of a JSON error body (every provider here nests it so),
    else the body's start."""
    try:
        data = json.loads(raw)
        err = data.get("error")
        if isinstance(err, dict):
            return str(err.get("message", ""))[:300]
        return str(err or data)[:300]
    except (ValueError, AttributeError, RecursionError):
        return raw[:300].decode("utf-8", "replace")


def partial_json(raw: bytes) -> Any:
    """The start of a JSON body cut at the byte cap, its last string kept as far as
    it goes: a runaway answer is still an answer, up to the cap."""
    from pydantic_core import from_json

    text = raw.decode("utf-8", "ignore")
    for trim in range(8):  # the cut may fall inside an escape such as \u00e9
        try:
            return from_json(text[:len(text) - trim], allow_partial="trailing-strings")
        except ValueError:
            continue
    raise ValueError("unreadable")


WHAT = {"model_type": "must be a JSON object", "dict_type": "must be a JSON object", "list_type": "must be a JSON array",
        "string_type": "must be a string", "int_type": "must be an integer", "too_short": "must not be empty",
        "missing": "is missing", "greater_than_equal": "must not be negative", "literal_error": "has an unknown type"}


def json_type(v: Any) -> str:
    for t, name in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"), (list, "array"),
                    (dict, "object")):
        if isinstance(v, t):
            return name
    return "null" if v is None else type(v).__name__


def describe_validation(e: ValidationError) -> str:
    """``content.0.text: must be a string (got integer)``: where and what, never
    the value itself (it may be huge, or hold what a model echoed)."""
    out: list[str] = []
    for err in e.errors(include_url=False):
        if err["type"] == "json_invalid":
            return f"the body is not JSON ({err['msg'].removeprefix('Invalid JSON: ')})"
        loc = ".".join(str(x) for x in err["loc"]) or "the body"
        got = "" if err["type"] == "missing" else f" (got {json_type(err.get('input'))})"
        msg = f"{loc} {WHAT.get(err['type'], err['msg'])}{got}"
        if msg not in out:
            out.append(msg)
    return "; ".join(out[:3])


def validate_reply(model: type[M], raw: bytes, cut_at: int | None) -> M:
    """``raw`` as ``model``, or ``MalformedReply`` saying where and what is wrong.
    ``cut_at``: the body was longer than this many bytes and only its start is in
    ``raw`` (read as far as it goes)."""
    try:
        if cut_at is None:
            return model.model_validate_json(raw)
        try:
            data = partial_json(raw)
        except ValueError:
            raise MalformedReply(f"reply body over {cut_at:,} bytes, and its start is not JSON") from None
        return model.model_validate(data)
    except ValidationError as e:
        raise MalformedReply(f"malformed reply from server: {describe_validation(e)}") from None


def cut_note(cut_at: int | None) -> str | None:
    """``Generation.truncated`` for a body read only up to ``cut_at`` bytes."""
    return None if cut_at is None else f"the reply was over {cut_at:,} bytes; read no further"


def api_key(names: tuple[str, ...], backend: str) -> str:
    """The provider's key from the first of ``names`` that is set: read at call
    time and never kept on the backend, so identities, stores and errors cannot
    carry it. None set: the backend is unusable, before anything is sent."""
    for name in names:
        key = os.environ.get(name)
        if key:
            return key
    raise BackendUnusable(f"{backend}/ needs an API key: set {' or '.join(names)}")


__all__ = ["TokenCount", "WireModel", "ERROR_BODY_BYTES", "RETRYABLE", "WHAT", "HttpBackend", "ProviderBackend", "Reply", "api_key", "check_unsent", "cut_note", "describe_validation", "error_message", "json_type",
           "max_body_bytes", "parse_retry_after", "partial_json", "post_json", "raise_for_status", "send_request",
           "validate_reply"]
