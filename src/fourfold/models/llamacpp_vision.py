"""``llamacpp/PATH.gguf#mmproj=PATH[#handler=NAME]``: vision GGUFs in process, on a CPU.

llama-cpp-python runs a vision model as two files, the language model and its
multimodal projector (``mmproj``), joined by a chat handler that knows the
family's prompt format (``llama_cpp.llama_chat_format``: ``Llava15ChatHandler``,
``Qwen25VLChatHandler``, ...). The handler is named as llama-cpp-python's own
server names it (``--chat_format``), or guessed from the file names. This is the
only way a laptop with no GPU can score a VLM.

Images reach the handler as data URLs inside OpenAI-style content parts, which
is what every handler reads (``get_image_urls``). llama.cpp decodes them with
stb_image, so PNG, JPEG, BMP and GIF go as they are and anything else (WebP) is
converted to PNG first. Video is never native: a handler that takes several
images a prompt gets frames, a one-image family gets one grid.

Everything else (the lock that keeps two generations off one model, the
streamed, cancellable generation, the sampler stated in full) is the text
backend's, unchanged.
"""

from __future__ import annotations

import asyncio
import base64
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..registry import with_hint
from . import base
from .llamacpp import LlamaCppBackend, file_sha256


@dataclass(frozen=True)
class Handler:
    """One chat handler of llama-cpp-python: its class in ``llama_chat_format``,
    and whether the family reads several images in one prompt."""

    cls: str
    multi_image: bool
    #: Lower-case fragments of a file name that mark the family (checked in HANDLERS' order).
    hints: tuple[str, ...] = ()


#: By llama-cpp-python's ``--chat_format`` names, most specific first (guessing
#: stops at the first match: "llava-v1.6" before "llava"). ``mtmd`` is the generic
#: handler that uses the model's own chat template: the guess when nothing matches.
HANDLERS: dict[str, Handler] = {
    "qwen2.5-vl": Handler("Qwen25VLChatHandler", True, ("qwen2.5-vl", "qwen2.5vl", "qwen2_5_vl", "qwen25vl",
                                                        "qwen2-5-vl")),
    "minicpm-v-2.6": Handler("MiniCPMv26ChatHandler", True, ("minicpm",)),
    "nanollava": Handler("NanoLlavaChatHandler", False, ("nanollava", "nano-llava")),
    "llama-3-vision-alpha": Handler("Llama3VisionAlphaChatHandler", False, ("llama-3-vision-alpha",)),
    "llava-1-6": Handler("Llava16ChatHandler", False, ("llava-v1.6", "llava-1.6", "llava-v1_6", "llava-1-6",
                                                       "llava-next")),
    "llava-1-5": Handler("Llava15ChatHandler", False, ("llava",)),
    "moondream": Handler("MoondreamChatHandler", False, ("moondream",)),
    "obsidian": Handler("ObsidianChatHandler", False, ("obsidian",)),
    "gemma4": Handler("Gemma4ChatHandler", True, ("gemma-4", "gemma4")),
    "mtmd": Handler("MTMDChatHandler", True),
}
DEFAULT_HANDLER = "mtmd"
#: The image types llama.cpp's decoder (stb_image) reads as they are.
DIRECT_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".bmp": "image/bmp",
                ".gif": "image/gif"}


def guess_handler(*paths: Path) -> str:
    """The handler the file names point to (the model's first, then the
    projector's), or the generic ``mtmd``, which uses the model's own template."""
    for path in paths:
        name = path.name.lower()
        for key, handler in HANDLERS.items():
            if any(h in name for h in handler.hints):
                return key
    return DEFAULT_HANDLER


def pick_handler(name: str | None, model: Path, mmproj: Path, spec: str) -> str:
    """``name`` checked (with a "did you mean"), or the guess from the file names."""
    if name is None:
        return guess_handler(model, mmproj)
    if name not in HANDLERS:
        raise base.ModelSpecError(with_hint(
            f"model spec {spec!r}: unknown handler {name!r} (known: {', '.join(HANDLERS)})", name, HANDLERS))
    return name


def image_url(path: Path) -> str:
    """A data URL llama.cpp can decode: the file itself when stb_image reads its
    type, else the picture re-encoded as PNG (Pillow)."""
    mime = DIRECT_TYPES.get(path.suffix.lower())
    if mime is not None:
        data = path.read_bytes()
    else:
        from PIL import Image

        buf = io.BytesIO()
        with Image.open(path) as im:
            im.convert("RGB").save(buf, format="PNG")
        data, mime = buf.getvalue(), "image/png"
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def to_handler_messages(messages: list[base.ChatMessage]) -> list[dict[str, Any]]:
    """Chat messages as the handlers read them: OpenAI's chat format (a plain
    string for text-only messages, which their templates print as it is; content
    parts where there are images), with images llama.cpp can decode. Video never
    gets here: ``prepare`` made it frames or a grid."""
    return base.to_openai_messages(messages, image_url)


class LlamaCppVisionBackend(LlamaCppBackend):
    """A vision GGUF and its projector; built by ``LlamaCppBackend.from_spec``
    when the spec has ``#mmproj=``."""

    accepts = "text, image; multi_image and video as frames where the family takes several images"

    def __init__(self, spec: str, path: Path, mmproj: Path, handler: str, *, n_ctx: int = 4096,
                 n_threads: int | None = None):
        if not mmproj.is_file():
            raise base.PermanentError(f"mmproj file not found: {mmproj} (the projector GGUF published with the model)")
        super().__init__(spec, path, n_ctx=n_ctx, n_threads=n_threads, batch=1)  # images: one at a time
        self.mmproj = mmproj
        self.handler = handler
        multi = HANDLERS[handler].multi_image
        # a one-image family gets a video as one grid; one that reads several images gets frames
        self.capabilities = base.Capabilities(text=True, image=True, multi_image=multi)

    async def identity(self) -> dict[str, Any]:
        if self._identity is None:
            text = await super().identity()
            digest = await asyncio.to_thread(file_sha256, self.mmproj)
            # the handler writes the prompt, so another handler is another model
            self._identity = {**text, "mmproj": {"file": self.mmproj.name, "sha256": digest}, "handler": self.handler}
        return self._identity

    def _llama_kwargs(self) -> dict[str, Any]:
        from llama_cpp import llama_chat_format

        handler_cls = getattr(llama_chat_format, HANDLERS[self.handler].cls, None)
        if handler_cls is None:
            raise base.BackendUnusable(f"this llama-cpp-python has no {HANDLERS[self.handler].cls} "
                                       f"(handler {self.handler!r}): pip install 'fourfold[embedded]'")
        return {"chat_handler": handler_cls(clip_model_path=str(self.mmproj), verbose=False)}

    def _after_load(self, llm: Any) -> None:
        """Open the projector now, not at the first case: a projector that does
        not fit the model stops the model once instead of failing every case."""
        init = getattr(llm.chat_handler, "_init_mtmd_context", None)
        try:
            if init is not None:
                init(llm)
        except (ValueError, RuntimeError, OSError, MemoryError) as e:
            raise base.BackendUnusable(
                f"cannot load the projector {self.mmproj} for {self.path.name} ({e}): use the mmproj file "
                f"published with this very model, downloaded completely (check its sha256)") from None

    def _wire(self, messages: list[base.ChatMessage]) -> list[dict[str, Any]]:
        return to_handler_messages(messages)


__all__ = ["DEFAULT_HANDLER", "HANDLERS", "Handler", "LlamaCppVisionBackend", "guess_handler", "image_url",
           "pick_handler", "to_handler_messages"]
