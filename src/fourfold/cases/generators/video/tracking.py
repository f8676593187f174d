"""Following objects: the ball under the swapped cups, and balls counted while they move."""

from __future__ import annotations

import itertools
import math
import random
from pathlib import Path
from typing import Any

import numpy as np

from .. import GeneratedCase, register
from ..kit.answers import choice, expect
from ..kit.blobs import blobs, centroid, colour_mask
from ..kit.colours import COLOURS, NAMES
from ..kit.raster import draw_rect, draw_shape
from .clip import CUP, GEN, W, canvas, video_input, write_clip
from .readback import conclude, frames_check

_CUP_X = (80.0, 160.0, 240.0)
_CUP_Y, _CUP_UP, _CUP_W, _CUP_H, _ARC = 130.0, 104.0, 44, 36, 56.0
_BALL_Y, _BALL_R = 136.0, 9
_SIDES = ("left", "middle", "right")


def _shell_positions(start: int, swaps: list[list[int]]) -> tuple[list[list[tuple[float, float]]], int, int]:
    """Per frame, the (x, y) of cups 0-2 (cup i starts in slot i); also the
    number of frames before the cups are down and the ball's final slot."""
    slot = [0, 1, 2]
    frames: list[list[tuple[float, float]]] = []
    for _ in range(6):  # reveal: cups lifted, ball visible
        frames.append([(_CUP_X[s], _CUP_UP) for s in slot])
    for f in range(1, 4):  # lower
        y = _CUP_UP + (_CUP_Y - _CUP_UP) * f / 3
        frames.append([(_CUP_X[s], y) for s in slot])
    hidden_from = len(frames)
    for a, b in swaps:
        ca, cb = slot.index(a), slot.index(b)
        for f in range(1, 7):
            s = f / 6
            pos = [(_CUP_X[x], _CUP_Y) for x in slot]
            pos[ca] = (_CUP_X[a] + (_CUP_X[b] - _CUP_X[a]) * s, _CUP_Y - _ARC * math.sin(math.pi * s))
            pos[cb] = (_CUP_X[b] + (_CUP_X[a] - _CUP_X[b]) * s, _CUP_Y + _ARC * math.sin(math.pi * s))
            frames.append(pos)
        slot[ca], slot[cb] = b, a
        frames.append([(_CUP_X[x], _CUP_Y) for x in slot])
    for _ in range(3):
        frames.append([(_CUP_X[x], _CUP_Y) for x in slot])
    return frames, hidden_from, slot[start]


@frames_check
def _verify_shell(case: dict[str, Any], truth: dict[str, Any], frames: list[np.ndarray]) -> list[str]:
    """Find the ball's cup in the first frame, then follow that cup frame by
    frame (the three cups are matched to their nearest previous positions)."""
    problems: list[str] = []
    ball = centroid(colour_mask(frames[0], COLOURS["red"]))
    if ball is None:
        return ["the ball is not visible at the start"]
    cups = None
    for f, img in enumerate(frames):
        found = [(x, y) for x, y, _ in blobs(colour_mask(img, CUP), min_px=400)]
        if len(found) != 3:
            return [f"frame {f}: {len(found)} cups visible, expected 3"]
        if cups is None:
            cups = found
            tracked = min(range(3), key=lambda i: abs(found[i][0] - ball[0]))
            continue
        best = min(itertools.permutations(range(3)),
                   key=lambda p: sum(math.dist(cups[i], found[p[i]]) for i in range(3)))
        cups = [found[best[i]] for i in range(3)]
    assert cups is not None
    rank = sorted(range(3), key=lambda i: cups[i][0]).index(tracked)
    derived = _SIDES[rank]
    _, _, end_slot = _shell_positions(truth["start"], truth["swaps"])
    if _SIDES[end_slot] != derived or truth.get("answer") != derived:
        problems.append(f"ground truth says {truth.get('answer')}, following the cup gives {derived}")
    expect(case, derived, problems)
    return problems


