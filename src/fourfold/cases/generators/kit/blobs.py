"""Finding drawn objects again in decoded pixels: colour masks, connected
components and their shapes. numpy is imported inside the functions: listing
the generators must not pay for it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from .colours import COLOURS

if TYPE_CHECKING:
    import numpy as np


def exact_mask(arr: np.ndarray, rgb: Sequence[int]) -> np.ndarray:
    """Pixels exactly of colour ``rgb`` (three 2-D comparisons: several times
    faster than ``np.all(..., axis=-1)``)."""
    r, g, b = (int(v) for v in rgb)
    return (arr[..., 0] == r) & (arr[..., 1] == g) & (arr[..., 2] == b)


def components(mask: np.ndarray) -> list[dict[str, int]]:
    """8-connected components of a boolean mask: area, inclusive bounding box
    and the sums of the pixels' x and y (``sx``, ``sy``: the centre is
    ``sx / area``, ``sy / area``), top-down.

    Run-length union-find rather than scipy.ndimage: importing scipy costs half
    a second, more than verifying a whole suite, and runs are few in flat pictures."""
    import numpy as np

    h, w = mask.shape
    padded = np.zeros((h, w + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    d = np.diff(padded, axis=1)
    starts = np.argwhere(d == 1)
    ends = np.argwhere(d == -1)
    runs = [(int(r), int(s), int(e)) for (r, s), (_, e) in zip(starts, ends, strict=True)]  # [s, e) columns
    parent = list(range(len(runs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    prev: list[int] = []
    cur: list[int] = []
    row = -1
    for i, (r, s, e) in enumerate(runs):
        if r != row:
            prev = cur if r == row + 1 else []
            cur = []
            row = r
        for j in prev:
            _, ps, pe = runs[j]
            if ps <= e and s <= pe:  # overlapping or diagonal neighbours
                a, b = find(i), find(j)
                if a != b:
                    parent[a] = b
        cur.append(i)
    comps: dict[int, dict[str, int]] = {}
    for i, (r, s, e) in enumerate(runs):
        c = comps.setdefault(find(i), {"area": 0, "y0": r, "y1": r, "x0": s, "x1": e - 1, "sx": 0, "sy": 0})
        c["area"] += e - s
        c["sx"] += (s + e - 1) * (e - s) // 2
        c["sy"] += r * (e - s)
        c["y0"], c["y1"] = min(c["y0"], r), max(c["y1"], r)
        c["x0"], c["x1"] = min(c["x0"], s), max(c["x1"], e - 1)
    return sorted(comps.values(), key=lambda c: (c["y0"], c["x0"]))


def classify(comp: dict[str, int]) -> str:
    """Shape of an unoccluded component from how much of its bounding box it
    fills: squares fill it, discs about pi/4, upright triangles about half."""
    box = (comp["x1"] - comp["x0"] + 1) * (comp["y1"] - comp["y0"] + 1)
    ratio = comp["area"] / box
    if ratio >= 0.92:
        return "square"
    if ratio >= 0.64:
        return "circle"
    return "triangle"


def colour_mask(frame: np.ndarray, rgb: tuple[int, int, int], *, min_frac: float = 0.3,
                min_cos: float = 0.92, tol: int = 45) -> np.ndarray:
    """Pixels of ``rgb``. Chromatic colours are matched by hue direction and a
    minimum saturation, so fog (blending with grey) and codec drift do not lose
    them; neutral colours (white, grey cups) by a plain per-channel tolerance."""
    import numpy as np

    f = frame.astype(np.float32)
    t = np.asarray(rgb, np.float32)
    tc = t - t.mean()
    tn = float(np.linalg.norm(tc))
    if tn < 30:
        return np.abs(f - t).max(axis=2) < tol
    c = f - f.mean(axis=2, keepdims=True)
    dot = (c * tc).sum(axis=2) / tn
    norm = np.linalg.norm(c, axis=2)
    return (dot > min_cos * norm) & (dot > min_frac * tn)


def solid(mask: np.ndarray, px: int = 2) -> np.ndarray:
    """The mask minus a ``px``-wide rim: drops the thin lines of blended hue the
    codec leaves where two objects of other colours touch (red next to blue
    reads as a magenta sliver), keeps every real object (all are >= 20 px)."""
    from scipy import ndimage

    return ndimage.binary_erosion(mask, iterations=px)


def centroid(mask: np.ndarray, min_px: int = 30) -> tuple[float, float] | None:
    """Mean position (x, y) of the mask's pixels, or None when it has fewer than ``min_px``."""
    import numpy as np

    ys, xs = np.nonzero(mask)
    if len(xs) < min_px:
        return None
    return float(xs.mean()), float(ys.mean())


def blobs(mask: np.ndarray, min_px: int = 40) -> list[tuple[float, float, int]]:
    """Connected components (8-connected) as (cx, cy, area), small specks dropped:
    :func:`components`, centred."""
    return sorted((c["sx"] / c["area"], c["sy"] / c["area"], c["area"]) for c in components(mask)
                  if c["area"] >= min_px)


def nearest_colour(rgb: Iterable[float]) -> str | None:
    """Palette name of a pixel by hue, or None for a neutral (grey-ish) pixel."""
    import numpy as np

    p = np.asarray(list(rgb), np.float32)
    pc = p - p.mean()
    if np.linalg.norm(pc) < 30:
        return None
    best, best_cos = None, 0.8
    for name, c in COLOURS.items():
        tc = np.asarray(c, np.float32) - np.mean(c)
        cos = float(pc @ tc / (np.linalg.norm(pc) * np.linalg.norm(tc)))
        if cos > best_cos:
            best, best_cos = name, cos
    return best
