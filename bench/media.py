#!/usr/bin/env python3
"""Media bench: what it costs to turn a video case into model input, and to
perturb images and videos.

Clips of 2 s, 6 s and 60 s at 448x448, 24 fps (a photograph panning, so the
encoder has real motion to code) are written with ``encode_video`` (x264
defaults: a keyframe at most every 250 frames) and, for 60 s, also with a
keyframe every 2 s as web video usually has. For each: 16 frames sampled by
``sample_frames`` (seeking), against decoding every frame to RGB and picking 16
(what a naive loader does); then ``FrameCache`` cold (decode + PNG write) and
warm (files reused, as for every model after the first). Then each
perturbation on a 448x448 photo, and ``apply_video`` on the 6 s clip.

    python bench/media.py [--quick]   # --quick: skip the 60 s clips
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from fourfold.cases.media.encode import encode_video  # noqa: E402
from fourfold.cases.media.perturb import PERTURBATIONS, apply_video, parse_perturbation  # noqa: E402
from fourfold.cases.media.video import FrameCache, probe_video, sample_frames, sample_indices  # noqa: E402

SIDE, FPS = 448, 24


def photo() -> np.ndarray:
    from PIL import Image
    from skimage import data

    return np.asarray(Image.fromarray(data.astronaut()).resize((SIDE, SIDE), Image.Resampling.LANCZOS))


def panning(n: int) -> Iterator[np.ndarray]:
    base = photo()
    wide = np.concatenate([base, base[:, ::-1]], axis=1)
    for k in range(n):
        x = (3 * k) % (2 * SIDE)
        yield np.roll(wide, -x, axis=1)[:, :SIDE]


def encode_gop(frames: Iterator[np.ndarray], path: Path, gop: int) -> Path:
    import av

    with av.open(str(path), "w", format="mp4") as c:
        s = c.add_stream("libx264", rate=FPS)
        s.width = s.height = SIDE
        s.pix_fmt = "yuv420p"
        s.options = {"crf": "20", "preset": "veryfast", "g": str(gop), "keyint_min": str(gop)}
        for a in frames:
            for pk in s.encode(av.VideoFrame.from_ndarray(a, format="rgb24")):
                c.mux(pk)
        for pk in s.encode():
            c.mux(pk)
    return path


def naive_sample(path: Path, n: int = 16) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.codec_context.thread_type = "AUTO"
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(s)]
    return [frames[i] for i in sample_indices(len(frames), n)]


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best wall time of ``repeat`` runs, in ms: on a shared machine the minimum
    is the figure that repeats; the others measure the neighbours."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return min(times)


def row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="skip the 60 s clips")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        clips: list[tuple[str, Path]] = []
        t0 = time.perf_counter()
        for secs in (2, 6) if args.quick else (2, 6, 60):
            clips.append((f"{secs} s, GOP 250", encode_video(panning(secs * FPS), tmp / f"c{secs}.mp4", fps=FPS)))
        if not args.quick:
            clips.append(("60 s, GOP 2 s", encode_gop(panning(60 * FPS), tmp / "c60g.mp4", 2 * FPS)))
        print(f"clips written in {time.perf_counter() - t0:.1f} s ({SIDE}x{SIDE}, {FPS} fps)\n")

        print("Sampling 16 frames (ms, best of 3)")
        widths = [16, 7, 7, 9, 9, 11, 11, 8]
        print(row(["clip", "frames", "probe", "naive", "sample", "decoded", "cache cold", "warm"], widths))
        for label, path in clips:
            probe_ms = timed(lambda p=path: probe_video(p))
            naive_ms = timed(lambda p=path: naive_sample(p))
            stats: dict[str, int] = {}
            sample_ms = timed(lambda p=path, st=stats: sample_frames(p, 16, stats=st))
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            cold = []
            for i in range(3):
                cache = FrameCache(tmp / f"cache-{label.replace(' ', '').replace(',', '')}-{i}")
                t1 = time.perf_counter()
                cache.frames(path, digest, 16)
                cold.append((time.perf_counter() - t1) * 1000)
            warm_ms = timed(lambda p=path, c=cache, d=digest: c.frames(p, d, 16), repeat=5)
            print(row([label, str(stats["frames"]), f"{probe_ms:.1f}", f"{naive_ms:.0f}", f"{sample_ms:.0f}",
                       f"{stats['decoded']}", f"{min(cold):.0f}", f"{warm_ms:.2f}"], widths))
            t1 = time.perf_counter()
            cache.grid(path, digest, 16, 4, 224)
            grid_cold = (time.perf_counter() - t1) * 1000
        print(f"(grid 4x4 of 224 px from the cached frames: {grid_cold:.0f} ms the first time, then a file lookup)\n")

        print("Perturbing one 448x448 photo (ms, best of 5)")
        img = photo()
        for name in PERTURBATIONS:
            p = parse_perturbation(name)
            ms = timed(lambda p=p: p(img, np.random.default_rng(0)), repeat=5)
            print(f"  {name:<12}{ms:8.2f}")
        six = next(path for label, path in clips if label.startswith("6 s"))
        n6 = probe_video(six).frames
        print(f"\napply_video on the 6 s clip ({n6} frames: decode, perturb, x264 encode)")
        for spec in ("blank", "noise:sigma=25", "rain", "fog+noise:sigma=10"):
            ms = timed(lambda s=spec: apply_video(six, tmp / "out.mp4", parse_perturbation(s), seed=1), repeat=2)
            print(f"  {spec:<20}{ms:8.0f} ms  ({ms / n6:.1f} ms/frame)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
