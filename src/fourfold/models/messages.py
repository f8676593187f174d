"""From a case to the chat messages one backend receives.

This is the model side's job, not the runner's: how a video reaches a model
depends on what the model takes. A backend that accepts video gets the file; a
multi-image one gets frames sampled uniformly, introduced by a note; a
single-image one gets one grid of those frames; one that takes neither is never
asked (``Capabilities.missing`` makes the case ``not_evaluated``). Images stay
local files here; each backend maps them to its wire format (``to_openai_messages``
sends them as data URLs).

Frames and grids are decoded once per clip content and cached on disk
(``cases.media.video.FrameCache``), so every model and every run shares them.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Literal

from .base import ChatMessage, ChatPart

if TYPE_CHECKING:
    from ..cases import LoadedCase
    from ..cases.media.video import FrameCache

VideoMode = Literal["native", "frames", "grid"]

FRAMES_NOTE = "The following {n} images are frames sampled uniformly from a video, in order."
GRID_NOTE = ("The following image is a grid of {n} frames sampled uniformly from a video, "
             "in reading order (left to right, top to bottom).")


def to_chat(lc: LoadedCase) -> list[ChatMessage]:
    """Case input -> chat messages, media as local files, video untouched."""
    from ..cases import ImagePart, TextPart

    out = []
    for m in lc.case.input:
        parts = []
        for p in m.content:
            if isinstance(p, TextPart):
                parts.append(ChatPart("text", text=p.text))
            elif isinstance(p, ImagePart):
                parts.append(ChatPart("image", path=lc.media_path(p)))
            else:
                parts.append(ChatPart("video", path=lc.media_path(p)))
        out.append(ChatMessage(m.role, tuple(parts)))
    return out


async def prepare_messages(lc: LoadedCase, mode: VideoMode | None, n_frames: int, cache: FrameCache | None = None
                           ) -> list[ChatMessage]:
    """Chat messages for a backend whose video mode is ``mode``: a video part
    becomes the file (``native``), ``n_frames`` frames (``frames``) or one grid
    image (``grid``)."""
    from ..cases import TextPart

    msgs = to_chat(lc)
    if mode in (None, "native") or not lc.case.media():
        return msgs
    if cache is None:
        from ..cases.media.video import FrameCache

        cache = FrameCache()
    shas = {lc.media_path(p): p.sha256 for m in lc.case.input for p in m.content if not isinstance(p, TextPart)}
    out = []
    for m in msgs:
        parts: list[ChatPart] = []
        for part in m.parts:
            if part.type != "video" or part.path is None:
                parts.append(part)
                continue
            sha = shas.get(part.path) or ""
            if mode == "frames":
                frames = await asyncio.to_thread(cache.frames, part.path, sha, n_frames)
                parts.append(ChatPart("text", text=FRAMES_NOTE.format(n=len(frames))))
                parts.extend(ChatPart("image", path=f) for f in frames)
            else:
                grid = await asyncio.to_thread(cache.grid, part.path, sha, n_frames)
                parts.append(ChatPart("text", text=GRID_NOTE.format(n=n_frames)))
                parts.append(ChatPart("image", path=grid))
        out.append(ChatMessage(m.role, tuple(parts)))
    return out


__all__ = ["FRAMES_NOTE", "GRID_NOTE", "VideoMode", "prepare_messages", "to_chat"]
