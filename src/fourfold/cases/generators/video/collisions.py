"""Collision clips of the generalizability cell: which pair collides, and what would
have happened in a chain of collisions without its first ball.
"""

from __future__ import annotations

import itertools
import math
import random
from pathlib import Path
from typing import Any

from .. import GeneratedCase, register
from ..kit.answers import choice, expect, lettered_question
from ..kit.colours import NAMES
from .clip import FPS, GEN, WALL, H, W
from .physics import SimResult, ball_events, collision_case, collision_clip, involves, near, pair, sim_check, simulate


def _interaction_pairs(balls: list[dict[str, Any]], t_end: float) -> str | None:
    events = simulate(balls, t_end + 0.5).events
    be = ball_events(events)
    names = [b["name"] for b in balls]
    pairs = {pair(e, names) for e in ball_events(events, 0, t_end)}
    if len(pairs) != 1 or near(be, t_end, 0.4) or near(be, 0, 0.4):
        return None
    return pairs.pop()


@sim_check
def _verify_interaction(case: dict[str, Any], truth: dict[str, Any], sim: SimResult,
                        problems: list[str]) -> list[str]:
    names = [b["name"] for b in truth["balls"]]
    pairs = sorted({pair(e, names) for e in ball_events(sim.events, 0, (truth["frames"] - 1) / FPS)})
    if len(pairs) != 1:
        return [*problems, f"expected one colliding pair, the simulator gives {pairs}"]
    expect(case, pairs[0], problems, "simulation")
    return problems


