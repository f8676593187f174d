"""A first-person walk through a hall of pillars drawn in perspective: turn left,
turn right or straight ahead, read back from the landmarks' shift and growth
between the first and last frames.
"""

from __future__ import annotations

import itertools
import math
import random
from pathlib import Path
from typing import Any

import numpy as np

from .. import GeneratedCase, register
from ..kit.answers import choice
from ..kit.blobs import colour_mask, solid
from ..kit.colours import COLOURS, NAMES
from ..kit.raster import draw_rect
from .clip import GEN, H, W, canvas, video_input, write_clip
from .readback import conclude, frames_check

_FOCAL = 160.0  #: pixels: a 90-degree horizontal field of view
_EYE = 1.0  #: camera height above the floor (world units)
_SKY = (62, 64, 76)
_TILES = ((92, 92, 96), (126, 126, 130))
_FLOOR_FAR = (109, 109, 113)
_NAV = ("turn left", "turn right", "go straight")


def _camera(t: dict[str, Any], f: int) -> tuple[float, float, float]:
    """(x, z, yaw in radians) of the camera at frame f: it walks ``forward``
    units along z while its yaw goes linearly from 0 to ``yaw`` degrees
    (positive = clockwise seen from above = turning right)."""
    e = f / (t["frames"] - 1)
    return 0.0, t["forward"] * e, math.radians(t["yaw"] * e)


def _project(p: dict[str, Any], cam: tuple[float, float, float]) -> tuple[float, float, float, float] | None:
    """Screen box (x0, x1, top, bottom) of a pillar, or None when it is behind the camera."""
    cx, cz, yaw = cam
    dx, dz = p["x"] - cx, p["z"] - cz
    s, c = math.sin(yaw), math.cos(yaw)
    zc, xc = dx * s + dz * c, dx * c - dz * s
    if zc < 0.8:
        return None
    sx, half = W / 2 + _FOCAL * xc / zc, _FOCAL * p["width"] / (2 * zc)
    return sx - half, sx + half, H / 2 - _FOCAL * (p["height"] - _EYE) / zc, H / 2 + _FOCAL * _EYE / zc


