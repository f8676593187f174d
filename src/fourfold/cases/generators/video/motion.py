"""Motion: which way a square moves among distractors, and the order in which
shapes appear.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import numpy as np

from .. import GeneratedCase, register
from ..kit.answers import choice, expect
from ..kit.blobs import centroid, colour_mask, solid
from ..kit.colours import COLOURS, NAMES
from ..kit.raster import draw_shape, lerp
from .clip import DIRECTIONS, GEN, H, W, canvas, video_input, write_clip
from .readback import conclude, frames_check
from .weather import add_fog, add_rain


def linear_mover(rng: random.Random, direction: str, size: int) -> tuple[list[float], list[float]]:
    """Start and end points of a straight move that stays fully inside the frame."""
    m = size // 2 + 6
    if direction in ("left", "right"):
        dist = rng.randint(90, 170)
        y = rng.randint(m, H - m)
        xs = rng.randint(m, W - m - dist)
        a, b = [float(xs), float(y)], [float(xs + dist), float(y)]
    else:
        dist = rng.randint(70, 130)
        x = rng.randint(m, W - m)
        ys = rng.randint(m, H - m - dist)
        a, b = [float(x), float(ys)], [float(x), float(ys + dist)]
    return (b, a) if direction in ("left", "up") else (a, b)


def direction_scene(rng: random.Random) -> dict[str, Any]:
    """A target square moving one way plus 1-2 distractor squares of other
    colours that move another way or stay still."""
    n = rng.randint(24, 40)
    cols = rng.sample(NAMES, 3)
    d = rng.choice(DIRECTIONS)
    size = rng.randint(26, 36)
    s, e = linear_mover(rng, d, size)
    objects = [{"colour": cols[0], "shape": "square", "size": size, "direction": d, "start": s, "end": e}]
    for c in cols[1:1 + rng.randint(1, 2)]:
        dd = rng.choice([x for x in (*DIRECTIONS, "still") if x != d])
        sz = rng.randint(22, 34)
        if dd == "still":
            p = [float(rng.randint(30, W - 30)), float(rng.randint(30, H - 30))]
            s2, e2 = p, p
        else:
            s2, e2 = linear_mover(rng, dd, sz)
        objects.append({"colour": c, "shape": "square", "size": sz, "direction": dd, "start": s2, "end": e2})
    return {"frames": n, "objects": objects}


def render_movers(scene: dict[str, Any]) -> list[np.ndarray]:
    """Objects drawn back to front: the first object (the target) last, on top."""
    n = scene["frames"]
    out = []
    for f in range(n):
        img = canvas()
        for o in reversed(scene["objects"]):
            x, y = lerp(o["start"], o["end"], f / (n - 1))
            draw_shape(img, o["shape"], x, y, o["size"], COLOURS[o["colour"]])
        out.append(img)
    return out


def direction_question(colour: str) -> str:
    return f"In which direction does the {colour} square move? Answer left, right, up or down."


def direction_case(rng: random.Random, index: int, media_dir: Path, name: str, overlay: str | None,
                    category: str) -> GeneratedCase:
    scene = direction_scene(rng)
    frames = render_movers(scene)
    if overlay == "rain":
        add_rain(rng, scene["frames"], frames)
    elif overlay == "fog":
        add_fog(rng, frames)
    path = write_clip(frames, media_dir, name, index)
    t = scene["objects"][0]
    truth = {**scene, "overlay": overlay, "answer": t["direction"]}
    return GeneratedCase(category, video_input(path, direction_question(t["colour"])),
                         choice(list(DIRECTIONS), t["direction"]), tags=[overlay] if overlay else [], truth=truth)


@frames_check
def verify_direction(case: dict[str, Any], truth: dict[str, Any], frames: list[np.ndarray]) -> list[str]:
    """Track the target colour's centroid between the first and last frames."""
    problems: list[str] = []
    t = truth["objects"][0]
    tol = 4.0 if not truth.get("overlay") else 7.0
    a = centroid(solid(colour_mask(frames[0], COLOURS[t["colour"]])))
    b = centroid(solid(colour_mask(frames[-1], COLOURS[t["colour"]])))
    if a is None or b is None:
        return [f"the {t['colour']} square is not visible in the first or last frame"]
    for got, want, when in ((a, t["start"], "start"), (b, t["end"], "end")):
        if math.dist(got, want) > tol:
            problems.append(f"{t['colour']} square at {when} is at {got[0]:.0f},{got[1]:.0f}, expected {want}")
    dx, dy = b[0] - a[0], b[1] - a[1]
    if max(abs(dx), abs(dy)) < 20:
        return [*problems, f"the {t['colour']} square hardly moves"]
    derived = ("right" if dx > 0 else "left") if abs(dx) > abs(dy) else ("down" if dy > 0 else "up")
    return conclude(case, problems, derived, t["direction"])


@register(GEN, "video_moving_direction", verify=verify_direction)
def gen_moving_direction(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """Which way a coloured square moves, among distractors moving other ways."""
    return direction_case(rng, index, media_dir, "video_moving_direction", None, "moving_direction")


_SLOTS6 = [(x, y) for y in (70, 170) for x in (60, 160, 260)]


@frames_check
def _verify_order(case: dict[str, Any], truth: dict[str, Any], frames: list[np.ndarray]) -> list[str]:
    """First frame in which each colour is visible, sorted."""
    problems: list[str] = []
    first: dict[str, int] = {}
    for a in truth["appearances"]:
        for f, img in enumerate(frames):
            if solid(colour_mask(img, COLOURS[a["colour"]])).sum() >= 60:
                first[a["colour"]] = f
                break
        else:
            return [f"the {a['colour']} {a['shape']} never appears"]
        if abs(first[a["colour"]] - a["frame"]) > 1:
            problems.append(f"{a['colour']} appears at frame {first[a['colour']]}, ground truth says {a['frame']}")
    order = sorted(first, key=first.__getitem__)
    derived = order[0] if truth["ask"] == "first" else order[-1]
    expect(case, derived, problems)
    return problems


@register(GEN, "video_appearance_order", verify=_verify_order)
def gen_appearance_order(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """Shapes pop up one at a time; which colour came first (or last)? Gaps of
    at least 5 frames keep the order visible in 16 uniformly sampled frames."""
    k = rng.randint(3, 4)
    cols = rng.sample(NAMES, k)
    slots = rng.sample(_SLOTS6, k)
    t = rng.randint(2, 5)
    apps = []
    for c, (x, y) in zip(cols, slots, strict=True):
        apps.append({"colour": c, "shape": rng.choice(("square", "circle", "triangle")), "size": rng.randint(34, 46),
                     "pos": [x, y], "frame": t})
        t += rng.randint(5, 9)
    n = apps[-1]["frame"] + rng.randint(6, 10)
    frames = []
    for f in range(n):
        img = canvas()
        for a in apps:
            if f >= a["frame"]:
                draw_shape(img, a["shape"], a["pos"][0], a["pos"][1], a["size"], COLOURS[a["colour"]])
        frames.append(img)
    ask = rng.choice(("first", "last"))
    answer = cols[0] if ask == "first" else cols[-1]
    options = rng.sample(cols, k)
    q = f"Coloured shapes appear one after another. Which colour appears {ask}? Answer with one of: {', '.join(options)}."
    path = write_clip(frames, media_dir, "video_appearance_order", index)
    truth = {"frames": n, "appearances": apps, "ask": ask, "answer": answer}
    return GeneratedCase("order", video_input(path, q), choice(options, answer), tags=[ask], truth=truth)
