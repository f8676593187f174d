"""The pictures a report shows, embedded as data: URLs so the HTML opens anywhere
(an e-mail attachment, an air-gapped machine) and loads nothing from the network.

Paths come from the store, so every one goes through the cases' own media
resolver (``cases.loader.checked_media``): never outside the case's folder or a
package's data, never a decompression bomb.
"""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path

MAX_EMBED_BYTES = 2 * 1024 * 1024
THUMB_SIDE = 480


def thumbnail(path: Path, mime: str) -> str:
    """A data: URL small enough that a report of hundreds of photographs stays a
    few megabytes: pictures over 480 px or 150 KB are shrunk (JPEG, or PNG when
    they have transparency); small ones are embedded as they are."""
    data = path.read_bytes()
    if len(data) <= 150_000:
        from PIL import Image

        with Image.open(path) as im:
            if max(im.size) <= THUMB_SIDE:
                return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
    import io

    from PIL import Image

    with Image.open(path) as im:
        im.thumbnail((THUMB_SIDE, THUMB_SIDE))
        buf = io.BytesIO()
        if im.mode in ("RGBA", "LA", "P"):
            im.convert("RGBA").save(buf, format="PNG", optimize=True)
            kind = "image/png"
        else:
            im.convert("RGB").save(buf, format="JPEG", quality=82)
            kind = "image/jpeg"
    return f"data:{kind};base64," + base64.b64encode(buf.getvalue()).decode("ascii")


class MediaEmbedder:
    """Embeds case images as data: URLs, each file read once per report."""

    def __init__(self) -> None:
        self._cache: dict[Path, str | None] = {}

    def video_grid(self, base: str | None, rel: str, sha256: str | None) -> str | None:
        from ..cases.loader import checked_media
        from ..cases.media.video import FrameCache, MediaError

        try:  # never outside the case's folder or a package's data (raises ValueError)
            path = checked_media(Path(base or "."), rel, "video")
            grid = FrameCache().grid(path, sha256, 16)
            return thumbnail(grid, "image/png")
        except (OSError, MediaError, ValueError):
            return None

    def src(self, base: str | None, rel: str) -> str | None:
        from ..cases.loader import checked_media

        try:  # never outside the case's folder or a package's data, never a decompression bomb
            path = checked_media(Path(base or "."), rel, "image")
        except (OSError, ValueError):
            return None
        if path in self._cache:
            return self._cache[path]
        src = None
        mime = mimetypes.guess_type(path.name)[0] or ""
        try:
            if mime.startswith("image/") and path.is_file() and path.stat().st_size < MAX_EMBED_BYTES:
                src = thumbnail(path, mime)
        except OSError:
            src = None
        self._cache[path] = src
        return src


__all__ = ["MAX_EMBED_BYTES", "THUMB_SIDE", "MediaEmbedder", "thumbnail"]
