"""``openai/NAME[@BASE_URL]``: the chat-completions wire format, for OpenAI and any
compatible server (vLLM, SGLang, Ollama, llama.cpp's server, LM Studio).

The hot path uses one shared aiohttp session instead of the official SDK: the
SDK costs ~1.5 ms of CPU a request here, five times a bare client, and that
alone caps throughput at 64-way concurrency. The payloads are the SDK's own
(tests check them against ``openai.types``), so nothing is lost but overhead.
"""

from __future__ import annotations

import email.utils
import json
import os
import time
from typing import Any

from .base import (
    BackendUnusable,
    Capabilities,
    ChatMessage,
    Generation,
    GenerationSettings,
    ModelBackend,
    PermanentError,
    TransientError,
    to_openai_messages,
)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
RETRYABLE = {408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529}


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


class OpenAIBackend(ModelBackend):
    kind = "openai"
    capabilities = Capabilities(text=True, image=True, multi_image=True, video=False)

    def __init__(self, spec: str, name: str, base_url: str | None = None, *, timeout_s: float = 300.0):
        super().__init__(spec)
        self.name = name
        env_url = os.environ.get("OPENAI_BASE_URL")
        self.base_url = (base_url or env_url or DEFAULT_BASE_URL).rstrip("/")
        self.timeout_s = timeout_s
        self._session: Any = None
        self._url = self.base_url + "/chat/completions"

    def _headers(self) -> dict[str, str]:
        # Read at call time and never kept on the object: keys must not reach stores or logs.
        key = os.environ.get("OPENAI_API_KEY")
        h = {"Content-Type": "application/json"}
        if key:
            h["Authorization"] = f"Bearer {key}"
        return h

    async def identity(self) -> dict[str, Any]:
        # capabilities decide how video reaches the model (frames or one grid), so they are part of it
        return {"backend": "openai", "model": self.name, "base_url": self.base_url,
                "accepts": self.capabilities.names()}

    def _ensure_session(self) -> Any:
        if self._session is None:
            import aiohttp

            connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                json_serialize=json.dumps,
            )
        return self._session

    def request_body(self, messages: list[ChatMessage], settings: GenerationSettings) -> dict[str, Any]:
        return {
            "model": self.name,
            "messages": to_openai_messages(messages),
            "temperature": settings.temperature,
            "top_p": settings.top_p,
            "max_tokens": settings.max_tokens,
            "seed": settings.seed,
        }

    async def generate(self, messages: list[ChatMessage], settings: GenerationSettings) -> Generation:
        import aiohttp

        session = self._ensure_session()
        body = self.request_body(messages, settings)
        try:
            async with session.post(self._url, json=body, headers=self._headers()) as r:
                status = r.status
                raw = await r.read()
                retry_after = parse_retry_after(r.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError, ConnectionError) as e:
            raise TransientError(f"{type(e).__name__}: {e}") from None
        if status != 200:
            msg = _error_message(raw) or f"HTTP {status}"
            if status in RETRYABLE:
                raise TransientError(f"HTTP {status}: {msg}", retry_after)
            if status in (401, 403, 404):  # key, permission or model name: every case would fail alike
                raise BackendUnusable(f"HTTP {status}: {msg}")
            raise PermanentError(f"HTTP {status}: {msg}")
        try:
            data = json.loads(raw)
            choice = data["choices"][0]
            message = choice["message"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise TransientError("malformed response from server") from None
        usage = data.get("usage") or {}
        text = message.get("content") or ""
        refusal = message.get("refusal")
        if not text and refusal:
            text = refusal
        return Generation(
            text=text,
            served_model=data.get("model"),
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            finish_reason=choice.get("finish_reason"),
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _error_message(raw: bytes) -> str:
    try:
        data = json.loads(raw)
        err = data.get("error")
        if isinstance(err, dict):
            return str(err.get("message", ""))[:300]
        return str(err or data)[:300]
    except (ValueError, AttributeError):
        return raw[:300].decode("utf-8", "replace")
