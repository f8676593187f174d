"""Chat messages -> model inputs, through the model's own chat template and processor.

A vision model's conversation is the processors' standard form (content as a
list of ``{"type": "text"|"image"|"video"}`` parts, media passed beside it); a
text model's is plain strings, which every text chat template accepts. The
prompt is rendered once with ``add_generation_prompt`` and tokenized the way
transformers' own ``apply_chat_template(tokenize=True)`` does it: a tokenizer
adds no special tokens to a rendered template, a processor adds them unless the
prompt already starts with BOS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..base import ChatMessage, ChatPart, PermanentError, chat_turns

if TYPE_CHECKING:
    from .engine import Prepared, Request


def conversation(messages: list[ChatMessage], vision: bool) -> tuple[list[dict[str, Any]], list[Any], list[Any]]:
    """(the conversation, its images as PIL images, its videos as paths), in order."""
    from PIL import Image

    images: list[Any] = []
    videos: list[Any] = []

    def media(p: ChatPart) -> dict[str, Any]:
        if not vision:
            raise PermanentError("this hf/ model is text-only: it cannot take images or video")
        if p.path is None:
            raise PermanentError(f"a {p.type} part without a file")
        if p.type == "image":
            with Image.open(p.path) as im:
                images.append(im.convert("RGB"))
        else:
            videos.append(p.path)
        return {"type": p.type}

    conv = chat_turns(messages, media, parts_always=vision)
    return conv, images, videos


def _video(path: Any, n_frames: int) -> tuple[Any, Any]:
    """``n_frames`` frames sampled uniformly, with their metadata. transformers reads
    mp4 paths itself only through torchcodec; PyAV is what fourfold already has."""
    from transformers.video_utils import load_video

    try:
        return load_video(str(path), num_frames=n_frames, backend="pyav")
    except (OSError, ValueError) as e:
        raise PermanentError(f"cannot decode the video {path}: {e}") from None


def model_inputs(p: Prepared, batch: list[Request]) -> Any:
    """The batch as one left-padded ``BatchFeature`` of tensors."""
    prompts: list[str] = []
    images: list[list[Any]] = []
    videos: list[list[Any]] = []
    metadata: list[list[Any]] = []
    for req in batch:
        conv, imgs, vids = conversation(req.messages, p.vision)
        prompts.append(p.processor.apply_chat_template(conv, tokenize=False, add_generation_prompt=True))
        images.append(imgs)
        decoded = [_video(v, req.settings.video_frames) for v in vids]
        videos.append([frames for frames, _ in decoded])
        metadata.append([meta for _, meta in decoded])
    if not p.vision:
        return p.tokenizer(prompts, padding=True, return_tensors="pt", add_special_tokens=False)
    bos = p.tokenizer.bos_token
    kw: dict[str, Any] = {"text": prompts, "padding": True, "return_tensors": "pt",
                          "add_special_tokens": not (bos and prompts[0].startswith(bos))}
    if any(images):
        kw["images"] = images
    if any(videos):
        # the frames are sampled already: the video processor must not sample again
        kw.update(videos=videos, video_metadata=metadata, do_sample_frames=False)
    try:
        return p.processor(**kw)
    except (ValueError, TypeError) as e:
        raise PermanentError(f"the model's processor refused this input: {str(e).splitlines()[0][:300]}") from None


__all__ = ["conversation", "model_inputs"]