def _render_nav(t: dict[str, Any], f: int) -> np.ndarray:
    """A checkered floor seen in perspective (nearer than 14 units), a plain
    wall above the horizon and the pillars, farthest first."""
    cx, cz, yaw = _camera(t, f)
    img = canvas(_SKY)
    rows = np.arange(H // 2, H, dtype=np.float64) + 0.5 - H / 2
    cols = np.arange(W, dtype=np.float64) + 0.5 - W / 2
    zc = (_FOCAL * _EYE / rows)[:, None]
    xc = cols[None, :] * zc / _FOCAL
    s, c = math.sin(yaw), math.cos(yaw)
    wx, wz = cx + xc * c + zc * s, cz - xc * s + zc * c
    odd = (np.floor(wx).astype(np.int64) + np.floor(wz).astype(np.int64)) % 2 == 1
    floor = img[H // 2:]
    floor[:] = _TILES[0]
    floor[odd] = _TILES[1]
    floor[np.broadcast_to(zc > 14, odd.shape)] = _FLOOR_FAR
    boxes = [(b, p) for p in t["pillars"] if (b := _project(p, (cx, cz, yaw))) is not None]
    for (x0, x1, top, bottom), p in sorted(boxes, key=lambda bp: bp[0][3]):  # farthest (highest base) first
        draw_rect(img, (x0 + x1) / 2, (top + bottom) / 2, x1 - x0, bottom - top, COLOURS[p["colour"]])
    return img


def _visible_area(box: tuple[float, float, float, float]) -> float:
    """Area in px of a projected pillar's part inside the frame (x is always inside for landmarks)."""
    return (box[1] - box[0]) * (min(box[3], H) - max(box[2], 0))


def _nav_rule(shifts: list[float], growth: float) -> str | None:
    """The answer from the landmarks' horizontal shifts (last minus first frame,
    px) and their mean growth in area: everything sliding right means the camera
    turned left (and vice versa); landmarks spreading apart while growing means
    it walked straight ahead."""
    if all(d > 20 for d in shifts):
        return "turn left"
    if all(d < -20 for d in shifts):
        return "turn right"
    if any(d < 0 for d in shifts) and any(d > 0 for d in shifts) and growth > 1.25 and max(map(abs, shifts)) < 60:
        return "go straight"
    return None


@frames_check
def _verify_nav(case: dict[str, Any], truth: dict[str, Any], frames: list[np.ndarray]) -> list[str]:
    """Measure the landmark pillars in the first and last decoded frames: their
    horizontal shifts (and growth) give the camera's motion."""
    problems: list[str] = []
    cams = (_camera(truth, 0), _camera(truth, truth["frames"] - 1))
    pillars = {p["colour"]: p for p in truth["pillars"]}
    shifts, ratios = [], []
    for colour in truth["landmarks"]:
        got = []
        for img, cam in zip((frames[0], frames[-1]), cams, strict=True):
            m = solid(colour_mask(img, COLOURS[colour]))
            ys, xs = np.nonzero(m)
            if len(xs) < 60:
                return [*problems, f"the {colour} pillar is not visible in the first or last frame"]
            if xs.min() <= 1 or xs.max() >= W - 2:
                return [*problems, f"the {colour} pillar is cut off by the frame's edge"]
            box = _project(pillars[colour], cam)
            assert box is not None
            if abs(xs.mean() - (box[0] + box[1]) / 2) > 4:
                problems.append(f"the {colour} pillar is at x={xs.mean():.0f}, the stored scene puts it at "
                                f"{(box[0] + box[1]) / 2:.0f}")
            got.append((float(xs.mean()), len(xs)))
        shifts.append(got[1][0] - got[0][0])
        ratios.append(got[1][1] / got[0][1])
    derived = _nav_rule(shifts, sum(ratios) / len(ratios))
    if derived is None:
        return [*problems, f"cannot tell the camera's motion from shifts {[round(d) for d in shifts]}"]
    return conclude(case, problems, derived, truth["answer"], shows="the landmarks show")


@register(GEN, "video_egocentric_navigation", verify=_verify_nav)
def gen_egocentric_navigation(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """A first-person walk through a hall of coloured pillars drawn in
    perspective over a checkered floor: the camera turns 30-50 degrees left or
    right (while stepping a little forward) or walks straight ahead."""
    answer = rng.choice(_NAV)
    for _ in range(1000):
        n = rng.randint(24, 40)
        if answer == "go straight":
            yaw, fwd = 0.0, round(rng.uniform(1.5, 2.5), 2)
        else:
            yaw = float(rng.randint(30, 50) * (-1 if answer == "turn left" else 1))
            fwd = round(rng.uniform(0.0, 0.6), 2)
        t: dict[str, Any] = {"frames": n, "yaw": yaw, "forward": fwd, "pillars": []}
        for c in rng.sample(NAMES, rng.randint(3, 5)):
            bearing, dist = math.radians(rng.uniform(-70, 70)), rng.uniform(4.5, 9.0)
            t["pillars"].append({"colour": c, "x": round(dist * math.sin(bearing), 2),
                                 "z": round(dist * math.cos(bearing), 2), "width": round(rng.uniform(0.5, 0.9), 2),
                                 "height": round(rng.uniform(1.6, 2.6), 2)})
        ends = [[_project(p, _camera(t, f)) for p in t["pillars"]] for f in (0, n - 1)]
        marks = [(p["colour"], a, b) for p, a, b in zip(t["pillars"], *ends, strict=True)
                 if a is not None and b is not None and min(a[0], b[0]) > 6 and max(a[1], b[1]) < W - 6]
        if len(marks) < 2:
            continue
        overlap = False
        for f in range(n):
            xs = sorted((b[0], b[1]) for p in t["pillars"] if (b := _project(p, _camera(t, f))) is not None)
            overlap = overlap or any(b0 < a1 + 4 for (_, a1), (b0, _) in itertools.pairwise(xs))
        if overlap:
            continue
        shifts = [(b[0] + b[1] - a[0] - a[1]) / 2 for _, a, b in marks]
        growth = sum(_visible_area(b) / _visible_area(a) for _, a, b in marks) / len(marks)
        if answer == "go straight":
            ok = min(shifts) < -8 and max(shifts) > 8 and growth > 1.5 and max(map(abs, shifts)) < 45
        else:
            ok = min(map(abs, shifts)) > 30 and _nav_rule(shifts, growth) == answer
        if ok:
            break
    else:  # pragma: no cover - 1000 tries always suffice in practice
        raise RuntimeError("no walk met the constraints")
    t["landmarks"] = [c for c, _, _ in marks]
    frames = [_render_nav(t, f) for f in range(n)]
    q = ("This video is filmed by a camera carried through a hall with coloured pillars. "
         "Did the camera turn left, turn right, or go straight ahead? Answer with one of: turn left, turn right, "
         "go straight.")
    path = write_clip(frames, media_dir, "video_egocentric_navigation", index)
    t["answer"] = answer
    return GeneratedCase("egocentric_navigation", video_input(path, q), choice(list(_NAV), answer),
                         tags=[answer.replace(" ", "-")], truth=t)
