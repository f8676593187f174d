"""Reading video cases: probing, uniform frame sampling, grids and a frame cache.

The report fed every model 16 frames sampled uniformly from each clip, as a list
for models that take several images and as one 4x4 grid of 224 px tiles for a
model that takes a single image. This module does exactly that, cheaply:

* Frame timestamps come from demuxing packets (no decoding), so the frame count
  is right even when the container's header does not record it, and
  variable-frame-rate clips are sampled by *time*, not by frame number.
* Only the frames needed are decoded: the decoder seeks to the keyframe before
  each target when that skips work, decodes forward, and converts just the
  chosen frames to RGB.
* :class:`FrameCache` decodes each clip once per content hash, however many
  models are evaluated on it, and writes atomically so that a crash never
  leaves a half-written entry that later runs would trust.
"""

from __future__ import annotations

import bisect
import json
import os
import shutil
import statistics
import tempfile
import threading
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

__all__ = ["FrameCache", "MediaError", "VideoInfo", "probe_video", "sample_frames", "sample_indices", "stitch_grid"]


class MediaError(ValueError):
    """A media file cannot be used: missing, unreadable, or without video frames.
    The message always starts with the file's path, so a suite author can find it."""


@dataclass(frozen=True)
class VideoInfo:
    """What a clip holds. ``fps`` is the mean rate (frames / duration), which is
    the honest figure for variable-frame-rate clips, whose header rate can be
    anything; ``duration_s`` runs from the first frame's timestamp to the end of
    the last frame's display time."""

    frames: int
    fps: float
    duration_s: float
    width: int
    height: int
    codec: str


# ------------------------------------------------------------------ scanning


@dataclass(frozen=True)
class _Scan:
    """The result of one demux pass over the video stream (no decoding)."""

    pts: list[int] | None  # presentation timestamps, sorted; None when the stream has none
    keyframes: list[int]  # keyframe pts, sorted
    count: int  # number of frames (packets carrying data)
    end: int | None  # pts at which the last frame stops being shown
    time_base: float
    width: int
    height: int
    codec: str


def _open(path: Path):  # -> av.container.InputContainer
    import av

    if not path.is_file():
        raise MediaError(f"{path}: no such file")
    try:
        return av.open(str(path), mode="r")
    except av.FFmpegError as e:
        raise MediaError(f"cannot decode {path}: {_reason(e)}") from None


def _reason(e: BaseException) -> str:
    """FFmpeg errors repeat the file name; keep only what went wrong."""
    msg = getattr(e, "strerror", None) or str(e)
    return str(msg).split(":")[0].strip() or type(e).__name__


def _video_stream(container, path: Path):
    if not container.streams.video:
        raise MediaError(f"{path}: no video frames (the file has no video stream)")
    return container.streams.video[0]


def _scan(path: Path) -> _Scan:
    with _open(path) as container:
        return _scan_container(container, path)


def _scan_container(container, path: Path) -> _Scan:
    """Demux every packet of the first video stream: cheap (no pixels are
    decoded) and reliable where headers are not (Matroska/WebM store no frame
    count; a VFR mp4's header duration can be far off)."""
    import av

    stream = _video_stream(container, path)
    pts: list[int] = []
    keyframes: list[int] = []
    durations: dict[int, int] = {}
    count = 0
    have_pts = True
    try:
        for packet in container.demux(stream):
            if packet.size == 0 or packet.is_discard:  # the flush packet; frames an edit list cuts
                continue
            count += 1
            p = packet.pts
            if p is None:
                have_pts = False
                continue
            pts.append(p)
            if packet.duration:
                durations[p] = packet.duration
            if packet.is_keyframe:
                keyframes.append(p)
    except av.FFmpegError as e:
        if count == 0:
            raise MediaError(f"cannot decode {path}: {_reason(e)}") from None
        # A truncated file: keep the frames before the damage.
    cc = stream.codec_context
    tb = float(stream.time_base) if stream.time_base else 0.0
    if count == 0:
        raise MediaError(f"{path}: no video frames")
    if not have_pts or not tb:
        return _Scan(None, [], count, None, tb, cc.width, cc.height, cc.name)
    pts = sorted(set(pts))
    keyframes.sort()
    deltas = [b - a for a, b in zip(pts, pts[1:], strict=False)]
    last = durations.get(pts[-1]) or (int(statistics.median(deltas)) if deltas else 0)
    if not last and stream.average_rate:
        last = max(1, round(1 / (float(stream.average_rate) * tb)))
    return _Scan(pts, keyframes, len(pts), pts[-1] + max(last, 1), tb, cc.width, cc.height, cc.name)