@register(GEN, "video_shell_game", verify=_verify_shell)
def gen_shell_game(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """A ball under one of three identical cups, then 2-4 visible swaps. The
    moving cups arc over and under each other so they never overlap, which keeps
    each swap unambiguous to a viewer (and to ``verify``)."""
    start = rng.randrange(3)
    k = rng.randint(2, 4)
    swaps = [sorted(rng.sample(range(3), 2)) for _ in range(k)]
    pos, hidden_from, end = _shell_positions(start, swaps)
    frames = []
    for f, cups in enumerate(pos):
        img = canvas()
        if f < hidden_from:
            draw_shape(img, "circle", _CUP_X[start], _BALL_Y, 2 * _BALL_R, COLOURS["red"])
        for x, y in cups:
            draw_rect(img, x, y, _CUP_W, _CUP_H, CUP)
        frames.append(img)
    q = ("A red ball is placed under one of three cups, then the cups are swapped around. "
         "Under which cup is the ball at the end: left, middle or right?")
    path = write_clip(frames, media_dir, "video_shell_game", index)
    truth = {"frames": len(frames), "start": start, "swaps": swaps, "answer": _SIDES[end]}
    return GeneratedCase("object_shuffle", video_input(path, q), choice(list(_SIDES), _SIDES[end]),
                         tags=[f"{k}-swaps"], truth=truth)


_LANES = [30.0 + 30.0 * i for i in range(7)]


def _bounce(x0: float, v: float, f: int, lo: float, hi: float) -> float:
    """Position after f frames moving at v, reflecting between lo and hi."""
    span = hi - lo
    p = (x0 - lo + v * f) % (2 * span)
    return lo + (p if p <= span else 2 * span - p)


@frames_check
def _verify_counting(case: dict[str, Any], truth: dict[str, Any], frames: list[np.ndarray]) -> list[str]:
    """Count the target colour's blobs in the first, middle and last frames."""
    problems: list[str] = []
    c = truth["colour"]
    counts = {f: len(blobs(colour_mask(frames[f], COLOURS[c]), min_px=80)) for f in (0, len(frames) // 2, -1)}
    if len(set(counts.values())) != 1:
        return [f"{c} ball counts differ between frames: {counts}"]
    derived = counts[0]
    return conclude(case, problems, derived, truth["answer"], says=f"{truth['answer']} {c} balls")


@register(GEN, "video_counting_objects", verify=_verify_counting)
def gen_counting_objects(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """2-6 balls of one colour plus 0-2 of another, each moving back and forth
    in its own lane (so they never overlap and each stays countable)."""
    c, other = rng.sample(NAMES, 2)
    n_target = rng.randint(2, 6)
    n_other = rng.randint(0, min(2, len(_LANES) - n_target))
    lanes = rng.sample(_LANES, n_target + n_other)
    r = 11
    balls = [{"colour": c if i < n_target else other, "y": y, "x": float(rng.randint(20, W - 20)),
              "v": rng.choice((-1, 1)) * rng.uniform(4, 9)} for i, y in enumerate(lanes)]
    n = rng.randint(20, 36)
    frames = []
    for f in range(n):
        img = canvas()
        for b in balls:
            draw_shape(img, "circle", _bounce(b["x"], b["v"], f, r + 2, W - r - 2), b["y"], 2 * r, COLOURS[b["colour"]])
        frames.append(img)
    q = f"How many {c} balls are moving in this video? Answer with a number."
    path = write_clip(frames, media_dir, "video_counting_objects", index)
    for b in balls:
        b["v"] = round(b["v"], 4)
    truth = {"frames": n, "colour": c, "balls": balls, "answer": n_target}
    return GeneratedCase("counting", video_input(path, q), {"kind": "numeric", "answer": n_target, "tolerance": 0},
                         truth=truth)
