"""Hard-edged numpy drawing: a pixel is in or out (no antialiasing), so each
drawn object stays one flat colour and can be found again by that colour."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def draw_shape(img: np.ndarray, shape: str, cx: float, cy: float, size: float, rgb: tuple[int, int, int]) -> None:
    """Draw a filled square, circle or upward triangle of side/diameter ``size``
    centred at (cx, cy), with hard edges (a pixel is in or out) so that the
    object stays one flat colour."""
    import numpy as np

    h, w = img.shape[:2]
    half = size / 2
    x0, x1 = max(int(math.floor(cx - half)) - 1, 0), min(int(math.ceil(cx + half)) + 2, w)
    y0, y1 = max(int(math.floor(cy - half)) - 1, 0), min(int(math.ceil(cy + half)) + 2, h)
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1]
    dx, dy = xx - cx, yy - cy
    if shape == "square":
        m = (np.abs(dx) < half) & (np.abs(dy) < half)
    elif shape == "circle":
        m = dx * dx + dy * dy < half * half
    elif shape == "triangle":
        m = (np.abs(dy) < half) & (np.abs(dx) < (dy + half) / 2)
    else:
        raise ValueError(f"unknown shape {shape!r}")
    img[y0:y1, x0:x1][m] = rgb


def draw_rect(img: np.ndarray, cx: float, cy: float, w: float, h: float, rgb: tuple[int, int, int]) -> None:
    """Axis-aligned filled rectangle centred at (cx, cy)."""
    x0, x1 = max(int(round(cx - w / 2)), 0), min(int(round(cx + w / 2)), img.shape[1])
    y0, y1 = max(int(round(cy - h / 2)), 0), min(int(round(cy + h / 2)), img.shape[0])
    if x0 < x1 and y0 < y1:
        img[y0:y1, x0:x1] = rgb


def lerp(a: tuple[float, float], b: tuple[float, float], t: float) -> tuple[float, float]:
    """The point a fraction ``t`` of the way from ``a`` to ``b``."""
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
