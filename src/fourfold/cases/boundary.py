"""The case/media boundary: which files a case may name, and what they must hold.

Case files are written by strangers, so a media path is untrusted input. Every
part of fourfold that turns a case's media path into a file (the loader, the
runner, the report, the annotation app, the generators' verifiers) goes through
:func:`resolve_media`, which allows exactly two places:

* the case file's own folder (and its subfolders), after resolving symlinks;
* ``pkg:PACKAGE/REL/PATH``: inside the directory of one installed top-level
  package (real photographs that scikit-image or matplotlib ship), again after
  resolving symlinks.

Anything else (``../`` out of the folder, an absolute path, a symlink that
points out, ``pkg:skimage/../../x``) raises :class:`MediaPathError`.

:func:`check_media_file` then checks what the file holds before a model, the
report or the app ever reads it: an image must decode and stay within
:data:`MAX_IMAGE_PIXELS`; a video must open as a real container (not an image
renamed ``.mp4``), have a video stream within the pixel cap and
:data:`MAX_VIDEO_SECONDS`, and decode its first frame. Results are cached by
(path, mtime, size), so a suite is checked once per process however many
times it is loaded.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

#: Largest image (width x height) a case may use, and the largest video frame.
#: 50 MP covers any camera photograph; larger files are almost always a
#: decompression bomb, and no model API takes them anyway.
MAX_IMAGE_PIXELS = 50_000_000
#: Longest video a case may use, in seconds.
MAX_VIDEO_SECONDS = 600.0
#: Images up to this size are decoded in full when checked (a few ms each);
#: larger PNGs get Pillow's structural check only, to keep loading fast.
_FULL_DECODE_PIXELS = 4_000_000

_PACKAGE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: FFmpeg demuxers that read single images: a PNG renamed .mp4 opens with one of
#: these and "decodes" one frame, but it is not a video.
_IMAGE_DEMUXERS = re.compile(r"(^|,)(image2|\w+_pipe|ico)(,|$)")


class MediaPathError(ValueError):
    """A media path names a file outside what a case may read, or one that cannot be checked."""


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _package_root(package: str, whole: str) -> str:
    """The real directory of an installed top-level package, found without importing it."""
    import importlib.util

    if not _PACKAGE.match(package):
        raise MediaPathError(f"{whole}: 'pkg:' must be followed by a top-level package name (pkg:skimage/data/...)")
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise MediaPathError(f"package {package!r} is not installed (needed for {whole})")
    return os.path.realpath(next(iter(spec.submodule_search_locations)))


def resolve_media(base: Path | str, path: str) -> Path:
    """The real path of a case's media file: ``path`` relative to ``base`` (the
    case file's folder) or ``pkg:PACKAGE/REL``. Raises :class:`MediaPathError`
    when it resolves (symlinks included) anywhere else. Whether the file exists
    is left to the caller (it says "not found" in its own terms)."""
    if not isinstance(path, str) or not path or "\x00" in path:
        raise MediaPathError(f"invalid media path {path!r}")
    if path.startswith("pkg:"):
        package, _, rel = path[4:].partition("/")
        root = _package_root(package, path)
        if not rel:
            raise MediaPathError(f"{path}: names no file inside package {package!r}")
        where = f"package {package!r} ({root})"
    else:
        root = os.path.realpath(base)
        rel = path
        where = f"the case file's folder ({root})"
    try:
        real = os.path.realpath(os.path.join(root, rel))
    except (OSError, ValueError) as e:
        raise MediaPathError(f"{path}: cannot resolve: {e}") from None
    if not _inside(real, root):
        raise MediaPathError(f"{path} resolves to {real}, outside {where}; "
                             "media must live in the case file's folder or in a package's data (pkg:)")
    return Path(real)


# ------------------------------------------------------------------ content

_checked: dict[tuple[str, int, int, str], str | None] = {}


def check_media_file(path: Path, kind: str) -> None:
    """Raise :class:`MediaPathError` unless ``path`` is a regular file holding a
    usable ``kind`` ("image" or "video") within the caps. ``path`` comes from
    :func:`resolve_media`."""
    try:
        st = os.stat(path)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise MediaPathError(f"{path}: a symlink loop") from None
        if e.errno in (errno.ENOENT, errno.ENOTDIR):
            raise MediaPathError(f"media file not found: {path}") from None
        raise MediaPathError(f"cannot read {path}: {e.strerror or e}") from None
    import stat

    if not stat.S_ISREG(st.st_mode):
        raise MediaPathError(f"{path}: not a regular file")
    key = (str(path), st.st_mtime_ns, st.st_size, kind)
    if key not in _checked:
        if st.st_size == 0:
            problem: str | None = "the file is empty (0 bytes)"
        else:
            problem = _check_image(path) if kind == "image" else _check_video(path)
        _checked[key] = problem
    problem = _checked[key]
    if problem is not None:
        raise MediaPathError(f"{path}: {problem}")


def _check_image(path: Path) -> str | None:
    """None when the image decodes and is within the pixel cap, else why not.
    Images up to :data:`_FULL_DECODE_PIXELS` are decoded in full (JPEGs at 1/8
    scale, which still reads every byte); larger PNGs are checked chunk by chunk
    (CRCs, the end chunk: catches truncation without inflating the pixels)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            w, h = im.size
            if w * h > MAX_IMAGE_PIXELS:
                return f"{w}x{h} pixels is over the cap of {MAX_IMAGE_PIXELS:,} pixels per image"
            if im.format == "PNG":
                im.verify()
                if w * h > _FULL_DECODE_PIXELS:
                    return None
        with Image.open(path) as im:  # verify() leaves the image unusable: open it again to decode
            if im.format == "JPEG":
                im.draft("RGB", (max(w // 8, 1), max(h // 8, 1)))
            im.load()
    except Image.DecompressionBombError as e:
        return f"over the cap of {MAX_IMAGE_PIXELS:,} pixels per image ({e})"
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError, RecursionError) as e:
        # Pillow reports corrupt data as any of these (SyntaxError for a broken PNG chunk).
        return f"not a readable image ({type(e).__name__}: {e})"
    return None


def _check_video(path: Path) -> str | None:
    """None when the file is a video container with a video stream within the
    caps whose first frame decodes, else why not."""
    import av

    try:
        with av.open(str(path), mode="r") as container:
            fmt = container.format.name or ""
            if _IMAGE_DEMUXERS.search(fmt):
                return f"an image ({fmt}), not a video"
            if not container.streams.video:
                return "no video stream"
            stream = container.streams.video[0]
            w, h = stream.codec_context.width, stream.codec_context.height
            if w * h > MAX_IMAGE_PIXELS:
                return f"{w}x{h} frames are over the cap of {MAX_IMAGE_PIXELS:,} pixels"
            seconds = _header_seconds(container, stream)
            if seconds is not None and seconds > MAX_VIDEO_SECONDS:
                return _too_long(seconds)
            if next(iter(container.decode(stream)), None) is None:
                return "no frame decodes"
            if seconds is None:  # no duration in the header: read the packets' times (no decoding)
                seconds = _demuxed_seconds(container, stream)
                if seconds > MAX_VIDEO_SECONDS:
                    return _too_long(seconds)
    except av.FFmpegError as e:
        return f"not a readable video ({getattr(e, 'strerror', None) or type(e).__name__})"
    except (OSError, ValueError, MemoryError) as e:
        return f"not a readable video ({type(e).__name__}: {e})"
    return None


def _too_long(seconds: float) -> str:
    return f"{seconds:.0f} s long, over the cap of {MAX_VIDEO_SECONDS:.0f} s per video"


def _header_seconds(container, stream) -> float | None:  # noqa: ANN001 -- PyAV objects
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def _demuxed_seconds(container, stream) -> float:  # noqa: ANN001 -- PyAV objects
    """The last packet's time; stops as soon as the cap is passed, so a long file stays cheap."""
    last = 0.0
    for packet in container.demux(stream):
        if packet.pts is not None and packet.time_base:
            last = max(last, float(packet.pts * packet.time_base))
            if last > MAX_VIDEO_SECONDS:
                break
    return last


def checked_media(base: Path | str, path: str, kind: str) -> Path:
    """:func:`resolve_media` then :func:`check_media_file`: the path of a media
    file that may be read and decoded, or :class:`MediaPathError` saying why not.
    The report and the annotation app call this before they open any case media."""
    real = resolve_media(base, path)
    check_media_file(real, kind)
    return real
