"""Case media copied beside the site: images, playable videos and the frames the
models saw, each under a name the site makes (``media/<sha256 prefix><ext>``).

Paths come from the store, so every one goes through the cases' own media
resolver (``cases.boundary.checked_media``): never outside the case's folder or a
package's data, never a decompression bomb. The copy's name is derived from the
file's content, never from the stored path, so no stored path can reach outside
``media/`` in the site either, and a file two cases share is copied once.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

#: Extensions the site serves (anything else is not copied: the browser would not show it anyway).
IMAGE_EXT = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp"})
VIDEO_EXT = frozenset({".mp4", ".webm", ".ogv", ".mov", ".m4v"})
MAX_COPY_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SiteMedia:
    """Where a media part ended up in the site (relative URLs), or why it did not."""

    src: str | None
    frames: tuple[str, ...] = ()
    missing: str = ""


@dataclass
class MediaCopier:
    """Copies each media file once into ``out/media`` (see the module docstring)."""

    out: Path
    frame_cache: Path | None = None
    copied: dict[Path, str | None] = field(default_factory=dict)
    files: int = 0
    bytes: int = 0

    def _copy(self, path: Path, exts: frozenset[str]) -> str | None:
        if path in self.copied:
            return self.copied[path]
        ext = path.suffix.lower()
        name = None
        if ext in exts and path.is_file() and path.stat().st_size <= MAX_COPY_BYTES:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:32]
            name = f"media/{digest}{ext}"
            target = self.out / name
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
                self.files += 1
                self.bytes += target.stat().st_size
        self.copied[path] = name
        return name

    def image(self, base: str | None, rel: str) -> SiteMedia:
        from ..cases.boundary import checked_media

        try:
            return SiteMedia(self._copy(checked_media(Path(base or "."), rel, "image"), IMAGE_EXT))
        except (OSError, ValueError) as e:
            return SiteMedia(None, missing=_why(e))

    def video(self, base: str | None, rel: str, sha256: str | None) -> SiteMedia:
        """The clip itself and the frames the models saw: those a run left in the
        frame cache, else sampled now (16, as a run samples them by default)."""
        from ..cases.boundary import checked_media
        from ..cases.media.video import FrameCache, MediaError

        try:
            path = checked_media(Path(base or "."), rel, "video")
            src = self._copy(path, VIDEO_EXT)
            cache = FrameCache(self.frame_cache)
            frames = cache.frames_seen(sha256) or cache.frames(path, sha256, 16)
            return SiteMedia(src, tuple(f for f in (self._copy(p, IMAGE_EXT) for p in frames) if f))
        except (OSError, MediaError, ValueError) as e:
            return SiteMedia(None, missing=_why(e))


def _why(e: Exception) -> str:
    """One line for the page; never the absolute path of the machine that built it."""
    return type(e).__name__


__all__ = ["IMAGE_EXT", "VIDEO_EXT", "MediaCopier", "SiteMedia"]