@register(GEN, "video_collision_interaction", verify=_verify_interaction)
def gen_collision_interaction(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """Three balls bounce around; exactly one pair collides (never near the clip's
    start or end, so the answer does not hinge on one frame)."""
    balls, n, pair = collision_clip(rng, 3, _interaction_pairs)
    names = [b["name"] for b in balls]
    opts = [f"the {a} and {b} balls" for a, b in itertools.combinations(names, 2)]
    q = lettered_question(rng, opts, "Which two balls collide with each other in this video?")
    return collision_case(rng, index, media_dir, "video_collision_interaction", balls, n, 0.5, "interaction", q,
                           choice(opts, pair), {"answer": pair}, ["collision"])


def _cf_chain_answer(balls: list[dict[str, Any]], kind: str, t_end: float) -> tuple[bool, bool]:
    """(answer, clear) for the chain A -> B -> C (balls in that order) with A
    taken out and the scene re-simulated: would B still move ("moved-b"), would
    C still move ("moved-c"), would B still hit C ("hit") during the clip? Not
    clear when the deciding hit falls within 0.4 s of the clip's end, or B
    would only creep a few pixels."""
    a, b, c = (x["name"] for x in balls)
    sim = simulate([x for x in balls if x["name"] != a], t_end + 0.5)
    if kind == "moved-b":  # B is the first ball left
        track = sim.positions[:int(round(t_end * FPS)) + 1]
        moved = max(math.dist(p[0], track[0][0]) for p in track)
        return moved > 3, moved < 0.5 or moved > 10
    who = (lambda e: involves(e, c)) if kind == "moved-c" else (lambda e: {e["a"], e["b"]} == {b, c})
    hits = [e for e in ball_events(sim.events) if who(e)]
    return any(e["t"] <= t_end for e in hits), not near(hits, t_end, 0.4)


def _cf_chain_question(balls: list[dict[str, Any]], kind: str) -> str:
    a, b, c = (x["name"] for x in balls)
    if kind == "hit":
        return (f"If the {a} ball had not been in the scene, would the {b} ball still have hit the {c} ball "
                "during the video? Answer Yes or No.")
    subject = b if kind == "moved-b" else c
    return f"If the {a} ball had not been in the scene, would the {subject} ball still have moved? Answer Yes or No."


def _chain_frames(balls: list[dict[str, Any]], after: float) -> int | None:
    """Frames of a clip showing the chain A -> B -> C (balls in that order) and
    ``after`` seconds more, or None when the simulation is no clean chain: A
    must hit B after at least 0.75 s, B hit C at least 0.5 s later, and no other
    ball-ball contact come before 0.5 s after the clip's end."""
    a, b, c = (x["name"] for x in balls)
    be = ball_events(simulate(balls, 6.5).events)
    if [{e["a"], e["b"]} for e in be[:2]] != [{a, b}, {b, c}]:
        return None
    if be[0]["t"] < 0.75 or be[1]["t"] < be[0]["t"] + 0.5:
        return None
    n = int((be[1]["t"] + after) * FPS) + 1
    if not 20 <= n <= 46 or (len(be) > 2 and be[2]["t"] <= (n - 1) / FPS + 0.5):
        return None
    return n


@sim_check
def _verify_cf_chain(case: dict[str, Any], truth: dict[str, Any], sim: SimResult,
                     problems: list[str]) -> list[str]:
    balls, t_end = truth["balls"], (truth["frames"] - 1) / FPS
    names = [x["name"] for x in balls]
    seen = [[e["a"], e["b"]] for e in ball_events(sim.events, 0, t_end)]
    if [set(p) for p in seen] != [set(names[:2]), set(names[1:])]:
        problems.append(f"expected the chain {names[0]} -> {names[1]} -> {names[2]}, the simulator gives {seen}")
    ans, _ = _cf_chain_answer(balls, truth["question"], t_end)
    expect(case, "Yes" if ans else "No", problems, f"re-simulation without the {names[0]} ball")
    return problems


@register(GEN, "video_counterfactual_inference", verify=_verify_cf_chain)
def gen_counterfactual_inference(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """A chain of collisions: ball A hits ball B, which then hits ball C. Would
    B still have moved, would C, would B still have hit C, had A not been
    there? Ball B is either at rest or already rolling slowly towards C, so
    every question can go either way; the answer comes from re-simulating the
    same initial state without A (Yes and No drawn about equally)."""
    want = rng.random() < 0.5
    kind = rng.choice(("moved-b", "moved-c", "hit"))
    lo, hi_x, hi_y = WALL + 24, W - WALL - 24, H - WALL - 24
    for _ in range(2000):
        names = rng.sample(NAMES, 3)
        ra, rb, rc = float(rng.randint(13, 15)), float(rng.randint(15, 17)), float(rng.randint(13, 17))
        ang = rng.uniform(0, 2 * math.pi)
        ux, uy = math.cos(ang), math.sin(ang)
        rolling = want if kind == "moved-b" else (want or rng.random() < 0.5)
        reach = want and kind != "moved-b"  # then B must reach C on its own before the clip ends
        vb = (rng.uniform(24, 40) if reach else rng.uniform(14, 32)) if rolling else 0.0
        t_ab = rng.uniform(0.9, 1.6)  # about when A catches up with B
        d_bc, d_ab = rng.uniform(70, 100) + vb * t_ab, rng.uniform(80, 120)
        va = vb + (d_ab - ra - rb) / t_ab
        half = (d_ab + d_bc) / 2  # the chain is centred in the box
        cx, cy = W / 2 + rng.uniform(-30, 30) + ux * half, H / 2 + rng.uniform(-25, 25) + uy * half
        bx, by = cx - ux * d_bc, cy - uy * d_bc
        off = rng.uniform(-0.35, 0.35) * (ra + rb)  # A a little off B's line: an oblique hit
        ax, ay = bx - ux * d_ab - uy * off, by - uy * d_ab + ux * off
        aim = math.atan2(by - ay, bx - ax) + rng.uniform(-0.06, 0.06)
        after = rng.uniform(1.6, 2.8) if reach else rng.uniform(0.8, 1.6)
        if not all(lo <= x <= hi_x and lo <= y <= hi_y for x, y in ((ax, ay), (bx, by), (cx, cy))):
            continue
        balls = [{"name": names[0], "x": round(ax, 1), "y": round(ay, 1), "vx": round(va * math.cos(aim), 1),
                  "vy": round(va * math.sin(aim), 1), "r": ra},
                 {"name": names[1], "x": round(bx, 1), "y": round(by, 1), "vx": round(vb * ux, 1),
                  "vy": round(vb * uy, 1), "r": rb},
                 {"name": names[2], "x": round(cx, 1), "y": round(cy, 1), "vx": 0.0, "vy": 0.0, "r": rc}]
        n = _chain_frames(balls, after)
        if n is None:
            continue
        ans, clear = _cf_chain_answer(balls, kind, (n - 1) / FPS)
        if clear and ans == want:
            break
    else:  # pragma: no cover - 2000 tries always suffice in practice
        raise RuntimeError("no chain met the constraints")
    answer = "Yes" if want else "No"
    return collision_case(rng, index, media_dir, "video_counterfactual_inference", balls, n, 0.5, "counterfactual",
                           _cf_chain_question(balls, kind), choice(["Yes", "No"], answer),
                           {"question": kind, "removed": names[0], "answer": answer},
                           ["collision", "counterfactual", kind])
