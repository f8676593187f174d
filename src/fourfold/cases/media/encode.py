"""Writing H.264 mp4 clips with PyAV, byte for byte the same for the same frames.

Generated videos are part of a suite's identity (their sha256 is in every case's
hash), so encoding must be deterministic: one encoder thread, fixed x264 options,
no creation time in the container.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np


def encode_video(frames: Iterable[np.ndarray], path: str | Path, fps: int = 8, *, crf: int = 20) -> Path:
    """Encode RGB uint8 frames (H x W x 3, even sides) to an H.264 mp4 at ``path``."""
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    it = iter(frames)
    try:
        first = next(it)
    except StopIteration:
        raise ValueError("encode_video needs at least one frame") from None
    h, w = first.shape[:2]
    if h % 2 or w % 2:
        raise ValueError(f"frame sides must be even for yuv420p, got {w}x{h}")
    with av.open(str(path), mode="w", format="mp4", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.codec_context.thread_count = 1
        stream.options = {"crf": str(crf), "preset": "medium", "threads": "1", "flags": "+bitexact"}
        for arr in (first, *it):
            if arr.shape[:2] != (h, w):
                raise ValueError("all frames must have the same size")
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr, dtype=np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