def probe_video(path: str | Path) -> VideoInfo:
    """Frame count, mean frame rate, duration, size and codec of a clip."""
    path = Path(path)
    s = _scan(path)
    if s.pts is not None and s.end is not None:
        duration = (s.end - s.pts[0]) * s.time_base
    else:
        with _open(path) as container:
            stream = _video_stream(container, path)
            rate = float(stream.average_rate or stream.guessed_rate or 0)
        duration = s.count / rate if rate else 0.0
    fps = s.count / duration if duration > 0 else 0.0
    return VideoInfo(frames=s.count, fps=fps, duration_s=duration, width=s.width, height=s.height, codec=s.codec)


# ------------------------------------------------------------------ sampling


def sample_indices(n_total: int, n: int) -> list[int]:
    """Indices of ``n`` frames out of ``n_total``: the frame at the centre of each
    of ``n`` equal segments (the MVBench/VideoChat2 rule that VLMEvalKit and
    lmms-eval use for their video tasks). Integer arithmetic, so the same clip
    always yields the same frames. All frames when there are fewer than ``n``."""
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    if n_total <= 0:
        raise MediaError("no video frames to sample")
    if n_total < n:
        return list(range(n_total))
    return [((2 * i + 1) * n_total) // (2 * n) for i in range(n)]


def _target_pts(s: _Scan, n: int) -> list[int]:
    """The pts of the frame on screen at the centre of each of ``n`` equal time
    segments. For a constant frame rate this picks the same frames as
    :func:`sample_indices`; for a variable one, a frame shown for longer is
    proportionally more likely to be picked (and can be picked twice)."""
    assert s.pts is not None and s.end is not None
    if s.count < n:
        return list(s.pts)
    start, span = s.pts[0], s.end - s.pts[0]
    out = []
    for i in range(n):
        t = (2 * n * start + (2 * i + 1) * span) // (2 * n)  # floor of the segment centre, exact
        out.append(s.pts[max(0, bisect.bisect_right(s.pts, t) - 1)])
    return out


class _Decoder:
    """Frames of one stream in presentation order, with keyframe seeking.

    ``frame_at(t)`` returns the frame whose pts is the largest <= t. Targets must
    come in ascending order; a frame decoded past one target is kept for the next."""

    def __init__(self, container, stream, keyframes: list[int], path: Path):
        self.container, self.stream, self.keyframes, self.path = container, stream, keyframes, path
        self.frames: Iterator | None = None
        self.pending = None  # a decoded frame not yet handed out
        self.last_pts: int | None = None
        self.decoded = 0
        self.seeks = 0

    def _iter(self) -> Iterator:
        import av

        try:
            for packet in self.container.demux(self.stream):
                for frame in packet.decode():
                    self.decoded += 1
                    yield frame
        except av.FFmpegError as e:
            raise MediaError(f"cannot decode {self.path}: {_reason(e)}") from None

    def _seek(self, kf: int | None) -> None:
        self.seeks += 1
        if kf is None:
            self.container.seek(0, backward=True, any_frame=False)  # stream start, in AV_TIME_BASE
        else:
            self.container.seek(kf, backward=True, any_frame=False, stream=self.stream)
        self.frames, self.pending, self.last_pts = self._iter(), None, None

    def _next(self):
        if self.pending is not None:
            f, self.pending = self.pending, None
            return f
        assert self.frames is not None
        return next(self.frames, None)

    def frame_at(self, t: int):
        k = bisect.bisect_right(self.keyframes, t) - 1
        kf = self.keyframes[k] if k >= 0 else None
        # Seek when a keyframe lies between where we are and the target: decoding
        # from it is never more work than decoding forward to it.
        if self.frames is None or self.last_pts is None or self.last_pts > t or (kf is not None and kf > self.last_pts):
            self._seek(kf)
        while True:
            best, overshoot = None, False
            while True:
                f = self._next()
                if f is None:
                    break
                if f.pts is None or f.pts <= t:
                    best = f
                    self.last_pts = f.pts if f.pts is not None else self.last_pts
                    if f.pts == t:
                        break
                else:
                    self.pending, overshoot = f, True
                    break
            if best is not None:
                return best
            if overshoot and k > 0:  # the seek landed after the target: retry from an earlier keyframe
                k -= 1
                self._seek(self.keyframes[k])
                continue
            if overshoot and kf is not None:
                self._seek(None)
                kf = None
                continue
            # Nothing at or before t (odd timestamps): the first frame there is.
            if self.pending is not None:
                return self._next()
            raise MediaError(f"cannot decode {self.path}: no frame at timestamp {t}")


def sample_frames(path: str | Path, n: int = 16, *, stats: dict[str, int] | None = None) -> list[Image.Image]:
    """``n`` frames sampled uniformly in time (all frames if the clip is shorter),
    as RGB images, decoding only what is needed.

    ``stats``, if given, receives ``decoded`` (frames the decoder produced) and
    ``seeks``: how much work the sampling took, for tests and benchmarks."""
    import av

    path = Path(path)
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    with _open(path) as container:
        s = _scan_container(container, path)  # one open: the decoder seeks back to a keyframe first
        if s.pts is None:
            with _open(path) as fresh:  # no timestamps to seek by: decode from the start
                return _sample_sequential(fresh, _video_stream(fresh, path), sample_indices(s.count, n), path)
        stream = _video_stream(container, path)
        try:
            stream.codec_context.thread_type = "AUTO"
        except (AttributeError, ValueError):
            pass
        targets = _target_pts(s, n)
        dec = _Decoder(container, stream, s.keyframes, path)
        got: dict[int, Image.Image] = {}
        try:
            for t in sorted(set(targets)):
                got[t] = dec.frame_at(t).to_image()
        except av.FFmpegError as e:
            raise MediaError(f"cannot decode {path}: {_reason(e)}") from None
        if stats is not None:
            stats.update(decoded=dec.decoded, seeks=dec.seeks, frames=s.count)
    return [got[t] for t in targets]


def _sample_sequential(container, stream, indices: list[int], path: Path) -> list[Image.Image]:
    """Streams without timestamps (raw elementary streams): decode in order and
    keep the frames at ``indices``."""
    import av

    want = set(indices)
    got: dict[int, Image.Image] = {}
    try:
        for i, frame in enumerate(container.decode(stream)):
            if i in want:
                got[i] = frame.to_image()
                if len(got) == len(want):
                    break
    except av.FFmpegError as e:
        raise MediaError(f"cannot decode {path}: {_reason(e)}") from None
    if not got:
        raise MediaError(f"{path}: no video frames")
    last = max(got)
    return [got.get(i, got[last]) for i in indices]


# ------------------------------------------------------------------ grid


def stitch_grid(frames: Sequence[Image.Image], cols: int = 4, tile: int = 224,
                background: tuple[int, int, int] = (0, 0, 0)) -> Image.Image:
    """One image of ``cols`` x ceil(len/cols) tiles, for models that take a single
    image. Each frame is scaled to fit its ``tile`` x ``tile`` square, keeping its
    aspect ratio (letterboxed on ``background``), in reading order."""
    if not frames:
        raise ValueError("stitch_grid needs at least one frame")
    if cols <= 0 or tile <= 0:
        raise ValueError(f"cols and tile must be positive, got cols={cols}, tile={tile}")
    rows = -(-len(frames) // cols)
    grid = Image.new("RGB", (cols * tile, rows * tile), background)
    for i, frame in enumerate(frames):
        im = frame.convert("RGB")
        scale = tile / max(im.width, im.height)
        w, h = max(1, round(im.width * scale)), max(1, round(im.height * scale))
        im = im.resize((w, h), Image.Resampling.BICUBIC)
        r, c = divmod(i, cols)
        grid.paste(im, (c * tile + (tile - w) // 2, r * tile + (tile - h) // 2))
    return grid


# ------------------------------------------------------------------ cache


def default_cache_root() -> Path:
    """``$XDG_CACHE_HOME/fourfold/frames``, else ``~/.cache/fourfold/frames``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fourfold" / "frames"


_MANIFEST = "manifest.json"
_TMP_PREFIX = ".tmp-"


class FrameCache:
    """Sampled frames on disk, keyed by the clip's content hash and ``n``.

    Every model in a run (and every later run) gets the same PNG files without
    decoding the clip again. An entry is built in a private temporary folder and
    renamed into place, so a reader sees a complete entry or none; leftovers of a
    crashed writer are ignored and swept. A per-key lock keeps threads of one
    process (and ``asyncio.to_thread`` callers) from decoding the same clip twice.

    The cache trusts ``sha256``: pass the digest of the file's content (the
    loader computes it for every media part)."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root is not None else default_cache_root()
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def _lock(self, key: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    @staticmethod
    def _key(sha256: str, n: int) -> str:
        if not sha256 or not all(c in "0123456789abcdefABCDEF" for c in sha256):
            raise ValueError(f"sha256 must be a hex digest, got {sha256!r}")
        if n <= 0:
            raise ValueError(f"n must be positive, got {n}")
        return f"{sha256.lower()}-{n}"

    @staticmethod
    def _read_entry(entry: Path) -> list[Path] | None:
        try:
            names = json.loads((entry / _MANIFEST).read_text())["frames"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        paths = [entry / name for name in names]
        return paths if paths and all(p.is_file() for p in paths) else None

    def frames(self, path: str | Path, sha256: str | None, n: int = 16) -> list[Path]:
        """PNG files of the ``n`` sampled frames (``frame-00.png`` ...), decoded
        on the first call for this content and reused afterwards. The entry's
        ``manifest.json`` lists them (``frames_seen`` reads it). Without a
        ``sha256`` the file is hashed here (a case loaded without media checks)."""
        sha256 = sha256 or _sha256_file(Path(path))
        key = self._key(sha256, n)
        entry = self.root / key
        found = self._read_entry(entry)
        if found is not None:
            return found
        with self._lock(key):
            found = self._read_entry(entry)
            if found is not None:
                return found
            self.root.mkdir(parents=True, exist_ok=True)
            self._sweep(key)
            images = sample_frames(path, n)
            tmp = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{key}-{os.getpid()}-", dir=self.root))
            try:
                names = [f"frame-{i:02d}.png" for i in range(len(images))]
                # PNG encoding dominates a cold entry and zlib releases the GIL: write in parallel.
                with ThreadPoolExecutor(max_workers=min(len(images), os.cpu_count() or 1, 8)) as pool:
                    list(pool.map(lambda item: item[0].save(tmp / item[1], format="PNG", compress_level=1),
                                  zip(images, names, strict=True)))
                (tmp / _MANIFEST).write_text(json.dumps({"frames": names, "source": str(path), "n": n}))
                if entry.exists():  # an unusable entry (files deleted by hand): replace it
                    shutil.rmtree(entry, ignore_errors=True)
                try:
                    os.replace(tmp, entry)
                except OSError:
                    # Another process renamed its copy first; its copy is as good as ours.
                    if self._read_entry(entry) is None:
                        raise
            finally:
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)
            found = self._read_entry(entry)
            if found is None:
                raise MediaError(f"{path}: frame cache entry {entry} could not be written")
            return found

    def frames_seen(self, sha256: str | None, preferred: int = 16) -> list[Path]:
        """The frames the models saw of the clip with this content hash, as far as
        this cache holds them: the ``preferred``-frame entry if complete, else the
        complete entry with the most frames, else ``[]``. Never decodes anything,
        so a viewer (the annotation UI) can show what a run left without doing work;
        a manifest naming a file outside its entry is not followed."""
        sha = str(sha256 or "").lower()
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            return []
        try:
            entries = sorted(self.root.glob(f"{sha}-*"))
        except OSError:
            return []
        best: list[Path] = []
        for entry in entries:
            n = entry.name[len(sha) + 1:]
            if not n.isdigit():
                continue
            try:
                names = json.loads((entry / _MANIFEST).read_text())["frames"]
            except (OSError, ValueError, KeyError, TypeError):
                continue
            files = [entry / str(name) for name in names if "/" not in str(name) and "\\" not in str(name)]
            if files and all(f.is_file() for f in files) and (int(n) == preferred or len(files) > len(best)):
                best = files
                if int(n) == preferred:
                    break
        return best

    def grid(self, path: str | Path, sha256: str | None, n: int = 16, cols: int = 4, tile: int = 224) -> Path:
        """The sampled frames stitched into one PNG (see :func:`stitch_grid`),
        built from the cached frames, so the clip is still decoded only once."""
        sha256 = sha256 or _sha256_file(Path(path))
        frames = self.frames(path, sha256, n)
        out = frames[0].parent / f"grid-{cols}x{tile}.png"
        if out.is_file():
            return out
        with self._lock(self._key(sha256, n)):
            if out.is_file():
                return out
            images = []
            for p in frames:
                with Image.open(p) as im:
                    images.append(im.convert("RGB"))
            tmp = out.with_name(f"{_TMP_PREFIX}{uuid.uuid4().hex}-{out.name}")
            try:
                stitch_grid(images, cols=cols, tile=tile).save(tmp, format="PNG", compress_level=1)
                os.replace(tmp, out)
            finally:
                tmp.unlink(missing_ok=True)
        return out

    def _sweep(self, key: str) -> None:
        """Remove temporary folders for ``key`` left by writers that are gone."""
        for p in self.root.glob(f"{_TMP_PREFIX}{key}-*"):
            pid = p.name[len(_TMP_PREFIX) + len(key) + 1:].split("-", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
                continue  # another live process may still be writing it
            # Ours (the per-key lock we hold means no thread is writing it) or a dead writer's.
            shutil.rmtree(p, ignore_errors=True)


def _sha256_file(path: Path) -> str:
    import hashlib

    if not path.is_file():
        raise MediaError(f"{path}: no such file")
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
