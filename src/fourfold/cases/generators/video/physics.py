"""A tiny deterministic 2-D elastic simulator for the CLEVRER-style collision clips,
and what their generators and verifiers share.
"""

from __future__ import annotations

import functools
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import GeneratedCase, VerifyFn
from ..kit.blobs import centroid, colour_mask
from ..kit.colours import COLOURS, NAMES
from ..kit.raster import draw_shape
from .clip import BG, FPS, SUBSTEPS, WALL, WALL_RGB, H, W, canvas, video_input, write_clip
from .readback import frames_check


@dataclass
class SimResult:
    """Positions at every frame time, events, and the final state."""

    positions: list[list[tuple[float, float]]]  #: [frame][ball]
    events: list[dict[str, Any]]  #: {"t", "frame", "kind": "ball"|"wall", "a", "b"} in time order
    final: list[dict[str, Any]]  #: the balls (same keys as the input) at the end


def collide(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Resolve an elastic collision between two touching balls in place (mass ~
    area). Returns False (and changes nothing) when they are separating."""
    nx, ny = b["x"] - a["x"], b["y"] - a["y"]
    d = math.hypot(nx, ny)
    if d == 0:
        return False
    nx, ny = nx / d, ny / d
    rel = (a["vx"] - b["vx"]) * nx + (a["vy"] - b["vy"]) * ny
    if rel <= 0:
        return False
    ma, mb = a["r"] ** 2, b["r"] ** 2
    j = 2 * rel / (1 / ma + 1 / mb)
    a["vx"] -= j / ma * nx
    a["vy"] -= j / ma * ny
    b["vx"] += j / mb * nx
    b["vy"] += j / mb * ny
    return True


def simulate(balls: list[dict[str, Any]], duration: float, *, fps: int = FPS, substeps: int = SUBSTEPS,
             walls: bool = True) -> SimResult:
    """Deterministic 2-D elastic billiards in the drawn box (walls WALL px thick).

    ``balls`` are dicts {"name", "x", "y", "vx", "vy", "r"} (px, px/s). Fixed
    small steps (1/(fps*substeps) s, under half a pixel at these speeds) rather
    than exact event times: simple to re-run from a case's ground truth, and the
    same floats in give the same events out."""
    state = [dict(b) for b in balls]
    dt = 1.0 / (fps * substeps)
    steps = int(round(duration * fps * substeps))
    lo_x, hi_x, lo_y, hi_y = WALL, W - WALL, WALL, H - WALL
    positions: list[list[tuple[float, float]]] = []
    events: list[dict[str, Any]] = []
    for step in range(steps + 1):
        if step % substeps == 0:
            positions.append([(b["x"], b["y"]) for b in state])
        if step == steps:
            break
        for b in state:
            b["x"] += b["vx"] * dt
            b["y"] += b["vy"] * dt
        t = (step + 1) * dt
        frame = (step + 1) // substeps
        if walls:
            for b in state:
                r = b["r"]
                for side, hit in (("left", b["x"] - r < lo_x and b["vx"] < 0), ("right", b["x"] + r > hi_x and b["vx"] > 0),
                                  ("top", b["y"] - r < lo_y and b["vy"] < 0), ("bottom", b["y"] + r > hi_y and b["vy"] > 0)):
                    if hit:
                        key = "vx" if side in ("left", "right") else "vy"
                        b[key] = -b[key]
                        events.append({"t": round(t, 5), "frame": frame, "kind": "wall", "a": b["name"], "b": side})
        for a, b in itertools.combinations(state, 2):
            if math.hypot(b["x"] - a["x"], b["y"] - a["y"]) < a["r"] + b["r"] and collide(a, b):
                events.append({"t": round(t, 5), "frame": frame, "kind": "ball", "a": a["name"], "b": b["name"]})
    return SimResult(positions, events, state)


def render_balls(sim: SimResult, balls: list[dict[str, Any]]) -> list[np.ndarray]:
    """Frames of a simulation: grey walls, one flat-coloured disc per ball."""
    frames = []
    for pos in sim.positions:
        img = canvas(WALL_RGB)
        img[WALL:H - WALL, WALL:W - WALL] = BG
        for (x, y), b in zip(pos, balls, strict=True):
            draw_shape(img, "circle", x, y, 2 * b["r"], COLOURS[b["name"]])
        frames.append(img)
    return frames


def sample_balls(rng: random.Random, k: int) -> list[dict[str, Any]]:
    """k non-overlapping balls with distinct colours, 60-130 px/s in random directions."""
    names = rng.sample(NAMES, k)
    balls: list[dict[str, Any]] = []
    while len(balls) < k:
        r = float(rng.randint(13, 18))
        x = round(rng.uniform(WALL + r + 4, W - WALL - r - 4), 1)
        y = round(rng.uniform(WALL + r + 4, H - WALL - r - 4), 1)
        if any(math.hypot(x - b["x"], y - b["y"]) < r + b["r"] + 12 for b in balls):
            continue
        speed, ang = rng.uniform(60, 130), rng.uniform(0, 2 * math.pi)
        balls.append({"name": names[len(balls)], "x": x, "y": y, "vx": round(speed * math.cos(ang), 1),
                      "vy": round(speed * math.sin(ang), 1), "r": r})
    return balls


def ball_events(events: list[dict[str, Any]], t0: float = 0.0, t1: float = math.inf) -> list[dict[str, Any]]:
    return [e for e in events if e["kind"] == "ball" and t0 <= e["t"] <= t1]


def near(events: list[dict[str, Any]], t: float, margin: float) -> bool:
    return any(abs(e["t"] - t) < margin for e in events)


def involves(e: dict[str, Any], name: str) -> bool:
    return name in (e["a"], e["b"])


def pair(e: dict[str, Any], order: list[str]) -> str:
    a, b = sorted((e["a"], e["b"]), key=order.index)
    return f"the {a} and {b} balls"


def collision_clip(rng: random.Random, k: int, accept: Callable[[list[dict[str, Any]], float], Any],
                    tries: int = 400) -> tuple[list[dict[str, Any]], int, Any]:
    """Sample scenes until ``accept(balls, t_end)`` returns something truthy.
    Deterministic: every draw comes from ``rng``."""
    got = None
    for _ in range(tries):
        n = rng.randint(28, 40)
        balls = sample_balls(rng, k)
        got = accept(balls, (n - 1) / FPS)
        if got:
            return balls, n, got
    raise RuntimeError("no scene met the constraints")  # pragma: no cover - 400 tries always suffice in practice


def collision_case(rng: random.Random, index: int, media_dir: Path, name: str, balls: list[dict[str, Any]],
                    n: int, extra: float, category: str, question: str, ref: dict[str, Any],
                    truth: dict[str, Any], tags: list[str]) -> GeneratedCase:
    t_end = (n - 1) / FPS
    sim = simulate(balls, t_end + extra)
    frames = render_balls(SimResult(sim.positions[:n], [], []), balls)
    path = write_clip(frames, media_dir, name, index)
    full = {"frames": n, "fps": FPS, "balls": balls, "sim_seconds": t_end + extra, "events": sim.events, **truth}
    return GeneratedCase(category, video_input(path, question), ref, tags=["clevrer-style", *tags], truth=full)


def _verify_sim(truth: dict[str, Any], frames: list[np.ndarray]) -> tuple[SimResult, list[str]]:
    """Re-run the simulator from the stored initial state; its events must be
    the stored ones, and the balls in a few decoded frames (where no two touch)
    must sit where the simulator puts them."""
    problems: list[str] = []
    balls = truth["balls"]
    sim = simulate(balls, truth["sim_seconds"])
    if sim.events != truth["events"]:
        problems.append("re-simulating the initial state gives different events than stored")
    clear = [f for f in range(len(frames)) if all(
        math.dist(sim.positions[f][i], sim.positions[f][j]) > balls[i]["r"] + balls[j]["r"] + 4
        for i, j in itertools.combinations(range(len(balls)), 2))]
    for f in clear[:: max(1, len(clear) // 5)][:6]:
        for i, b in enumerate(balls):
            c = centroid(colour_mask(frames[f], COLOURS[b["name"]]), min_px=100)
            if c is None:
                problems.append(f"frame {f}: the {b['name']} ball is missing")
            elif math.dist(c, sim.positions[f][i]) > 2.5:
                x, y = sim.positions[f][i]
                problems.append(f"frame {f}: the {b['name']} ball is at {c[0]:.1f},{c[1]:.1f}, "
                                f"the simulator says {x:.1f},{y:.1f}")
    return sim, problems


#: A check of a collision case against its re-run simulation: (case, ground
#: truth, simulation, problems so far) -> problems.
SimCheck = Callable[[dict[str, Any], dict[str, Any], SimResult, list[str]], list[str]]


def sim_check(check: SimCheck) -> VerifyFn:
    """The ``verify`` function of a collision generator, from a ``check`` of the
    re-run simulation: the decoded frames must first agree with the simulator
    (:func:`_verify_sim`), whose problems ``check`` adds to."""

    @frames_check
    @functools.wraps(check)
    def verify(case: dict[str, Any], truth: dict[str, Any], frames: list[np.ndarray]) -> list[str]:
        sim, problems = _verify_sim(truth, frames)
        return check(case, truth, sim, problems)

    return verify
