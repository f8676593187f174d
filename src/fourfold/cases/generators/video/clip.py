"""What every clip generator shares: the frame size and rate, the colours of the
scenery, the cells, and writing a clip and the input that shows it.
(:mod:`.readback` reads a clip back for ``verify``.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ...media.encode import encode_video
from ..kit.answers import text_part, user, video_part

W, H = 320, 240
FPS = 8
BG = (40, 40, 48)
WHITE = (245, 245, 245)
GREY = (150, 150, 150)
CUP = (205, 205, 205)
WALL_RGB = (110, 110, 110)
WALL = 6  #: thickness of the drawn box the collision balls bounce in
SUBSTEPS = 32  #: simulator steps per frame (a ball moves < 0.5 px per step)
DIRECTIONS: tuple[str, ...] = ("left", "right", "up", "down")
BLANK_KEYWORDS = ["blank", "nothing", "empty", "no objects", "black", "plain"]
LANDSCAPE_SEED = 2024
GEN, TRUST, CAUSAL = "video/generalizability", "video/trustworthiness", "video/causality"


def canvas(bg: tuple[int, int, int] = BG, w: int = W, h: int = H) -> np.ndarray:
    """A frame of one flat colour (the clip's background by default)."""
    img = np.empty((h, w, 3), np.uint8)
    img[:] = bg
    return img


def video_input(path: str, question: str) -> list[dict[str, Any]]:
    """The input of a clip case: the clip, then the question."""
    return user(video_part(path), text_part(question))


def write_clip(frames: list[np.ndarray], media_dir: Path, name: str, index: int) -> str:
    """Encode to ``media_dir/NAME-INDEX.mp4``; returns the case path ``media/...``."""
    fname = f"{name}-{index:05d}.mp4"
    encode_video(frames, media_dir / fname, fps=FPS)
    return f"media/{fname}"


