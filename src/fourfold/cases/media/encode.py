"""Writing H.264 mp4 clips with PyAV, byte for byte the same for the same frames.

Generated videos are part of a suite's identity (their sha256 is in every case's
hash), so encoding must be deterministic: one encoder thread, fixed x264 options
(macroblock-tree rate control off: it made the same frames encode differently
within one process), explicit timestamps, no creation time in the container.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
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
        # mbtree off: with it, this libx264 gave different bytes for the same frames from one
        # encoder instance to the next in a process (it reads state its lookahead did not write).
        stream.options = {"crf": str(crf), "preset": "medium", "threads": "1", "flags": "+bitexact",
                          "x264-params": "mbtree=0"}
        for i, arr in enumerate((first, *it)):
            if arr.shape[:2] != (h, w):
                raise ValueError("all frames must have the same size")
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr, dtype=np.uint8), format="rgb24")
            # Explicit timestamps: without them the encoder's rate control reads whatever
            # the frame happened to carry, and the same frames encoded to different bytes.
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
