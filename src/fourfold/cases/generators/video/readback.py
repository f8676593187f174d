"""Reading a case's clip back for ``verify``: decoding, the frame count check that
every clip verifier opens with, and the close that compares the answer the
frames give with the ground truth and the stored reference."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .. import VerifyFn
from ..kit.answers import expect, media_paths
from .clip import FPS


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


def video_path(case: dict[str, Any], base: Path) -> Path | None:
    """The case's (first) clip, resolved inside its media boundary; None without one."""
    from ...loader import resolve_media

    paths = media_paths(case, "video")
    return resolve_media(base, paths[0]) if paths else None


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


def conclude(case: dict[str, Any], problems: list[str], derived: Any, want: Any, *, says: str | None = None,
             shows: str = "the video shows") -> list[str]:
    """Close a clip check: the answer ``derived`` from the frames must be the
    ground truth's (``want``; ``says`` words it) and the stored reference's."""
    if derived != want:
        problems.append(f"ground truth says {want if says is None else says}, {shows} {derived}")
    expect(case, derived, problems)
    return problems


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
