"""Procedural weather over a clip's frames: rain streaks and drifting fog, both
neutral grey so the objects keep their hues for ``verify``.
"""

from __future__ import annotations

import random

import numpy as np

from .clip import H, W


def add_rain(rng: random.Random, n_frames: int, frames: list[np.ndarray]) -> None:
    """Overlay falling rain streaks (neutral grey, 1 px, slanted) in place. Grey
    has no hue, so the objects stay recognisable by colour for ``verify``, while a
    model sees a cluttered, moving foreground."""
    n = rng.randint(100, 140)
    drops = [(rng.uniform(-40, W), rng.uniform(0, H), rng.randint(10, 22), rng.uniform(16, 28)) for _ in range(n)]
    for f, img in enumerate(frames[:n_frames]):
        xs, ys = [], []
        for x0, y0, length, speed in drops:
            y = (y0 + speed * f) % (H + 30) - 20
            x = (x0 + 0.3 * speed * f) % (W + 40) - 20
            t = np.arange(length)
            xs.append(np.rint(x + 0.3 * t).astype(int))
            ys.append(np.rint(y + t).astype(int))
        px, py = np.concatenate(xs), np.concatenate(ys)
        ok = (px >= 0) & (px < W) & (py >= 0) & (py < H)
        img[py[ok], px[ok]] = (200, 200, 200)


def add_fog(rng: random.Random, frames: list[np.ndarray]) -> None:
    """Blend each frame with grey haze whose density (alpha 0.30-0.55) varies
    smoothly in space and drifts sideways over time: low contrast, same hues.
    Integer arithmetic only (a bilinear-interpolated coarse grid), so the
    pixels do not depend on the platform's sin() or SIMD rounding."""
    cell, rows, cols = 64, H // 64 + 2, (W + 4 * len(frames)) // 64 + 2
    grid = np.array([[rng.randint(77, 141) for _ in range(cols)] for _ in range(rows)], np.int64)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.int64)
    gy, fy = yy // cell, yy % cell
    fog = np.array((175, 175, 178), np.int64)
    for f, img in enumerate(frames):
        x = xx + 4 * f
        gx, fx = x // cell, x % cell
        a = (grid[gy, gx] * (cell - fx) * (cell - fy) + grid[gy, gx + 1] * fx * (cell - fy)
             + grid[gy + 1, gx] * (cell - fx) * fy + grid[gy + 1, gx + 1] * fx * fy) // (cell * cell)
        out = (img.astype(np.int64) * (256 - a[..., None]) + fog * a[..., None] + 128) // 256
        img[:] = out.astype(np.uint8)
