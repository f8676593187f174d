"""What changes: a light's colour, a late event, an object that enters, the one
shape that moves, an action or its opposite.
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
from ..kit.blobs import centroid, colour_mask, nearest_colour, solid
from ..kit.colours import COLOURS, NAMES
from ..kit.raster import draw_rect, draw_shape, lerp
from .clip import BG, DIRECTIONS, GEN, GREY, H, W, canvas, video_input, write_clip
from .motion import linear_mover
from .readback import conclude, frames_check


@frames_check
def _verify_state(case: dict[str, Any], truth: dict[str, Any], frames: list[np.ndarray]) -> list[str]:
    """Read the colour at the square's centre in every frame."""
    problems: list[str] = []
    seq = [nearest_colour(img[H // 2, W // 2]) for img in frames]
    runs = [k for k, _ in itertools.groupby(seq)]
    if None in runs:
        return ["the square is missing in some frames"]
    if runs != truth["sequence"]:
        problems.append(f"colours in the video {runs}, ground truth says {truth['sequence']}")
    derived: Any = runs[-1] if truth["ask"] == "final" else len(runs) - 1
    expect(case, derived, problems)
    return problems


@register(GEN, "video_state_change", verify=_verify_state)
def gen_state_change(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """A square "light" that changes colour 1-3 times; asks for the final colour
    or for the number of changes."""
    m = rng.randint(1, 3)
    seq = [rng.choice(NAMES)]
    for _ in range(m):
        seq.append(rng.choice([c for c in NAMES if c != seq[-1]]))
    n = rng.randint(24, 40)
    cuts = sorted(rng.sample(range(4, n - 4), m))
    while any(b - a < 4 for a, b in itertools.pairwise(cuts)):
        cuts = sorted(rng.sample(range(4, n - 4), m))
    size = rng.randint(60, 90)
    frames = []
    for f in range(n):
        img = canvas()
        draw_shape(img, "square", W / 2, H / 2, size, COLOURS[seq[sum(f >= c for c in cuts)]])
        frames.append(img)
    ask = rng.choice(("final", "changes"))
    path = write_clip(frames, media_dir, "video_state_change", index)
    truth = {"frames": n, "sequence": seq, "change_frames": cuts, "ask": ask}
    if ask == "final":
        opts = [seq[-1], *rng.sample([c for c in NAMES if c != seq[-1]], 3)]
        rng.shuffle(opts)
        q = f"The square changes colour during the video. What colour is it at the end? Answer with one of: {', '.join(opts)}."
        ref = choice(opts, seq[-1])
        truth["answer"] = seq[-1]
    else:
        q = "How many times does the square change colour in this video? Answer with a number."
        ref = {"kind": "numeric", "answer": m, "tolerance": 0}
        truth["answer"] = m
    return GeneratedCase("state_change", video_input(path, q), ref, tags=[ask], truth=truth)


_LATE_OPTIONS = {
    "nothing": "Nothing happens: the box stays still the whole time",
    "ball": "A {c} ball appears next to the box",
    "turn": "The box turns {c2}",
    "vanish": "The box disappears",
}


@frames_check
def _verify_late(case: dict[str, Any], truth: dict[str, Any], frames: list[np.ndarray]) -> list[str]:
    """Find the first frame that differs from the first one, and what changed."""
    problems: list[str] = []
    first = frames[0].astype(np.int16)
    changed = [f for f, img in enumerate(frames) if (np.abs(img.astype(np.int16) - first).max(axis=2) > 40).sum() > 100]
    at = changed[0] if changed else None
    if at != truth.get("event_frame"):
        problems.append(f"the scene first changes at frame {at}, ground truth says {truth.get('event_frame')}")
    last = frames[-1]
    bx, by, bw, bh = truth["box"]
    region = (slice(int(by - bh / 2) + 3, int(by + bh / 2) - 3), slice(int(bx - bw / 2) + 3, int(bx + bw / 2) - 3))
    box_grey = colour_mask(last[region], GREY, tol=30).mean() > 0.9
    box_c2 = colour_mask(last[region], COLOURS[truth["c2"]]).mean() > 0.9
    ball_c = colour_mask(last, COLOURS[truth["c"]]).sum() > 150
    if box_grey and not ball_c:
        derived = "nothing"
    elif box_grey and ball_c:
        derived = "ball"
    elif box_c2:
        derived = "turn"
    elif not box_grey and colour_mask(last[region], BG, tol=20).mean() > 0.9:
        derived = "vanish"
    else:
        return [*problems, "cannot tell what happened at the end"]
    if derived != truth["event"]:
        problems.append(f"ground truth says {truth['event']}, the last frame shows {derived}")
    expect(case, _LATE_OPTIONS[derived].format(c=truth["c"], c2=truth["c2"]), problems)
    return problems


@register(GEN, "video_late_event", verify=_verify_late)
def gen_late_event(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """Nothing happens for most of the clip; the key event comes only in the last
    0.5 s (4 frames). The report found every model worst when the key event came
    late, and 16 uniformly sampled frames include only one or two of these."""
    n = rng.randint(28, 44)
    c, c2 = rng.sample(NAMES, 2)
    event = rng.choice(("ball", "turn", "vanish"))
    bw, bh = rng.randint(70, 90), rng.randint(50, 64)
    bx, by = rng.randint(110, 210), rng.randint(90, 150)
    side = rng.choice((-1, 1))
    at = n - 4
    frames = []
    for f in range(n):
        img = canvas()
        late = f >= at
        if not (late and event == "vanish"):
            draw_rect(img, bx, by, bw, bh, COLOURS[c2] if late and event == "turn" else GREY)
        if late and event == "ball":
            draw_shape(img, "circle", bx + side * (bw / 2 + 28), by, 34, COLOURS[c])
        frames.append(img)
    opts = [_LATE_OPTIONS[k].format(c=c, c2=c2) for k in ("nothing", "ball", "turn", "vanish")]
    q = lettered_question(rng, opts, "A grey box is shown. Watch the whole clip, to the very last frame. What happens?")
    path = write_clip(frames, media_dir, "video_late_event", index)
    answer = _LATE_OPTIONS[event].format(c=c, c2=c2)
    truth = {"frames": n, "box": [bx, by, bw, bh], "event": event, "event_frame": at, "c": c, "c2": c2,
             "answer": answer}
    return GeneratedCase("action_sequence", video_input(path, q), choice(opts, answer), tags=["late-event", event],
                         truth=truth)


@frames_check
def _verify_existence(case: dict[str, Any], truth: dict[str, Any], frames: list[np.ndarray]) -> list[str]:
    problems: list[str] = []
    rgb = COLOURS[truth["colour"]]
    seen = [f for f, img in enumerate(frames) if solid(colour_mask(img, rgb)).sum() >= 60]
    derived = "Yes" if seen else "No"
    if derived != truth["answer"]:
        problems.append(f"ground truth says {truth['answer']}, the {truth['colour']} object is "
                        f"{'seen in frames ' + str(seen[:3]) if seen else 'never seen'}")
    expect(case, derived, problems)
    return problems


@register(GEN, "video_existence", verify=_verify_existence)
def gen_existence(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """Is an object of a colour ever shown? When it is, it enters only part-way
    through the clip, so a model must look at more than the first frame."""
    n = rng.randint(24, 40)
    cols = rng.sample(NAMES, 4)
    present = rng.random() < 0.5
    target = cols[0]
    shown = cols[1:4] if not present else [cols[0], *cols[1:rng.randint(2, 3)]]
    objects = []
    for c in shown:
        d = rng.choice(DIRECTIONS)
        size = rng.randint(26, 36)
        s, e = linear_mover(rng, d, size)
        first = rng.randint(n // 4, n // 2) if c == target else 0
        objects.append({"colour": c, "shape": rng.choice(("square", "circle", "triangle")), "size": size,
                        "start": s, "end": e, "from_frame": first})
    frames = []
    for f in range(n):
        img = canvas()
        for o in reversed(objects):  # the asked-about object on top
            if f >= o["from_frame"]:
                x, y = lerp(o["start"], o["end"], f / (n - 1))
                draw_shape(img, o["shape"], x, y, o["size"], COLOURS[o["colour"]])
        frames.append(img)
    answer = "Yes" if present else "No"
    q = f"Does a {target} object appear at any point in this video? Answer Yes or No."
    path = write_clip(frames, media_dir, "video_existence", index)
    truth = {"frames": n, "colour": target, "objects": objects, "answer": answer}
    return GeneratedCase("existence", video_input(path, q), choice(["Yes", "No"], answer), truth=truth)


_GRID9 = [(x, y) for y in (50.0, 120.0, 190.0) for x in (60.0, 160.0, 260.0)]


@frames_check
def _verify_moving_attr(case: dict[str, Any], truth: dict[str, Any], frames: list[np.ndarray]) -> list[str]:
    problems: list[str] = []
    moved = []
    for c in truth["colours"]:
        a = centroid(colour_mask(frames[0], COLOURS[c]))
        b = centroid(colour_mask(frames[-1], COLOURS[c]))
        if a is None or b is None:
            return [f"the {c} object is not visible at the start or end"]
        if math.dist(a, b) > 15:
            moved.append(c)
    if len(moved) != 1:
        return [f"expected exactly one moving object, the video shows {moved or 'none'}"]
    return conclude(case, problems, moved[0], truth["answer"], says=f"{truth['answer']} moves")


@register(GEN, "video_moving_attribute", verify=_verify_moving_attr)
def gen_moving_attribute(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """Several still shapes on a grid and one that moves along a line between
    grid rows or columns (so it never covers the others): which colour moves?"""
    k = rng.randint(3, 4)
    cols = rng.sample(NAMES, k)
    mover = cols[0]
    slots = rng.sample(_GRID9, k - 1)
    statics = [{"colour": c, "shape": rng.choice(("square", "circle", "triangle")), "pos": list(p), "size": 30}
               for c, p in zip(cols[1:], slots, strict=True)]
    if rng.random() < 0.5:
        y = rng.choice((85.0, 155.0))
        xs = rng.randint(25, 140)
        a, b = [float(xs), y], [float(xs + rng.randint(110, 160)), y]
    else:
        x = rng.choice((110.0, 210.0))
        ys = rng.randint(25, 80)
        a, b = [x, float(ys)], [x, float(ys + rng.randint(110, 130))]
    if rng.random() < 0.5:
        a, b = b, a
    shape = rng.choice(("square", "circle", "triangle"))
    n = rng.randint(24, 40)
    frames = []
    for f in range(n):
        img = canvas()
        for s in statics:
            draw_shape(img, s["shape"], s["pos"][0], s["pos"][1], s["size"], COLOURS[s["colour"]])
        x, y = lerp(a, b, f / (n - 1))
        draw_shape(img, shape, x, y, 30, COLOURS[mover])
        frames.append(img)
    opts = rng.sample(cols, k)
    q = f"Only one of the shapes moves. What colour is it? Answer with one of: {', '.join(opts)}."
    path = write_clip(frames, media_dir, "video_moving_attribute", index)
    truth = {"frames": n, "colours": cols, "statics": statics, "mover": {"shape": shape, "start": a, "end": b},
             "answer": mover}
    return GeneratedCase("moving_attribute", video_input(path, q), choice(opts, mover), truth=truth)


@frames_check
def _verify_antonym(case: dict[str, Any], truth: dict[str, Any], frames: list[np.ndarray]) -> list[str]:
    """Grow/shrink: compare the target's area; towards/away: its distance to the box."""
    problems: list[str] = []
    rgb = COLOURS[truth["colour"]]
    m0, m1 = colour_mask(frames[0], rgb), colour_mask(frames[-1], rgb)
    if truth["variant"] == "size":
        a0, a1 = int(m0.sum()), int(m1.sum())
        if a0 < 30 or a1 < 30 or abs(a1 - a0) < 0.3 * min(a0, a1):
            return [f"the {truth['colour']} square's area barely changes ({a0} -> {a1} px)"]
        derived = "bigger" if a1 > a0 else "smaller"
    else:
        c0, c1 = centroid(m0), centroid(m1)
        box = centroid(colour_mask(frames[0], GREY, tol=30))
        if c0 is None or c1 is None or box is None:
            return ["the ball or the box is not visible"]
        d0, d1 = math.dist(c0, box), math.dist(c1, box)
        if abs(d1 - d0) < 20:
            return [f"the ball's distance to the box barely changes ({d0:.0f} -> {d1:.0f} px)"]
        derived = "towards" if d1 < d0 else "away"
    return conclude(case, problems, derived, truth["answer"])


@register(GEN, "video_antonym", verify=_verify_antonym)
def gen_antonym(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """An action or its opposite: a square that grows or shrinks, or a ball
    that moves towards or away from a box."""
    n = rng.randint(20, 36)
    c = rng.choice(NAMES)
    frames = []
    if rng.random() < 0.5:
        grow = rng.random() < 0.5
        s0, s1 = (rng.randint(24, 36), rng.randint(84, 110))
        if not grow:
            s0, s1 = s1, s0
        cx, cy = rng.randint(110, 210), rng.randint(90, 150)
        for f in range(n):
            img = canvas()
            draw_shape(img, "square", cx, cy, s0 + (s1 - s0) * f / (n - 1), COLOURS[c])
            frames.append(img)
        answer = "bigger" if grow else "smaller"
        q = f"Does the {c} square get bigger or smaller during the video? Answer bigger or smaller."
        truth: dict[str, Any] = {"variant": "size", "colour": c, "sizes": [s0, s1], "centre": [cx, cy]}
        options = ["bigger", "smaller"]
    else:
        towards = rng.random() < 0.5
        box = [float(rng.choice((60, 260))), float(rng.randint(60, 180))]
        ang = rng.uniform(-0.6, 0.6) + (0.0 if box[0] < W / 2 else math.pi)
        near = [box[0] + 60 * math.cos(ang), box[1] + 60 * math.sin(ang)]
        far = [box[0] + 190 * math.cos(ang), box[1] + 190 * math.sin(ang)]
        far = [min(max(far[0], 20.0), W - 20.0), min(max(far[1], 20.0), H - 20.0)]
        a, b = (far, near) if towards else (near, far)
        a, b = [round(v, 2) for v in a], [round(v, 2) for v in b]
        for f in range(n):
            img = canvas()
            draw_rect(img, box[0], box[1], 44, 44, GREY)
            x, y = lerp(a, b, f / (n - 1))
            draw_shape(img, "circle", x, y, 28, COLOURS[c])
            frames.append(img)
        answer = "towards" if towards else "away"
        q = f"Does the {c} ball move towards the grey box or away from it? Answer towards or away."
        truth = {"variant": "distance", "colour": c, "box": box, "start": a, "end": b}
        options = ["towards", "away"]
    path = write_clip(frames, media_dir, "video_antonym", index)
    truth.update(frames=n, answer=answer)
    return GeneratedCase("antonym", video_input(path, q), choice(options, answer), tags=[truth["variant"]],
                         truth=truth)
