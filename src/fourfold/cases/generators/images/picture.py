"""What every picture generator shares: deterministic fonts and PNGs, loading a
case's images inside its media boundary, and flat shapes placed without touching.
"""

from __future__ import annotations

import functools
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageChops, ImageDraw, ImageFont

from ..kit.answers import media_paths
from ..kit.colours import PALETTE, RGB

if TYPE_CHECKING:
    import numpy as np

SHAPES: tuple[str, ...] = ("circle", "square", "triangle")
BACKGROUND: RGB = (255, 255, 255)


@functools.cache
def _font_dir() -> Path:
    """matplotlib's bundled DejaVu fonts, found without importing matplotlib
    (its import costs more than drawing a whole picture)."""
    import importlib.util

    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib is needed for its bundled DejaVu fonts")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


@functools.lru_cache(maxsize=64)
def load_font(size: int, name: str = "DejaVuSans.ttf") -> ImageFont.FreeTypeFont:
    # BASIC layout: raqm (if installed) shapes text differently, and output must
    # not depend on an optional system library.
    return ImageFont.truetype(str(_font_dir() / name), size, layout_engine=ImageFont.Layout.BASIC)


def save_png(img: Image.Image, media_dir: Path, name: str) -> str:
    """Save deterministically and return the case-relative path. Pictures with at
    most 256 colours are stored as palette PNGs (a fraction of the size) when the
    conversion is exact, so colours read back by ``verify`` are unchanged."""
    media_dir.mkdir(parents=True, exist_ok=True)
    img = img.convert("RGB")
    out = img
    if img.getcolors(256) is not None:
        pal = img.convert("P", palette=Image.Palette.ADAPTIVE, colors=256)
        if ImageChops.difference(pal.convert("RGB"), img).getbbox() is None:
            out = pal
    out.save(media_dir / name, format="PNG", optimize=False, compress_level=9)
    return f"media/{name}"


def image_paths(case: dict[str, Any]) -> list[str]:
    """Image paths of a case dict in either shape (as written or as dumped)."""
    return media_paths(case, "image")


def load_image(base: Path, rel: str) -> np.ndarray:
    """An image of the case as an H x W x 3 uint8 array (read only inside the
    case/media boundary: :func:`~fourfold.cases.boundary.checked_media`)."""
    import numpy as np

    from ...boundary import checked_media

    with Image.open(checked_media(base, rel, "image")) as im:
        return np.asarray(im.convert("RGB"))


def load_images(case: dict[str, Any], base: Path, n: int) -> tuple[list[np.ndarray], list[str]]:
    """Load the case's first ``n`` images, or say why not."""
    paths = image_paths(case)
    if len(paths) < n:
        return [], [f"expected {n} image(s) in the input, found {len(paths)}"]
    arrays = []
    for p in paths[:n]:
        try:
            arrays.append(load_image(base, p))
        except (OSError, ValueError) as e:  # ValueError: MediaPathError (outside, missing, corrupt)
            return [], [f"cannot read {p}: {e}"]
    return arrays, []


def first_image(case: dict[str, Any], base: Path) -> tuple[np.ndarray | None, list[str]]:
    arrs, err = load_images(case, base, 1)
    return (arrs[0] if arrs else None), err


def draw_shape(draw: ImageDraw.ImageDraw, shape: str, x: int, y: int, s: int, fill: RGB) -> None:
    """A flat shape centred at (x, y) with half-size ``s`` (bounding box 2s+1)."""
    if shape == "circle":
        draw.ellipse((x - s, y - s, x + s, y + s), fill=fill)
    elif shape == "square":
        draw.rectangle((x - s, y - s, x + s, y + s), fill=fill)
    else:
        draw.polygon([(x, y - s), (x + s, y + s), (x - s, y + s)], fill=fill)


def _box(sh: dict[str, Any]) -> tuple[int, int, int, int]:
    return sh["x"] - sh["s"], sh["y"] - sh["s"], sh["x"] + sh["s"], sh["y"] + sh["s"]


def _separation(a: dict[str, Any], b: dict[str, Any]) -> int:
    """Empty pixels between two bounding boxes (negative when they overlap)."""
    ax0, ay0, ax1, ay1 = _box(a)
    bx0, by0, bx1, by1 = _box(b)
    return max(bx0 - ax1, ax0 - bx1, by0 - ay1, ay0 - by1) - 1


def _overlap_ratio(a: dict[str, Any], b: dict[str, Any]) -> float:
    ax0, ay0, ax1, ay1 = _box(a)
    bx0, by0, bx1, by1 = _box(b)
    w = min(ax1, bx1) - max(ax0, bx0) + 1
    h = min(ay1, by1) - max(ay0, by0) + 1
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((2 * a["s"] + 1) ** 2, (2 * b["s"] + 1) ** 2)
    return w * h / smaller


def place(rng: random.Random, specs: list[tuple[str, str, int]], w: int, h: int, *, margin: int = 8,
           same_gap: int = 4, other_gap: int | None = None, max_overlap: float = 0.0,
           placed: list[dict[str, Any]] | None = None, tries: int = 300) -> list[dict[str, Any]]:
    """Rejection-sample positions for (shape, colour, half-size) specs.

    Shapes of one colour never touch (so each stays its own component); shapes of
    different colours are kept ``other_gap`` apart, or, when ``other_gap`` is None,
    may overlap slightly (at most ``max_overlap`` of the smaller bounding box).
    A spec that finds no room is dropped: callers count what was placed."""
    out = list(placed or [])
    start = len(out)
    for shape, colour, s in specs:
        for _ in range(tries):
            cand = {"shape": shape, "colour": colour, "s": s,
                    "x": rng.randint(margin + s, w - margin - s - 1), "y": rng.randint(margin + s, h - margin - s - 1)}
            ok = True
            for o in out:
                if o["colour"] == colour or other_gap is not None:
                    gap = same_gap if o["colour"] == colour else other_gap
                    if _separation(cand, o) < (gap or 0):
                        ok = False
                        break
                elif _overlap_ratio(cand, o) > max_overlap:
                    ok = False
                    break
            if ok:
                out.append(cand)
                break
    return out[start:]


def scene(shapes: list[dict[str, Any]], w: int, h: int, bg: RGB = BACKGROUND) -> Image.Image:
    img = Image.new("RGB", (w, h), bg)
    draw = ImageDraw.Draw(img)
    for sh in shapes:
        draw_shape(draw, sh["shape"], sh["x"], sh["y"], sh["s"], PALETTE[sh["colour"]])
    return img


def plural(shape: str) -> str:
    return shape + "es" if shape.endswith("s") else shape + "s"
