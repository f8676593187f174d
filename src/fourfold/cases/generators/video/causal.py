"""Collision clips of the causality cell: counterfactuals, the next event after the
clip, and why a ball changed direction; all answered by running the simulator.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import GeneratedCase, register
from ..kit.answers import choice, expect, lettered_question
from .clip import CAUSAL, FPS
from .physics import SimResult, ball_events, collision_case, collision_clip, involves, near, sim_check, simulate


def _counterfactual(balls: list[dict[str, Any]], removed: str, target: str, t_end: float) -> tuple[bool, bool]:
    """(answer, clear): is ``target`` hit by a ball in the clip when ``removed``
    is taken out; clear is False when a hit falls within 0.4 s of the clip's end."""
    cf = simulate([b for b in balls if b["name"] != removed], t_end + 0.5).events
    hits = [e for e in ball_events(cf) if involves(e, target)]
    return any(e["t"] <= t_end for e in hits), not near(hits, t_end, 0.4)


def _cf_accept(want: bool) -> Callable[[list[dict[str, Any]], float], Any]:
    def accept(balls: list[dict[str, Any]], t_end: float) -> tuple[str, str, bool] | None:
        events = simulate(balls, t_end + 0.5).events
        be = ball_events(events)
        if not ball_events(events, 0, t_end) or near(be, t_end, 0.4) or near(be, 0, 0.3):
            return None
        for e in ball_events(events, 0, t_end):
            for target, removed in ((e["b"], e["a"]), (e["a"], e["b"]), *(
                    (t, b["name"]) for t in (e["a"], e["b"]) for b in balls if b["name"] not in (e["a"], e["b"]))):
                ans, clear = _counterfactual(balls, removed, target, t_end)
                if clear and ans == want:
                    return removed, target, ans
        return None
    return accept


def _cf_question(removed: str, target: str) -> str:
    return (f"If the {removed} ball were removed from the scene, would the {target} ball still collide with "
            "another ball during the video? Answer Yes or No.")


@sim_check
def _verify_counterfactual(case: dict[str, Any], truth: dict[str, Any], _sim: SimResult,
                           problems: list[str]) -> list[str]:
    t_end = (truth["frames"] - 1) / FPS
    ans, _ = _counterfactual(truth["balls"], truth["removed"], truth["target"], t_end)
    expect(case, "Yes" if ans else "No", problems, "re-simulation without that ball")
    return problems


