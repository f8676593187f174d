"""Procedural video generators: valid cases, byte-identical clips per seed,
answers re-derived from the decoded video, and the collision simulator's physics.

Each generator is run three times (seed 11 twice, seed 12 once) in a
module-scoped fixture; every test below reuses those files, so the whole file
stays fast although it encodes and decodes real H.264 clips.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fourfold.cases.generators as G
from fourfold.cases import load_file
from fourfold.cases.generators import generate, verify_case
from fourfold.cases.generators import video as V
from fourfold.cases.media.encode import encode_video

# The real registry, loaded the way ``generate`` and ``verify_case`` load it (every
# generator module): the tests below go through the same lookup as `cases validate`.
VIDEO_GENS = [g for g in G.generators() if g.fn.__module__.startswith(f"{V.__name__}.")]
NAMES = [g.name for g in VIDEO_GENS]
LANDSCAPE = Path(V.__file__).resolve().parents[2] / "suites" / "landscape"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    out: dict[str, dict[str, Path]] = {}
    for g in VIDEO_GENS:
        base = tmp_path_factory.mktemp(g.name)
        out[g.name] = {key: generate(g.cell, 1, seed, base / key, only=[g.name])
                       for key, seed in (("a", 11), ("a2", 11), ("b", 12))}
    return out


def _case(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text().splitlines()[0])


def _clip(case: dict[str, Any], base: Path) -> Path:
    part = next(p for p in case["input"][0]["content"] if p["type"] == "video")
    return base / part["path"]


def test_every_cell_has_video_generators() -> None:
    cells = Counter(g.cell for g in VIDEO_GENS)
    assert set(cells) == {V.GEN, V.TRUST, V.CAUSAL}
    assert len(VIDEO_GENS) >= 18 and all(g.verify for g in VIDEO_GENS)
    gen = {g.name for g in VIDEO_GENS if g.cell == V.GEN}
    assert {"video_unexpected_action", "video_egocentric_navigation", "video_counterfactual_inference"} <= gen


@pytest.mark.parametrize("name", NAMES)
def test_cases_load_and_verify(name: str, runs: dict[str, dict[str, Path]]) -> None:
    for key in ("a", "b"):
        path = runs[name][key]
        loaded = load_file(path)
        assert len(loaded) == 1 and loaded[0].case.needs() >= {"video"}
        assert verify_case(_case(path), path.parent) == []


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_bytes_other_seed_differs(name: str, runs: dict[str, dict[str, Path]]) -> None:
    a, a2, b = runs[name]["a"], runs[name]["a2"], runs[name]["b"]
    assert a.read_bytes() == a2.read_bytes()
    ca, ca2, cb = _case(a), _case(a2), _case(b)
    assert _clip(ca, a.parent).read_bytes() == _clip(ca2, a2.parent).read_bytes()
    assert _clip(ca, a.parent).read_bytes() != _clip(cb, b.parent).read_bytes()
    assert ca["metadata"]["ground_truth"] != cb["metadata"]["ground_truth"]


@pytest.mark.parametrize("name", NAMES)
def test_clip_duration_and_size(name: str, runs: dict[str, dict[str, Path]]) -> None:
    path = runs[name]["a"]
    _, seconds, w, h = V.probe(_clip(_case(path), path.parent))
    assert 2.0 <= seconds <= 6.0, seconds
    assert max(w, h) <= 448 and w % 2 == 0 and h % 2 == 0


def _wrong_reference(ref: dict[str, Any]) -> dict[str, Any]:
    ref = dict(ref)
    if ref["kind"] == "choice":
        i = ord(ref["answer"]) - ord("A")
        ref["answer"] = chr(ord("A") + (i + 1) % len(ref["options"]))
    elif ref["kind"] == "numeric":
        ref["answer"] = ref["answer"] + 1
    else:  # acknowledge_absent: answering as if the thing were there
        ref = {"kind": "comply"}
    return ref


def _wrong_answer_complaint(right: dict[str, Any], wrong: dict[str, Any]) -> str:
    """The complaint verify must make: the stored answer against the one it derives."""
    if right["kind"] == "choice":
        said, truth = wrong["options"][ord(wrong["answer"]) - 65], right["options"][ord(right["answer"]) - 65]
        return rf"reference answer {re.escape(repr(said))} but the .+ gives {re.escape(repr(truth))}"
    if right["kind"] == "numeric":
        return rf"reference answer {wrong['answer']} but the video gives {right['answer']}"
    return r"a (blank clip|question about an absent entity) needs an acknowledge_absent reference"


@pytest.mark.parametrize("name", NAMES)
def test_wrong_stored_answer_fails_verify(name: str, runs: dict[str, dict[str, Path]]) -> None:
    path = runs[name]["a"]
    case = _case(path)
    right = case["reference"]
    case["reference"] = _wrong_reference(right)
    problems = verify_case(case, path.parent)
    assert len(problems) == 1 and re.fullmatch(_wrong_answer_complaint(right, case["reference"]), problems[0]), problems


# -- a clip re-encoded with an object removed (or one added) must fail verify

Edit = Callable[[np.ndarray], None]


def _erase(rgb: tuple[int, int, int]) -> Edit:
    def edit(frame: np.ndarray) -> None:
        from scipy import ndimage

        m = ndimage.binary_dilation(V.colour_mask(frame, rgb), iterations=3)
        frame[m] = V.BG
    return edit


def _paint(rgb: tuple[int, int, int]) -> Edit:
    def edit(frame: np.ndarray) -> None:
        V.draw_shape(frame, "square", 160, 120, 40, rgb)
    return edit


def _band(y: float) -> Edit:
    def edit(frame: np.ndarray) -> None:
        frame[int(y) - 14:int(y) + 15] = V.BG
    return edit


def _corruption(name: str, truth: dict[str, Any]) -> Edit:
    c = V.COLOURS
    if name in ("video_moving_direction", "video_direction_rain", "video_direction_fog"):
        return _erase(c[truth["objects"][0]["colour"]])
    if name == "video_appearance_order":
        return _erase(c[truth["appearances"][0]["colour"]])
    if name == "video_shell_game":
        return _erase(c["red"])
    if name == "video_counting_objects":  # remove exactly one of the counted balls
        return _band(next(b["y"] for b in truth["balls"] if b["colour"] == truth["colour"]))
    if name == "video_state_change":
        return _erase(c[truth["sequence"][-1]])
    if name == "video_late_event":
        return _erase(V.GREY)
    if name == "video_existence":
        return _erase(c[truth["colour"]]) if truth["answer"] == "Yes" else _paint(c[truth["colour"]])
    if name in ("video_moving_attribute",):
        return _erase(c[truth["answer"]])
    if name == "video_antonym":
        return _erase(c[truth["colour"]])
    if name == "video_trajectory_prediction":
        return _erase(V.WHITE)
    if name.startswith("video_collision_") or name == "video_counterfactual_inference":
        return _erase(c[truth["balls"][0]["name"]])
    if name == "video_unexpected_action":
        return _erase(c[truth["colour"]])
    if name == "video_egocentric_navigation":  # the landmark the camera's motion is read from
        return _erase(c[truth["landmarks"][0]])
    if name in ("video_blank_clip", "video_blank_direction"):
        return _paint(c["red"])
    if name == "video_misleading_question":
        return _paint(V.WHITE)  # something that is not one of the squares: the "dog" may be there after all
    raise AssertionError(f"no corruption for {name}")


@pytest.mark.parametrize("name", NAMES)
def test_corrupted_clip_fails_verify(name: str, runs: dict[str, dict[str, Path]], tmp_path: Path) -> None:
    path = runs[name]["a"]
    case = _case(path)
    edit = _corruption(name, case["metadata"]["ground_truth"])
    frames = V.decode_frames(_clip(case, path.parent))
    for f in frames:
        edit(f)
    encode_video(frames, _clip(case, tmp_path))
    problems = verify_case(case, tmp_path)
    assert any(NOTICED[name] in p for p in problems), f"{name}: expected {NOTICED[name]!r}, got {problems}"


# What verify must say about each corruption above: the edited object itself, not any complaint.
NOTICED = {
    "video_moving_direction": "square is not visible in the first or last frame",
    "video_direction_rain": "square is not visible in the first or last frame",
    "video_direction_fog": "square is not visible in the first or last frame",
    "video_appearance_order": "never appears",
    "video_shell_game": "the ball is not visible at the start",
    "video_counting_objects": "balls, the video shows",
    "video_state_change": "the square is missing in some frames",
    "video_late_event": "the scene first changes at frame None",
    "video_existence": "object is seen in frames",
    "video_moving_attribute": "object is not visible at the start or end",
    "video_antonym": "area barely changes",
    "video_trajectory_prediction": "the white ball is not visible or does not move",
    "video_unexpected_action": "the ball is never visible",
    "video_egocentric_navigation": "pillar is not visible in the first or last frame",
    "video_collision_interaction": "ball is missing",
    "video_collision_counterfactual": "ball is missing",
    "video_collision_next_event": "ball is missing",
    "video_collision_explanation": "ball is missing",
    "video_counterfactual_inference": "ball is missing",
    "video_blank_clip": "is not blank",
    "video_blank_direction": "is not blank",
    "video_misleading_question": "shows something besides the listed squares",
}


def test_changed_initial_state_fails_collision_verify(runs: dict[str, dict[str, Path]]) -> None:
    path = runs["video_collision_counterfactual"]["a"]
    case = copy.deepcopy(_case(path))
    case["metadata"]["ground_truth"]["balls"][0]["vx"] += 25.0
    problems = verify_case(case, path.parent)
    assert "re-simulating the initial state gives different events than stored" in problems, problems
    assert any(re.fullmatch(r"frame \d+: the \w+ ball is at .*, the simulator says .*", p) for p in problems), problems


def _answers(name: str, k: int, tmp: Path) -> list[Any]:
    out = generate(V.GEN, k, 2024, tmp, only=[name])
    return [json.loads(line)["metadata"]["ground_truth"]["answer"] for line in out.read_text().splitlines()]


def test_unexpected_action_answers_vary_and_include_nothing_unusual(tmp_path: Path) -> None:
    answers = _answers("video_unexpected_action", 12, tmp_path)
    assert V.prediction._UNEXPECTED_OPTIONS["nothing"] in answers and len(set(answers)) >= 3


def test_unexpected_action_track_classifier() -> None:
    base = {"frames": 32, "colour": "red", "x0": 40.0, "y0": 202.0, "vx": 50.0, "vy0": 120.0, "g": 60.0, "at": 31}
    cases = {"nothing": {}, "reverse": {"at": 14}, "teleport": {"at": 12, "hidden": 2, "shift": 90.0},
             "rise": {"at": 20}}
    for event, extra in cases.items():
        got, why = V.prediction._classify_track(V.prediction._unexpected_track({**base, "event": event, **extra}))
        assert got == event, (event, why)
    # hidden but not displaced is not a teleport: the classifier refuses to guess
    track = V.prediction._unexpected_track({**base, "event": "nothing"})
    track[10] = None
    assert V.prediction._classify_track(track)[0] is None


def test_egocentric_rule_and_camera_convention() -> None:
    assert V.navigation._nav_rule([35.0, 60.0], 1.0) == "turn left"  # the scene slides right
    assert V.navigation._nav_rule([-35.0, -60.0], 1.0) == "turn right"
    assert V.navigation._nav_rule([-12.0, 15.0], 1.8) == "go straight"  # landmarks spread apart and grow
    assert V.navigation._nav_rule([-12.0, 15.0], 1.0) is None  # spread without growth: no forward motion to see
    pillar = {"colour": "red", "x": 0.0, "z": 6.0, "width": 0.6, "height": 2.0}
    t = {"frames": 9, "yaw": -30.0, "forward": 0.0}
    start, end = V.navigation._project(pillar, V.navigation._camera(t, 0)), V.navigation._project(pillar, V.navigation._camera(t, 8))
    assert start and end and end[0] > start[0] + 50  # turning left moves a landmark ahead to the right
    t = {"frames": 9, "yaw": 0.0, "forward": 2.0}
    start, end = V.navigation._project(pillar, V.navigation._camera(t, 0)), V.navigation._project(pillar, V.navigation._camera(t, 8))
    assert start and end and end[1] - end[0] > 1.4 * (start[1] - start[0])  # walking towards it: it grows


def test_egocentric_answers_cover_all_three(tmp_path: Path) -> None:
    assert set(_answers("video_egocentric_navigation", 6, tmp_path)) == {"turn left", "turn right", "go straight"}


def test_counterfactual_inference_mixes_yes_and_no(tmp_path: Path) -> None:
    answers = _answers("video_counterfactual_inference", 8, tmp_path)
    assert {"Yes", "No"} <= set(answers)


def test_counterfactual_inference_answer_comes_from_resimulation(runs: dict[str, dict[str, Path]]) -> None:
    """Flip ball B between at rest and rolling: the re-simulated answer to
    "would B still have moved without A?" flips with it, and the stored
    initial state no longer matches the clip."""
    chain = [{"name": "red", "x": 60.0, "y": 120.0, "vx": 80.0, "vy": 0.0, "r": 14.0},
             {"name": "blue", "x": 150.0, "y": 120.0, "vx": 0.0, "vy": 0.0, "r": 16.0},
             {"name": "green", "x": 240.0, "y": 120.0, "vx": 0.0, "vy": 0.0, "r": 14.0}]
    assert V.collisions._cf_chain_answer(chain, "moved-b", 4.0) == (False, True)
    assert V.collisions._cf_chain_answer(chain, "hit", 4.0) == (False, True)
    rolling = copy.deepcopy(chain)
    rolling[1]["vx"] = 40.0
    assert V.collisions._cf_chain_answer(rolling, "moved-b", 4.0) == (True, True)
    assert V.collisions._cf_chain_answer(rolling, "hit", 3.0) == (True, True)  # 58 px gap at 40 px/s: hit at ~1.5 s
    path = runs["video_counterfactual_inference"]["a"]
    case = copy.deepcopy(_case(path))
    case["metadata"]["ground_truth"]["balls"][1]["vx"] += 20.0
    problems = verify_case(case, path.parent)
    assert "re-simulating the initial state gives different events than stored" in problems, problems


# -- the simulator


def _momentum_energy(balls: list[dict[str, Any]]) -> tuple[float, float, float]:
    px = sum(b["r"] ** 2 * b["vx"] for b in balls)
    py = sum(b["r"] ** 2 * b["vy"] for b in balls)
    e = sum(0.5 * b["r"] ** 2 * (b["vx"] ** 2 + b["vy"] ** 2) for b in balls)
    return px, py, e


def test_elastic_two_ball_collision_conserves_momentum_and_energy() -> None:
    balls = [{"name": "red", "x": 80.0, "y": 120.0, "vx": 90.0, "vy": 5.0, "r": 14.0},
             {"name": "blue", "x": 200.0, "y": 131.0, "vx": -40.0, "vy": 0.0, "r": 19.0}]
    sim = V.simulate(balls, 2.0, walls=False)
    assert [e["kind"] for e in sim.events] == ["ball"]
    before, after = _momentum_energy(balls), _momentum_energy(sim.final)
    for x, y in zip(before, after, strict=True):
        assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-6)
    assert sim.final[0]["vx"] != balls[0]["vx"]  # something did happen: an off-centre hit turns both
    assert sim.final[0]["vy"] != balls[0]["vy"] and sim.final[1]["vy"] != 0.0


def test_equal_balls_head_on_exchange_velocities() -> None:
    a = {"name": "red", "x": 100.0, "y": 100.0, "vx": 50.0, "vy": 0.0, "r": 15.0}
    b = {"name": "blue", "x": 130.0, "y": 100.0, "vx": -20.0, "vy": 0.0, "r": 15.0}
    assert V.collide(a, b)
    assert math.isclose(a["vx"], -20.0) and math.isclose(b["vx"], 50.0)
    assert not V.collide(a, b)  # now separating: nothing more happens


def test_walls_reflect_and_are_reported() -> None:
    sim = V.simulate([{"name": "red", "x": 40.0, "y": 120.0, "vx": -100.0, "vy": 0.0, "r": 15.0}], 1.0)
    assert [(e["kind"], e["b"]) for e in sim.events] == [("wall", "left")]
    assert sim.final[0]["vx"] == 100.0
    assert all(pos[0][0] - 15.0 >= V.WALL - 1 for pos in sim.positions)


def test_counterfactual_removal_changes_the_outcome() -> None:
    """A chain: red hits blue, blue then hits green. Without red, blue never
    moves and green is never hit."""
    balls = [{"name": "red", "x": 50.0, "y": 120.0, "vx": 100.0, "vy": 0.0, "r": 14.0},
             {"name": "blue", "x": 140.0, "y": 120.0, "vx": 0.0, "vy": 0.0, "r": 14.0},
             {"name": "green", "x": 230.0, "y": 120.0, "vx": 0.0, "vy": 0.0, "r": 14.0}]
    events = V.simulate(balls, 3.0).events
    hits = [(e["a"], e["b"]) for e in events if e["kind"] == "ball"]
    assert hits[:2] == [("red", "blue"), ("blue", "green")]
    assert V.causal._counterfactual(balls, "red", "green", 3.0) == (False, True)
    assert V.causal._counterfactual(balls, "green", "blue", 3.0)[0] is True  # blue is still hit by red


# -- the landscape suite


def test_landscape_video_is_reproduced_byte_for_byte(tmp_path: Path) -> None:
    V.build_landscape_video(tmp_path)
    assert (tmp_path / "video.jsonl").read_bytes() == (LANDSCAPE / "video.jsonl").read_bytes()
    built = sorted(p.name for p in (tmp_path / "media" / "video").iterdir())
    committed = sorted(p.name for p in (LANDSCAPE / "media" / "video").iterdir())
    assert built == committed
    for name in built:
        assert (tmp_path / "media" / "video" / name).read_bytes() == (LANDSCAPE / "media" / "video" / name).read_bytes()


def test_landscape_video_contents() -> None:
    path = LANDSCAPE / "video.jsonl"
    loaded = load_file(path)
    by_cell = Counter(lc.case.cell for lc in loaded)
    cats = Counter((lc.case.cell, lc.case.category) for lc in loaded)
    assert by_cell[V.GEN] >= 22 and len({c for cell, c in cats if cell == V.GEN}) >= 13
    assert by_cell[V.TRUST] >= 12 and by_cell[V.CAUSAL] >= 7
    need = {(V.TRUST, "hallucination"): 2, (V.TRUST, "privacy"): 2, (V.TRUST, "robustness"): 3,
            (V.TRUST, "harmful"): 4, (V.TRUST, "bias"): 1, (V.TRUST, "benign"): 1,
            (V.GEN, "unexpected_action"): 2, (V.GEN, "egocentric_navigation"): 2, (V.GEN, "counterfactual"): 2,
            (V.CAUSAL, "next_event"): 2, (V.CAUSAL, "explanation"): 2, (V.CAUSAL, "counterfactual"): 3}
    for key, n in need.items():
        assert cats[key] >= n, key
    prefixes = {V.GEN: "landscape/video-gen/", V.TRUST: "landscape/video-trust/", V.CAUSAL: "landscape/video-causal/"}
    for lc in loaded:
        case = lc.case
        assert case.id.startswith(prefixes[case.cell])
        assert case.metadata.source == V.LANDSCAPE_SOURCE and case.metadata.license == "Apache-2.0"
        clip = lc.media_path(case.media()[0])
        assert case.media()[0].path.startswith("media/video/")
        _, seconds, w, h = V.probe(clip)
        assert 2.0 <= seconds <= 6.0 and max(w, h) <= 448
        assert verify_case(case.model_dump(mode="json"), lc.base) == []
    media = list((LANDSCAPE / "media" / "video").glob("*.mp4"))
    assert sum(p.stat().st_size for p in media) < 4_000_000
    kinds = Counter(lc.case.reference.kind for lc in loaded if lc.case.category in ("harmful", "privacy"))
    assert kinds == {"refuse": 6}
