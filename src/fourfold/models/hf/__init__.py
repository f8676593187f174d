"""``hf/MODEL_ID_OR_PATH[#OPTION=VALUE]...``: Hugging Face transformers, in process.

Text LLMs load through ``AutoModelForCausalLM``, vision-language models through
``AutoModelForImageTextToText`` with their own ``AutoProcessor``; both are asked
in the model's own chat template. What the model accepts comes from its config
and processor (``families`` says how each family wants video).

Serving works like the llama.cpp backend: one worker thread owns the model, and
a ``threading.Lock`` is held for every use of it, so two ``generate`` calls never
overlap. Concurrent calls are collected for a few milliseconds and the ones with
equal settings and the same media layout go through one left-padded ``generate``
(greedy only: a sampled answer is generated alone, under its own seed). A caller
that gives up (a timeout) sets its cancel flag; a stopping criterion ends its
row at the next token, and a call still waiting is never started.

This module imports neither torch nor transformers: ``fourfold models`` and
runs of other backends stay light. ``engine`` (the torch side) is imported in
the worker thread when the model is first resolved.
"""

from __future__ import annotations

import asyncio
import difflib
import importlib.util
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

from .. import base
from .families import VIDEO_MODES

if TYPE_CHECKING:
    from ...cases import LoadedCase
    from ...cases.media.video import FrameCache
    from .engine import Prepared, Request

#: Spec options: name -> what it takes (for the error on a bad one).
OPTIONS = {
    "adapter": "a folder with a PEFT adapter (adapter_config.json + weights)",
    "dtype": "auto, bfloat16, float16 or float32",
    "device_map": "auto, cpu, cuda, cuda:N, ... (transformers' device_map)",
    "attn": "eager, sdpa, flash_attention_2, ... (transformers' attn_implementation)",
    "revision": "a hub branch, tag or commit",
    "video": "native, frames or grid (how video is given; default: by the model's family)",
    "batch": "at most this many requests per generate call (default 8; 1: no batching)",
}
DTYPES = ("auto", "bfloat16", "float16", "float32")
EXTRA_HINT = "hf/ needs: pip install 'fourfold[hf]'"


def parse_options(spec: str, text: str) -> dict[str, str]:
    """``#key=value`` pairs, each checked against ``OPTIONS``."""
    opts: dict[str, str] = {}
    for item in filter(None, text.split("#")):
        key, eq, value = item.partition("=")
        key = key.strip()
        if key not in OPTIONS:
            near = difflib.get_close_matches(key, OPTIONS, n=1)
            hint = f"did you mean #{near[0]}=...? " if near else ""
            raise base.ModelSpecError(f"model spec {spec!r}: unknown option #{key}; {hint}(known: {', '.join(OPTIONS)})")
        if not eq or not value.strip():
            raise base.ModelSpecError(f"model spec {spec!r}: #{key} needs a value: {OPTIONS[key]}")
        opts[key] = value.strip()
    if opts.get("dtype", "auto") not in DTYPES:
        raise base.ModelSpecError(f"model spec {spec!r}: #dtype must be one of {', '.join(DTYPES)}")
    if opts.get("video", "native") not in VIDEO_MODES:
        raise base.ModelSpecError(f"model spec {spec!r}: #video must be one of {', '.join(VIDEO_MODES)}")
    if not opts.get("batch", "1").isdigit() or int(opts.get("batch", "1")) < 1:
        raise base.ModelSpecError(f"model spec {spec!r}: #batch must be a whole number of at least 1")
    return opts


