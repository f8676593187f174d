"""Prediction and the unexpected: where a rolling ball will end up, and a thrown ball
that may do something physically impossible (read back from its decoded track).
"""

from __future__ import annotations

import itertools
import math
import random
from pathlib import Path
from typing import Any

import numpy as np

from .. import GeneratedCase, register
from ..kit.answers import choice, expect, lettered_question
from ..kit.blobs import centroid, colour_mask, solid
from ..kit.colours import COLOURS, NAMES
from ..kit.raster import draw_rect, draw_shape, lerp
from .clip import FPS, GEN, WALL_RGB, WHITE, W, canvas, video_input, write_clip
from .readback import conclude, frames_check

_EDGE_SLOTS = [(40.0, 36.0), (160.0, 30.0), (280.0, 36.0), (292.0, 120.0), (280.0, 204.0), (160.0, 210.0),
               (40.0, 204.0), (28.0, 120.0)]
_TARGET = 36  #: side of the target boxes


def _ray_hits(p: tuple[float, float], d: tuple[float, float], box: tuple[float, float], pad: float) -> float | None:
    """Distance along the ray p + s*d (d unit) to a box of side _TARGET+2*pad, or None."""
    half = _TARGET / 2 + pad
    lo, hi = 0.0, math.inf
    for pi, di, bi in ((p[0], d[0], box[0]), (p[1], d[1], box[1])):
        if abs(di) < 1e-12:
            if abs(pi - bi) > half:
                return None
            continue
        s1, s2 = (bi - half - pi) / di, (bi + half - pi) / di
        lo, hi = max(lo, min(s1, s2)), min(hi, max(s1, s2))
    return lo if lo <= hi else None


def _predict_target(p: tuple[float, float], q: tuple[float, float], boxes: dict[str, list[float]],
                    pad: float) -> list[str]:
    """Colours of the boxes the extrapolated path p->q meets, nearest first."""
    d = (q[0] - p[0], q[1] - p[1])
    norm = math.hypot(*d)
    d = (d[0] / norm, d[1] / norm)
    hits = [(s, c) for c, b in boxes.items() if (s := _ray_hits(p, d, (b[0], b[1]), pad)) is not None]
    return [c for _, c in sorted(hits)]


@frames_check
def _verify_prediction(case: dict[str, Any], truth: dict[str, Any], frames: list[np.ndarray]) -> list[str]:
    """Extrapolate the white ball's track (first to last frame) to the boxes found in the video."""
    problems: list[str] = []
    a = centroid(colour_mask(frames[0], WHITE, tol=40))
    b = centroid(colour_mask(frames[-1], WHITE, tol=40))
    if a is None or b is None or math.dist(a, b) < 20:
        return ["the white ball is not visible or does not move"]
    boxes = {}
    for c in truth["boxes"]:
        p = centroid(colour_mask(frames[-1], COLOURS[c]))
        if p is None:
            return [f"the {c} box is not visible"]
        boxes[c] = list(p)
    hits = _predict_target(a, b, boxes, pad=2)
    if not hits:
        return ["the ball's path meets no box"]
    return conclude(case, problems, hits[0], truth["answer"], shows="the ball's path leads to")


