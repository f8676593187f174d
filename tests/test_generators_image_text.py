"""The image, text and code generators: valid cases, byte-identical for a seed,
answers that survive re-derivation from the rendered media, and a verify that
notices when a picture or an answer is tampered with. Also the landscape
suite's generated-image part, which must rebuild to the committed bytes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from conftest import missing_part
from fourfold.cases import CELLS, Case, load_file
from fourfold.cases.generators import generate, generators, verify_case
from fourfold.cases.generators import images as img_gen
from fourfold.cases.generators import text as text_gen

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "src" / "fourfold" / "cases" / "suites" / "landscape"


def _from(g: Any, package: Any) -> bool:
    """Whether generator ``g`` is defined in ``package`` (or a module of it)."""
    return f"{g.fn.__module__}.".startswith(f"{package.__name__}.")


OURS = [g for g in generators() if _from(g, img_gen) or _from(g, text_gen)]
BY_NAME = {g.name: g for g in OURS}


def _files(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _cases(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _one(name: str, tmp_path: Path, seed: int = 5) -> tuple[dict[str, Any], Path]:
    g = BY_NAME[name]
    path = generate(g.cell, 1, seed, tmp_path, only=[name])
    return _cases(path)[0], tmp_path


def test_every_cell_we_cover_has_our_generators() -> None:
    cells = {g.cell for g in OURS}
    assert cells == {"text/generalizability", "text/causality", "code/generalizability", "code/causality",
                     "image/generalizability", "image/trustworthiness", "image/causality"}
    assert all(g.verify is not None for g in OURS)
    assert all(g.cell in CELLS for g in OURS)


@pytest.mark.parametrize("g", OURS, ids=[g.name for g in OURS])
def test_generator_valid_reproducible_and_verified(g: Any, tmp_path: Path) -> None:
    a = generate(g.cell, 2, 11, tmp_path / "a", only=[g.name])
    generate(g.cell, 2, 11, tmp_path / "b", only=[g.name])
    c = generate(g.cell, 2, 12, tmp_path / "c", only=[g.name])

    raw = _cases(a)
    for obj in raw:
        Case.model_validate(obj)
    loaded = load_file(a)
    assert [lc.case.cell for lc in loaded] == [g.cell, g.cell]

    # Same seed: every file byte for byte; another seed: other content.
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    content = [(o["input"], o["reference"], o["metadata"]["ground_truth"]) for o in raw]
    assert content != [(o["input"], o["reference"], o["metadata"]["ground_truth"]) for o in _cases(c)]

    for lc in loaded:
        assert verify_case(lc.case.model_dump(mode="json"), lc.base) == []
    for obj in raw:
        assert verify_case(obj, tmp_path / "a") == []
        for p in img_gen.image_paths(obj):
            assert re.fullmatch(rf"media/{g.name}_\d{{5}}(_[a-z0-9]+)?\.png", p)
            with Image.open(tmp_path / "a" / p) as im:
                assert im.format == "PNG" and max(im.size) <= 448


@pytest.mark.parametrize("g", [g for g in OURS if _from(g, text_gen)], ids=lambda g: g.name)
def test_text_generators_verify_over_many_draws(g: Any, tmp_path: Path) -> None:
    path = generate(g.cell, 40, 3, tmp_path, only=[g.name])
    for obj in _cases(path):
        assert verify_case(obj, tmp_path) == [], obj["id"]


# ---------------------------------------------------------------- tampering is noticed


def test_painting_over_a_counted_shape_is_noticed(tmp_path: Path) -> None:
    case, base = _one("img_count_shapes", tmp_path)
    t = case["metadata"]["ground_truth"]
    target = next(sh for sh in t["shapes"] if sh["colour"] == t["colour"] and t["shape"] in (None, sh["shape"]))
    path = base / img_gen.image_paths(case)[0]
    with Image.open(path) as im:
        im = im.convert("RGB")
    s = target["s"]
    ImageDraw.Draw(im).rectangle((target["x"] - s, target["y"] - s, target["x"] + s, target["y"] + s),
                                 fill=tuple(t["background"]))
    im.save(path)
    problems = verify_case(case, base)
    assert any(f"ground truth says {t['count']}" in p for p in problems), problems


@pytest.mark.parametrize("name", ["img_count_shapes", "img_bar_chart", "img_grid_navigation", "img_spot_difference",
                                  "img_handwritten_math", "txt_word_problem", "txt_scm_intervention",
                                  "txt_counterfactual"])
def test_a_wrong_stored_answer_is_noticed(name: str, tmp_path: Path) -> None:
    for seed in range(5, 40):  # find a draw with a numeric reference
        case, base = _one(name, tmp_path / str(seed), seed)
        if case["reference"]["kind"] == "numeric":
            break
    truth = case["reference"]["answer"]
    case["reference"]["answer"] += 1
    assert verify_case(case, base) == [f"reference answer {truth + 1} but the ground truth gives {truth}"]


def test_choice_and_exact_answers_are_checked(tmp_path: Path) -> None:
    case, base = _one("code_backdoor", tmp_path)
    n, truth = len(case["reference"]["options"]), case["reference"]["answer"]
    case["reference"]["answer"] = (truth + 1) % n
    assert verify_case(case, base) == [f"reference answer {(truth + 1) % n} but the ground truth gives option {truth}"]
    case, base = _one("code_output", tmp_path / "o")
    truth = case["reference"]["answer"]
    case["reference"]["answer"] += "0"
    assert verify_case(case, base) == [f"reference answer {truth + '0'!r} but the ground truth gives {truth!r}"]
    case, base = _one("img_icl_mapping", tmp_path / "i")
    truth = case["reference"]["answer"]
    case["reference"]["answer"] = "not-a-label"
    assert verify_case(case, base) == [f"reference answer 'not-a-label' but the ground truth gives '{truth}'"]


def test_clock_hands_are_measured(tmp_path: Path) -> None:
    case, base = _one("img_clock", tmp_path)
    t = case["metadata"]["ground_truth"]
    t["minute"] = (t["minute"] + 20) % 60
    problems = verify_case(case, base)
    assert any("hands read" in p for p in problems), problems


def test_redrawn_grid_and_identical_pair_are_noticed(tmp_path: Path) -> None:
    case, base = _one("img_grid_navigation", tmp_path)
    t = case["metadata"]["ground_truth"]
    r, c = next((r, c) for r, row in enumerate(t["grid"]) for c, ch in enumerate(row) if ch == ".")
    path = base / img_gen.image_paths(case)[0]
    with Image.open(path) as im:
        im = im.convert("RGB")
    x0, y0 = t["pad"] + c * t["cell"], t["pad"] + r * t["cell"]
    ImageDraw.Draw(im).rectangle((x0 + 1, y0 + 1, x0 + t["cell"] - 1, y0 + t["cell"] - 1), fill=(45, 45, 45))
    im.save(path)
    assert verify_case(case, base) == ["grid read from the image differs from the ground truth"]

    case, base = _one("img_spot_difference", tmp_path / "s")
    a, b = img_gen.image_paths(case)
    (base / b).write_bytes((base / a).read_bytes())
    assert any("differing regions" in p for p in verify_case(case, base))


def test_unit_test_cases_are_rechecked(tmp_path: Path) -> None:
    case, base = _one("code_function_tests", tmp_path)
    ref = case["reference"]
    assert ref["entry_point"] and ref["solution"] and ref["tests"].startswith(f"assert {ref['entry_point']}(")
    case["reference"]["tests"] += "assert False\n"
    assert verify_case(case, base) == ["tests do not match the ones recomputed from the ground truth"]


def test_template_parameters_cannot_smuggle_code(tmp_path: Path) -> None:
    for seed in range(1, 30):
        case, base = _one("code_output", tmp_path / str(seed), seed)
        if "n" in case["metadata"]["ground_truth"]:
            break
    case["metadata"]["ground_truth"]["n"] = "__import__('os').getcwd()"
    assert verify_case(case, base) == ["program parameters are not plain small values"]


def test_causal_helpers() -> None:
    confounded = [["Z", "X"], ["Z", "Y"], ["X", "Y"]]
    assert not text_gen.backdoor_valid(confounded, "X", "Y", set())
    assert text_gen.backdoor_valid(confounded, "X", "Y", {"Z"})
    collider = [["X", "C"], ["Y", "C"]]
    assert text_gen.d_separated(collider, {"X"}, {"Y"}, set())
    assert not text_gen.d_separated(collider, {"X"}, {"Y"}, {"C"})
    mediated = [["X", "M"], ["M", "Y"]]
    assert not text_gen.backdoor_valid(mediated, "X", "Y", {"M"})  # a descendant of X
    assert img_gen.bfs_steps(["S.#", "..#", "#.G"]) == 4
    assert img_gen.bfs_steps(["S#G"]) is None


# ---------------------------------------------------------------- the landscape suite's generated part

_MIN_PER_GENERATOR = {"img_count_shapes": 3, "img_clock": 3, "img_handwritten_math": 3, "img_spot_difference": 3,
                      "img_grid_navigation": 3, "img_icl_mapping": 3}


def test_landscape_part_loads_spreads_and_verifies() -> None:
    path = SUITE / img_gen.LANDSCAPE_FILE
    loaded = load_file(path)
    by_cell: dict[str, int] = {}
    by_gen: dict[str, int] = {}
    for lc in loaded:
        c = lc.case
        meta = c.metadata.model_extra or {}
        prefix = {"image/generalizability": "image-gen", "image/trustworthiness": "image-trust",
                  "image/causality": "image-causal"}[c.cell]
        assert re.fullmatch(rf"landscape/{prefix}/gen-\d{{3}}", c.id)
        assert c.metadata.source == "fourfold landscape suite (generated)" and c.metadata.license == "Apache-2.0"
        assert meta["seed"] == img_gen.LANDSCAPE_SEED and meta["ground_truth"]
        assert all(p.path.startswith("media/generated/") for p in c.media())
        by_cell[c.cell] = by_cell.get(c.cell, 0) + 1
        by_gen[meta["generator"]] = by_gen.get(meta["generator"], 0) + 1
        assert verify_case(c.model_dump(mode="json"), lc.base) == [], c.id
    assert by_cell["image/generalizability"] >= 25
    assert by_cell["image/trustworthiness"] >= 8
    assert by_cell["image/causality"] >= 8
    assert by_gen["img_causal_graph_absent"] >= 2
    assert by_gen["img_bar_chart"] + by_gen["img_line_chart"] >= 4
    assert by_gen["img_receipt"] + by_gen["img_score_table"] >= 3
    for name, n in _MIN_PER_GENERATOR.items():
        assert by_gen[name] >= n, name
    media = SUITE / img_gen.LANDSCAPE_MEDIA
    assert sum(p.stat().st_size for p in media.rglob("*") if p.is_file()) < 3 * 1024 * 1024


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("landscape")
    img_gen.build_landscape_images(d)
    return d


def test_landscape_rebuild_matches_committed_cases(rebuilt: Path) -> None:
    committed = SUITE / img_gen.LANDSCAPE_FILE
    assert (rebuilt / img_gen.LANDSCAPE_FILE).read_bytes() == committed.read_bytes()
    names = sorted(_files(rebuilt / img_gen.LANDSCAPE_MEDIA))
    assert names == sorted(_files(SUITE / img_gen.LANDSCAPE_MEDIA))


def test_landscape_rebuild_is_byte_identical(rebuilt: Path, tmp_path: Path) -> None:
    committed = _files(SUITE / img_gen.LANDSCAPE_MEDIA)
    versions = json.loads(committed["VERSIONS.json"])
    if versions != img_gen.render_versions():
        # Other FreeType/zlib/matplotlib builds draw the same answers with other
        # bytes; there we can still insist that two builds agree with each other.
        img_gen.build_landscape_images(tmp_path)
        assert _files(tmp_path / img_gen.LANDSCAPE_MEDIA) == _files(rebuilt / img_gen.LANDSCAPE_MEDIA)
        missing_part(f"rendering libraries {img_gen.render_versions()} differ from the committed build ({versions}), "
                     "so the byte-for-byte check cannot run",
                     "pip install -c constraints.txt -e '.[embedded,test]' (or, upgrading on purpose, rebuild the "
                     "committed media and constraints.txt together)")
    assert _files(rebuilt / img_gen.LANDSCAPE_MEDIA) == committed