class HFBackend(base.ModelBackend):
    kind = "hf"
    syntax = "hf/MODEL_ID_OR_PATH[#adapter=PATH][#dtype=D][#device_map=M][#attn=A][#revision=R][#video=V][#batch=N]"
    accepts = "text; image, multi_image and video for vision models (video native, as frames or a grid, by family)"
    description = ("Hugging Face transformers in process: text LLMs and VLMs (LLaVA, Qwen2-VL, Idefics3/SmolVLM, "
                   "InternVL, ...) from a folder or the hub cache; #adapter=PATH applies a PEFT LoRA")
    #: Importable modules the backend needs, and the extra that installs them (``fourfold models``).
    requires: ClassVar[tuple[str, ...]] = ("torch", "transformers")
    extra: ClassVar[str] = "hf"
    #: How long concurrent calls are collected into one batch.
    window_s: ClassVar[float] = 0.005

    @classmethod
    def from_spec(cls, spec: base.BackendSpec) -> Self:
        model, _, options = spec.rest.partition("#")
        model = model.strip()
        if not model:
            raise base.ModelSpecError(f"model spec {spec.text!r} has no model ({cls.syntax})")
        opts = parse_options(spec.text, options)
        # create_backend has checked ``requires``; peft is needed only for an adapter
        if not all(map(_installed, cls.requires)) or ("adapter" in opts and not _installed("peft")):
            raise base.BackendUnusable(EXTRA_HINT)
        return cls(spec.text, model, opts)

    def __init__(self, spec: str, model: str, opts: dict[str, str]):
        super().__init__(spec)
        self.model = model
        self.opts = opts
        self.batch_size = int(opts.get("batch", "8"))
        folder = Path(model).expanduser()
        self.folder: Path | None = folder if folder.is_dir() else None
        if self.folder is None and (model.startswith((".", "/", "~")) or model.count("/") > 1):
            raise base.PermanentError(f"model folder not found: {model}")
        adapter = opts.get("adapter")
        self.adapter = Path(adapter).expanduser() if adapter else None
        if self.adapter is not None and not (self.adapter / "adapter_config.json").is_file():
            raise base.PermanentError(f"#adapter={adapter}: no adapter_config.json there (a PEFT adapter folder)")
        self._lock = threading.Lock()  # held for every use of the model: never two at once
        self._prepared: Prepared | None = None
        self._model: Any = None
        self._identity: dict[str, Any] | None = None
        self._queue: list[tuple[Request, asyncio.Future[base.Generation]]] = []
        self._drainer: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ identity

    async def identity(self) -> dict[str, Any]:
        if self._identity is None:
            self._identity = await asyncio.to_thread(self._identity_sync)
        return self._identity

    def _identity_sync(self) -> dict[str, Any]:
        from .weights import folder_digest, hub_commit

        ident: dict[str, Any] = {"backend": "hf"}
        if self.folder is not None:
            digest, files = folder_digest(self.folder)
            ident.update(model=self.folder.name, sha256=digest, files=files)
        else:
            ident.update(model=self.model, revision=hub_commit(self.model, self.opts.get("revision")))
        if self.adapter is not None:
            digest, files = folder_digest(self.adapter)
            ident.update(adapter=self.adapter.name, adapter_sha256=digest, adapter_files=files)
        p = self._prepare_sync(ident.get("revision"))
        # dtype and attention change the numbers; how video is given changes the question
        ident.update(dtype=self.opts.get("dtype", "auto"), attn=self.opts.get("attn", "default"),
                     video=p.video if p.vision else None)
        return ident

    def _prepare_sync(self, revision: str | None = None) -> Prepared:
        """Config and processor, once; sets ``capabilities`` from them."""
        with self._lock:
            if self._prepared is None:
                from . import engine

                source = str(self.folder) if self.folder is not None else self.model
                if self.folder is None and revision is None:
                    from .weights import hub_commit

                    revision = hub_commit(self.model, self.opts.get("revision"))
                p = engine.prepare(source, revision, self.opts.get("video"))
                self.capabilities = base.Capabilities(text=True, image=p.vision, multi_image=p.vision,
                                                      video=p.vision and p.video == "native")
                self._prepared = p
            return self._prepared

    async def prepare(self, case: LoadedCase, settings: base.GenerationSettings, frames: FrameCache | None = None
                      ) -> list[base.ChatMessage]:
        """Video as the family wants it (a multi-image model may still want one grid)."""
        from ..messages import prepare_messages

        p = self._prepared or await asyncio.to_thread(self._prepare_sync)
        mode = p.video if p.vision else None
        return await prepare_messages(case, mode, settings.video_frames, frames)

    # ------------------------------------------------------------ generation

    async def generate(self, messages: list[base.ChatMessage], settings: base.GenerationSettings) -> base.Generation:
        from .engine import Request

        req = Request(messages, settings)
        fut: asyncio.Future[base.Generation] = asyncio.get_running_loop().create_future()
        self._queue.append((req, fut))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        try:
            return await fut
        except asyncio.CancelledError:
            req.cancel.set()  # its row stops at the next token; a waiting one is never started
            raise

    async def _drain(self) -> None:
        """Batches out of the queue, one at a time, each through the worker thread."""
        while self._queue:
            await asyncio.sleep(self.window_s)
            batch = self._next_batch()
            if not batch:
                continue
            try:
                results = await asyncio.to_thread(self._run_sync, [req for req, _ in batch])
            except asyncio.CancelledError:
                for req, _ in batch:
                    req.cancel.set()
                raise
            for (_, fut), res in zip(batch, results, strict=True):
                if fut.done():
                    continue
                if isinstance(res, BaseException):
                    fut.set_exception(res)
                else:
                    fut.set_result(res)

    def _next_batch(self) -> list[tuple[Request, asyncio.Future[base.Generation]]]:
        """The oldest waiting request and up to ``batch_size - 1`` more of the same shape."""
        self._queue = [(r, f) for r, f in self._queue if not f.done()]
        if not self._queue:
            return []
        key = _shape(self._queue[0][0])
        size = self.batch_size if self._queue[0][0].settings.temperature == 0 else 1
        batch = [item for item in self._queue if _shape(item[0]) == key][:size]
        self._queue = [item for item in self._queue if item not in batch]
        return batch

    def _run_sync(self, batch: list[Request]) -> list[base.Generation | BaseException]:
        """Generations for ``batch`` (in the worker thread, holding the lock); a
        batch that fails is retried one request at a time, so one bad case costs only itself."""
        try:
            self._prepare_sync()
            with self._lock:
                model = self._load()
                todo = [r for r in batch if not r.cancel.is_set()]
                done = dict(zip(map(id, todo), self._generate(model, todo), strict=True)) if todo else {}
        except base.BackendUnusable as e:
            return [e] * len(batch)
        cancelled = base.PermanentError("cancelled: the caller stopped waiting")
        return [done.get(id(r), cancelled) for r in batch]

    def _generate(self, model: Any, batch: list[Request]) -> list[base.Generation | BaseException]:
        from . import engine

        try:
            return list(engine.generate(self._prepared, model, batch))  # type: ignore[arg-type]
        except Exception as e:
            if len(batch) > 1:
                return [self._generate(model, [r])[0] for r in batch]
            return [_as_case_error(e)]

    def _load(self) -> Any:
        if self._model is None:
            from . import engine

            assert self._prepared is not None
            self._model = engine.load(self._prepared, dtype=self.opts.get("dtype", "auto"),
                                      device_map=self.opts.get("device_map"), attn=self.opts.get("attn"),
                                      adapter=self.adapter)
        return self._model

    async def aclose(self) -> None:
        await asyncio.to_thread(self._close_sync)

    def _close_sync(self) -> None:
        with self._lock:  # after the running generation, never under it
            self._model = None
        torch = sys.modules.get("torch")  # imported only if a model was
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()


def _shape(req: Request) -> tuple[str, tuple[str, ...]]:
    """Requests batch together when their settings and media layout are equal."""
    media = tuple(p.type for m in req.messages for p in m.parts if p.type != "text")
    return req.settings.model_dump_json(), media


def _as_case_error(e: Exception) -> BaseException:
    """An error in one generation, as that case's error (out of memory included: a long video may not fit)."""
    if isinstance(e, base.PermanentError | base.TransientError):
        return e
    name = type(e).__name__
    if name == "OutOfMemoryError":
        return base.PermanentError(f"out of memory answering this case: {str(e).splitlines()[0][:200]}")
    return base.PermanentError(f"transformers: {name}: {str(e).splitlines()[0][:300] if str(e) else ''}")


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or half-removed install counts as missing
        return False


__all__ = ["OPTIONS", "HFBackend", "parse_options"]