@register(GEN, "video_trajectory_prediction", verify=_verify_prediction)
def gen_trajectory_prediction(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """A ball rolls straight towards one of four boxes and the clip stops about
    half way: which box will it reach? Other boxes are kept well off the path."""
    for _ in range(200):
        slots = rng.sample(_EDGE_SLOTS, 4)
        cols = rng.sample(NAMES, 4)
        boxes = {c: list(s) for c, s in zip(cols, slots, strict=True)}
        target = cols[0]
        start = (float(rng.randint(130, 190)), float(rng.randint(95, 145)))
        tx, ty = boxes[target]
        hits = _predict_target(start, (tx, ty), boxes, pad=18)
        if hits == [target]:
            break
    frac = rng.uniform(0.45, 0.6)
    stop = (start[0] + (tx - start[0]) * frac, start[1] + (ty - start[1]) * frac)
    n = rng.randint(20, 32)
    frames = []
    for f in range(n):
        img = canvas()
        for c, (x, y) in boxes.items():
            draw_rect(img, x, y, _TARGET, _TARGET, COLOURS[c])
        x, y = lerp(start, stop, f / (n - 1))
        draw_shape(img, "circle", x, y, 20, WHITE)
        frames.append(img)
    opts = rng.sample(cols, 4)
    q = ("The white ball keeps moving in a straight line at the same speed after the video ends. "
         f"Which box will it reach? Answer with one of: {', '.join(opts)}.")
    path = write_clip(frames, media_dir, "video_trajectory_prediction", index)
    truth = {"frames": n, "boxes": boxes, "start": list(start), "stop": [round(v, 3) for v in stop], "answer": target}
    return GeneratedCase("prediction", video_input(path, q), choice(opts, target), truth=truth)


_FLOOR_Y = 214  #: top of the grey floor the ball is thrown from
_THROW_R = 11
_UNEXPECTED_OPTIONS = {
    "reverse": "The ball suddenly turns back in mid-air although nothing touches it",
    "teleport": "The ball vanishes and reappears in another place",
    "rise": "The falling ball stops falling and rises up on its own",
    "nothing": "Nothing unusual: the ball flies in a normal arc",
}


def _unexpected_track(t: dict[str, Any]) -> list[tuple[float, float] | None]:
    """Per frame, the ball's centre (None while it is hidden) for the stored
    throw parameters and event: a plain projectile (x0, y0, vx, vy0, g; y grows
    downwards) until frame ``at``, then the event."""
    x0, y0, vx, vy0, g, at = t["x0"], t["y0"], t["vx"], t["vy0"], t["g"], t["at"]

    def normal(f: int) -> tuple[float, float]:
        s = f / FPS
        return x0 + vx * s, y0 - vy0 * s + g * s * s / 2

    out: list[tuple[float, float] | None] = []
    for f in range(t["frames"]):
        x, y = normal(f)
        if t["event"] == "reverse" and f > at:
            x = normal(at)[0] - vx * (f - at) / FPS
        elif t["event"] == "teleport" and f >= at:
            if f < at + t["hidden"]:
                out.append(None)
                continue
            x += t["shift"]
        elif t["event"] == "rise" and f > at:
            s, (_, yk) = (f - at) / FPS, normal(at)
            vk = -vy0 + g * at / FPS  # falling speed at the event (downwards positive)
            y = yk + vk * s - g * s * s / 2  # gravity now points up
        out.append((x, y))
    return out


def _runs(values: list[float], step: int = 2, min_move: float = 3.0) -> list[int]:
    """Signs (+1/-1) of the clear moves values[f+step] - values[f], with repeats
    collapsed: [-1, 1] means "first decreasing, then increasing"."""
    moves = [b - a for a, b in zip(values[:-step], values[step:], strict=True)]
    signs = [1 if d > 0 else -1 for d in moves if abs(d) >= min_move]
    return [k for k, _ in itertools.groupby(signs)]


def _classify_track(track: list[tuple[float, float] | None]) -> tuple[str | None, str]:
    """What the ball does, from its track alone: (event, why). Hidden frames in
    the middle with a jump -> teleport; a horizontal reversal -> reverse; a fall
    that turns into a rise -> rise; up then down only -> nothing."""
    seen = [f for f, p in enumerate(track) if p is not None]
    if not seen:
        return None, "the ball is never visible"
    if seen[0] != 0 or seen[-1] != len(track) - 1:
        return None, "the ball is not visible at the start or the end"
    gaps = [(a, b) for a, b in itertools.pairwise(seen) if b - a > 1]
    if gaps:
        a, b = gaps[0]
        pa, pb, pp = track[a], track[b], track[a - 1]
        assert pa is not None and pb is not None and pp is not None
        pred = (pa[0] + (pa[0] - pp[0]) * (b - a), pa[1] + (pa[1] - pp[1]) * (b - a))
        jump = math.dist(pred, pb)
        if len(gaps) == 1 and jump > 40:
            return "teleport", f"hidden in frames {a + 1}-{b - 1}, reappears {jump:.0f} px off its path"
        return None, f"the ball is hidden in frames {a + 1}-{b - 1} but does not jump ({jump:.0f} px)"
    xs = [p[0] for p in track if p is not None]
    ys = [p[1] for p in track if p is not None]
    xr, yr = _runs(xs), _runs(ys)
    if len(xr) > 1:
        return "reverse", f"horizontal motion {xr}"
    if any(a == 1 and b == -1 for a, b in itertools.pairwise(yr)):
        return "rise", f"vertical motion {yr} (a fall that turns into a rise)"
    if yr in ([-1, 1], [-1]):
        return "nothing", f"vertical motion {yr}"
    return None, f"cannot tell: horizontal {xr}, vertical {yr}"


@frames_check
def _verify_unexpected(case: dict[str, Any], truth: dict[str, Any], frames: list[np.ndarray]) -> list[str]:
    """Track the ball in every decoded frame: it must sit where the stored throw
    puts it, and its track alone must show the stored event."""
    problems: list[str] = []
    rgb = COLOURS[truth["colour"]]
    track = [centroid(solid(colour_mask(img, rgb)), min_px=60) for img in frames]
    want = _unexpected_track(truth)
    for f, (got, exp) in enumerate(zip(track, want, strict=True)):
        if (got is None) != (exp is None) or (got and exp and math.dist(got, exp) > 3.0):
            problems.append(f"frame {f}: the ball is at {got}, the stored throw puts it at {exp}")
            break
    derived, why = _classify_track(track)
    if derived is None:
        return [*problems, why]
    if derived != truth["event"]:
        problems.append(f"ground truth says {truth['event']}, the video shows {derived} ({why})")
    expect(case, _UNEXPECTED_OPTIONS[derived], problems)
    return problems


@register(GEN, "video_unexpected_action", verify=_verify_unexpected)
def gen_unexpected_action(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """A ball is thrown in an arc; at a random moment it may do something
    physically impossible: turn back in mid-air, vanish and reappear elsewhere,
    or start rising while falling. About one clip in four is a plain throw
    (answer "nothing unusual"), so the answer is not always an anomaly."""
    event = rng.choice(("nothing", "reverse", "teleport", "rise"))
    colour = rng.choice(NAMES)
    lo, hi, top = _THROW_R + 4, W - _THROW_R - 4, _THROW_R + 4
    for _ in range(500):
        n = rng.randint(26, 40)
        t_end = (n - 1) / FPS
        sgn = rng.choice((-1, 1))
        x0 = float(rng.randint(30, 60)) if sgn > 0 else float(W - rng.randint(30, 60))
        y0 = float(_FLOOR_Y - _THROW_R - 1)
        vx = round(sgn * rng.uniform(150, 240) / t_end, 2)
        t_apex = rng.uniform(0.5, 0.62) * t_end
        h = rng.uniform(110, 150)
        g = round(2 * h / t_apex ** 2, 3)
        vy0 = round(g * t_apex, 3)
        t: dict[str, Any] = {"frames": n, "colour": colour, "x0": x0, "y0": y0, "vx": vx, "vy0": vy0, "g": g,
                             "event": event, "at": n - 1}
        apex_f = int(t_apex * FPS)
        if event == "reverse":
            t["at"] = rng.randint(int(0.3 * n), int(0.7 * n))
        elif event == "teleport":
            t["at"] = rng.randint(int(0.3 * n), int(0.65 * n))
            t["hidden"] = rng.randint(2, 3)
            t["shift"] = float(rng.choice((-1, 1)) * rng.randint(70, 110))
        elif event == "rise":
            t["at"] = rng.randint(apex_f + 3, max(apex_f + 3, int(0.8 * n)))
        track = _unexpected_track(t)
        pts = [p for p in track if p is not None]
        if not all(lo <= x <= hi and top <= y <= y0 + 0.5 for x, y in pts):
            continue
        got, _ = _classify_track(track)
        if got != event:
            continue
        if event == "rise":  # a clear fall, then a clear rise of at least 35 px
            ys = [p[1] for p in pts]
            low = max(range(t["at"], n), key=ys.__getitem__)
            if ys[low] - ys[-1] < 35 or ys[low] - ys[t["at"]] < 0 or ys[t["at"]] - min(ys) < 20:
                continue
        if event == "reverse" and min(abs(pts[t["at"]][0] - pts[0][0]), abs(pts[t["at"]][0] - pts[-1][0])) < 30:
            continue
        break
    else:  # pragma: no cover - 500 tries always suffice in practice
        raise RuntimeError("no throw met the constraints")
    frames = []
    for p in track:
        img = canvas()
        img[_FLOOR_Y:] = WALL_RGB
        if p is not None:
            draw_shape(img, "circle", p[0], p[1], 2 * _THROW_R, COLOURS[colour])
        frames.append(img)
    opts = [_UNEXPECTED_OPTIONS[k] for k in ("reverse", "teleport", "rise", "nothing")]
    q = lettered_question(rng, opts, f"A {colour} ball is thrown through the air. Does anything physically unexpected "
                          "happen?")
    path = write_clip(frames, media_dir, "video_unexpected_action", index)
    answer = _UNEXPECTED_OPTIONS[event]
    t["answer"] = answer
    return GeneratedCase("unexpected_action", video_input(path, q), choice(opts, answer), tags=[event], truth=t)
