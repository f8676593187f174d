"""What every clip generator shares: the frame size and rate, the cells, writing a
clip and its input, and reading a case's clip back for ``verify``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ...media.encode import encode_video
from .. import VerifyFn
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


def decode_frames(path: Path) -> list[np.ndarray]:
    """All frames of a clip as RGB arrays (clips are short; decode everything)."""
    import av

    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def probe(path: Path) -> tuple[int, float, int, int]:
    """(frames, duration in seconds, width, height) from the container."""
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        n = s.frames or sum(1 for _ in c.demux(s) if _.size)
        rate = float(s.average_rate or FPS)
        return n, n / rate, s.codec_context.width, s.codec_context.height


def write_clip(frames: list[np.ndarray], media_dir: Path, name: str, index: int) -> str:
    """Encode to ``media_dir/NAME-INDEX.mp4``; returns the case path ``media/...``."""
    fname = f"{name}-{index:05d}.mp4"
    encode_video(frames, media_dir / fname, fps=FPS)
    return f"media/{fname}"


def video_path(case: dict[str, Any], base: Path) -> Path | None:
    from ...loader import resolve_media

    for msg in case.get("input") or []:
        content = msg.get("content") if isinstance(msg, dict) else None
        for part in content if isinstance(content, list) else []:
            if part.get("type") == "video":
                return resolve_media(base, part["path"])
    return None


def load_clip(case: dict[str, Any], base: Path) -> tuple[dict[str, Any], list[np.ndarray], list[str]]:
    """Ground truth and decoded frames of a case, or problems saying why not."""
    truth = (case.get("metadata") or {}).get("ground_truth") or {}
    try:
        path = video_path(case, base)
    except ValueError as e:  # MediaPathError: the path leaves the case's folder
        return truth, [], [str(e)]
    if path is None:
        return truth, [], ["no video part"]
    if not path.is_file():
        return truth, [], [f"video not found: {path}"]
    try:
        frames = decode_frames(path)
    except Exception as e:  # noqa: BLE001 -- any decode failure is a problem to report, not a crash
        return truth, [], [f"cannot decode {path.name}: {e}"]
    if not frames:
        return truth, [], [f"{path.name} has no frames"]
    if truth.get("frames") is not None and len(frames) != truth["frames"]:
        return truth, frames, [f"{path.name} has {len(frames)} frames, ground truth says {truth['frames']}"]
    return truth, frames, []


#: A check of a case's decoded frames: (case, ground truth, frames) -> problems.
FramesCheck = Callable[[dict[str, Any], dict[str, Any], list[np.ndarray]], list[str]]


def frames_check(check: FramesCheck) -> VerifyFn:
    """The ``verify`` function of a clip generator, from a ``check`` of its frames.

    Every clip verifier opens the same way: find the case's clip, decode it and
    match its frame count to the ground truth; any problem there is the answer,
    so ``check`` only ever sees a readable clip of the stored length."""

    @functools.wraps(check)
    def verify(case: dict[str, Any], base: Path) -> list[str]:
        truth, frames, problems = load_clip(case, base)
        if problems:
            return problems
        return check(case, truth, frames)

    return verify