@register(CAUSAL, "video_collision_counterfactual", verify=_verify_counterfactual)
def gen_collision_counterfactual(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """Would ball Y still be hit without ball X? Answered by re-simulating the
    same initial state with X taken out (Yes and No drawn about equally)."""
    want = rng.random() < 0.5
    balls, n, (removed, target, ans) = collision_clip(rng, rng.randint(3, 4), _cf_accept(want))
    answer = "Yes" if ans else "No"
    return collision_case(rng, index, media_dir, "video_collision_counterfactual", balls, n, 0.5, "counterfactual",
                           _cf_question(removed, target), choice(["Yes", "No"], answer),
                           {"removed": removed, "target": target, "answer": answer}, ["collision", "counterfactual"])


def _event_text(e: dict[str, Any], subject: str) -> str:
    if e["kind"] == "wall":
        return "a wall"
    return f"the {e['b'] if e['a'] == subject else e['a']} ball"


def _next_event(events: list[dict[str, Any]], subject: str, t_end: float) -> dict[str, Any] | None:
    """The subject's first event after the clip, if it is clearly separated:
    0.3-2.0 s after the end, nothing else for the subject within 0.3 s of it, and
    (for a corner) both walls count as the same answer."""
    mine = [e for e in events if involves(e, subject) and e["t"] > t_end]
    if not mine or not t_end + 0.3 <= mine[0]["t"] <= t_end + 2.0:
        return None
    close = [e for e in mine[1:] if e["t"] - mine[0]["t"] < 0.3]
    if any(_event_text(e, subject) != _event_text(mine[0], subject) for e in close):
        return None
    if near([e for e in events if involves(e, subject)], t_end, 0.3):
        return None
    return mine[0]


def _next_accept(want_ball: bool) -> Callable[[list[dict[str, Any]], float], Any]:
    def accept(balls: list[dict[str, Any]], t_end: float) -> tuple[str, dict[str, Any]] | None:
        events = simulate(balls, t_end + 2.5).events
        for b in balls:
            e = _next_event(events, b["name"], t_end)
            if e is not None and (e["kind"] == "ball") == want_ball:
                return b["name"], e
        return None
    return accept


@sim_check
def _verify_next(case: dict[str, Any], truth: dict[str, Any], sim: SimResult,
                 problems: list[str]) -> list[str]:
    e = _next_event(sim.events, truth["subject"], (truth["frames"] - 1) / FPS)
    if e is None:
        return [*problems, "the simulator gives no clear next event"]
    expect(case, _event_text(e, truth["subject"]), problems, "simulation beyond the clip")
    return problems


@register(CAUSAL, "video_collision_next_event", verify=_verify_next)
def gen_collision_next_event(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """What will ball X hit next after the clip ends? The simulator runs on past
    the last frame; the next event comes 0.3-2 s later, so it is a prediction,
    not something half-visible in the last frame."""
    want_ball = rng.random() < 0.5
    balls, n, (subject, e) = collision_clip(rng, 3, _next_accept(want_ball))
    opts = [f"the {b['name']} ball" for b in balls if b["name"] != subject] + ["a wall"]
    q = lettered_question(rng, opts, "The video stops while the balls are still moving. If it went on, what would "
                          f"the {subject} ball hit next?")
    answer = _event_text(e, subject)
    return collision_case(rng, index, media_dir, "video_collision_next_event", balls, n, 2.5, "next_event", q,
                           choice(opts, answer), {"subject": subject, "next": e, "answer": answer},
                           ["collision", "next-event"])


def _explain_text(e: dict[str, Any], subject: str) -> str:
    if e["kind"] == "wall":
        return "It bounced off a wall"
    return f"It was hit by the {e['b'] if e['a'] == subject else e['a']} ball"


def _explain_event(events: list[dict[str, Any]], subject: str, t: float, t_end: float) -> dict[str, Any] | None:
    """The subject's event at about ``t`` if it is isolated: no other event of
    the subject within 0.6 s, and at least 0.6 s from the clip's ends."""
    mine = [e for e in events if involves(e, subject)]
    at = [e for e in mine if abs(e["t"] - t) < 0.01]
    if not at or not 0.6 <= at[0]["t"] <= t_end - 0.6:
        return None
    if any(abs(e["t"] - at[0]["t"]) < 0.6 and e is not at[0] for e in mine):
        return None
    return at[0]


def _explain_accept(want_ball: bool) -> Callable[[list[dict[str, Any]], float], Any]:
    def accept(balls: list[dict[str, Any]], t_end: float) -> tuple[str, dict[str, Any]] | None:
        events = simulate(balls, t_end).events
        for e in events:
            if (e["kind"] == "ball") != want_ball:
                continue
            for subject in (e["a"], e["b"]) if e["kind"] == "ball" else (e["a"],):
                if _explain_event(events, subject, e["t"], t_end) is e:
                    return subject, e
        return None
    return accept


@sim_check
def _verify_explain(case: dict[str, Any], truth: dict[str, Any], sim: SimResult,
                    problems: list[str]) -> list[str]:
    e = _explain_event(sim.events, truth["subject"], truth["event"]["t"], (truth["frames"] - 1) / FPS)
    if e is None:
        return [*problems, f"the simulator gives no isolated event for {truth['subject']} at {truth['event']['t']} s"]
    expect(case, _explain_text(e, truth["subject"]), problems, "simulation")
    return problems


@register(CAUSAL, "video_collision_explanation", verify=_verify_explain)
def gen_collision_explanation(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """Why did ball X change direction at about t s? Options: hit by each other
    ball, bounced off a wall, changed direction by itself."""
    want_ball = rng.random() < 0.6
    balls, n, (subject, e) = collision_clip(rng, 3, _explain_accept(want_ball))
    opts = [f"It was hit by the {b['name']} ball" for b in balls if b["name"] != subject]
    opts += ["It bounced off a wall", "It changed direction on its own"]
    q = lettered_question(rng, opts, f"The {subject} ball changes direction at about {e['t']:.1f} seconds into the "
                          "video. Why?")
    answer = _explain_text(e, subject)
    return collision_case(rng, index, media_dir, "video_collision_explanation", balls, n, 0.0, "explanation", q,
                           choice(opts, answer), {"subject": subject, "event": e, "answer": answer},
                           ["collision", "explanation"])
