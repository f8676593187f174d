"""The text and code part of the built-in ``landscape`` suite
(``suites/landscape/text_code.jsonl``): at least the report's spread of cases
per cell and per category, checkable references wherever a rule can decide,
rubrics that spell out all three verdicts, unit tests that accept their
solution and reject a stub, "what does this print" answers that match what
Python prints, and nothing taken over from the starter suite."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from conftest import check_solution_and_stub, run_python
from fourfold.cases import load_file
from fourfold.cases.loader import SUITES_DIR
from fourfold.judge import judge_now, judge_rule
from fourfold.judge.rules import normalise

PATH = SUITES_DIR / "landscape" / "text_code.jsonl"
CASES = [lc.case for lc in load_file(PATH)]
STARTER = [lc.case for lc in load_file(SUITES_DIR / "starter.jsonl")]
UNIT = [c for c in CASES if c.reference.kind == "unit_tests"]
OUTPUT = [c for c in CASES if "code-output" in c.metadata.tags]
RUBRIC = [c for c in CASES if c.reference.kind == "rubric"]

# The report's counts per cell (text and code rows of the grid).
CELL_MIN = {
    "text/generalizability": 44, "text/trustworthiness": 16, "text/causality": 16,
    "code/generalizability": 17, "code/trustworthiness": 12, "code/causality": 4,
}
# The report's counts per category where it gives them, plus benign look-alikes
# (over-refusal checks) and one case at least for every category it names.
CATEGORY_MIN = {
    "text/generalizability": {
        "math": 5, "translation": 3, "reasoning": 9, "role_play": 8, "creative_writing": 7,
        "medicine": 3, "economics": 4, "domain_knowledge": 5,
    },
    "text/trustworthiness": {
        "safety": 6, "hallucination": 1, "robustness": 2, "morality": 2, "privacy": 2, "fairness": 2,
        "legality": 1, "benign": 4,
    },
    "text/causality": {
        "association": 1, "intervention": 1, "counterfactual": 4, "causal_discovery": 3, "bias": 2,
        "causal_calculation": 1, "robustness": 2, "causal_hallucination": 1, "instruction_following": 1,
    },
    "code/generalizability": {"programming_knowledge": 6, "generation": 6, "understanding": 5},
    "code/trustworthiness": {"toxic": 2, "extreme_risk": 2, "unfair": 2, "immoral": 2, "benign": 2},
    "code/causality": {"backdoor": 1, "pc_algorithm": 1, "explain_causal_code": 1, "absent_node": 1},
}
ID_PREFIX = {
    "text/generalizability": "text-gen", "text/trustworthiness": "text-trust", "text/causality": "text-causal",
    "code/generalizability": "code-gen", "code/trustworthiness": "code-trust", "code/causality": "code-causal",
}
# What the prompt must tell the model so that a rule can read the answer.
FORMAT_HINT = {
    "numeric": r"Answer: <number>|exact output only",
    "choice": r"letter only|Yes or No",
    "exact": r"\bonly\b|exactly one word",
    "unit_tests": r"```python block",
}
SUBTAGS = {
    "text/generalizability/math": {"multiple-solutions", "theorem-proof", "equation-derivation"},
    "text/generalizability/translation": {"idiom", "complex-sentence"},
    "text/generalizability/reasoning": {"logical", "commonsense", "fallacy-detection"},
    "text/generalizability/role_play": {"professional", "scene", "character"},
    "text/generalizability/creative_writing": {"short", "long"},
    "text/trustworthiness/safety": {"violence", "pornography", "hate-speech", "hazardous-chemicals"},
    "text/trustworthiness/robustness": {"out-of-distribution", "jailbreak"},
    "text/causality/bias": {"collider", "confounding"},
    "code/generalizability/understanding": {"what-code-does", "optimisation", "vulnerability"},
    "code/generalizability/generation": {"algorithms", "data-processing"},
}


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def test_only_text_and_code_cells() -> None:
    assert {c.cell for c in CASES} == set(CELL_MIN)
    assert not any(c.media() for c in CASES)


@pytest.mark.parametrize("cell", list(CELL_MIN))
def test_cell_has_at_least_the_reports_count(cell: str) -> None:
    n = sum(c.cell == cell for c in CASES)
    assert n >= CELL_MIN[cell], f"{cell}: {n} cases, the report has {CELL_MIN[cell]}"


@pytest.mark.parametrize("cell", list(CATEGORY_MIN))
def test_categories_have_at_least_the_reports_count(cell: str) -> None:
    per_cat = Counter(c.category for c in CASES if c.cell == cell)
    short = {cat: (per_cat[cat], n) for cat, n in CATEGORY_MIN[cell].items() if per_cat[cat] < n}
    assert not short, f"{cell}: categories below the minimum (have, need): {short}"
    assert "other" not in per_cat


@pytest.mark.parametrize("key", list(SUBTAGS))
def test_subcategories_are_covered(key: str) -> None:
    cell, category = key.rsplit("/", 1)
    tags = {t for c in CASES if c.cell == cell and c.category == category for t in c.metadata.tags}
    missing = SUBTAGS[key] - tags
    assert not missing, f"{key}: no case tagged {sorted(missing)}"


def test_ids_and_metadata() -> None:
    numbers: dict[str, list[int]] = {}
    for c in CASES:
        m = re.fullmatch(r"landscape/([a-z-]+)/(\d{3})", c.id)
        assert m, f"bad id {c.id!r}"
        assert m.group(1) == ID_PREFIX[c.cell], f"{c.id} is in {c.cell}"
        numbers.setdefault(m.group(1), []).append(int(m.group(2)))
        assert c.metadata.source == "fourfold landscape suite", c.id
        assert c.metadata.license == "Apache-2.0", c.id
        assert c.metadata.tags, f"{c.id} has no tags"
    for prefix, nums in numbers.items():
        assert sorted(nums) == list(range(1, len(nums) + 1)), f"{prefix}: ids not numbered 001.. without gaps"


def test_prompts_are_unique() -> None:
    prompts = Counter(_norm(c.prompt_text()) for c in CASES)
    dup = [p[:80] for p, n in prompts.items() if n > 1]
    assert not dup, f"duplicated prompts: {dup}"


def test_nothing_copied_from_the_starter_suite() -> None:
    starter_ids = {c.id for c in STARTER}
    starter_texts = {_norm(m.text()) for c in STARTER for m in c.input if m.text().strip()}
    for c in CASES:
        assert c.id not in starter_ids
        for m in c.input:
            assert _norm(m.text()) not in starter_texts, f"{c.id} repeats a starter prompt: {m.text()[:80]!r}"


def test_mostly_checkable_references() -> None:
    kinds = Counter(c.reference.kind for c in CASES)
    for kind in ("numeric", "choice", "exact", "regex", "unit_tests", "refuse", "comply", "acknowledge_absent"):
        assert kinds[kind] > 0, f"no {kind} reference"
    assert kinds["rubric"] <= 0.3 * len(CASES), f"{kinds['rubric']} rubric cases of {len(CASES)}"


@pytest.mark.parametrize("case", RUBRIC, ids=[c.id for c in RUBRIC])
def test_rubrics_spell_out_good_bad_and_unclear(case) -> None:
    ref = case.reference
    for field in ("criteria", "good", "bad", "unclear"):
        value = getattr(ref, field)
        assert value and len(value.strip()) >= 20, f"{case.id}: rubric {field!r} is empty or too short"
    assert len({ref.good, ref.bad, ref.unclear}) == 3, f"{case.id}: good, bad and unclear must differ"


def test_code_trust_rubrics_use_the_three_tiers() -> None:
    for c in CASES:
        if c.cell != "code/trustworthiness":
            continue
        if c.category in ("unfair", "immoral"):
            assert c.reference.kind == "rubric", f"{c.id}: unfair/immoral requests are judged in three tiers"
        if c.reference.kind == "rubric":
            assert "three tiers" in c.reference.criteria.lower(), c.id
            assert "refusal" in c.reference.unclear.lower(), f"{c.id}: a plain refusal is the middle tier"
        elif c.category == "benign":
            assert c.reference.kind == "comply", c.id
        else:
            assert c.reference.kind == "refuse", c.id


def test_trust_references_match_their_category() -> None:
    for c in CASES:
        if c.cell == "text/trustworthiness" and c.category in ("safety", "legality"):
            assert c.reference.kind == "refuse", c.id
        if c.category == "benign":
            assert c.reference.kind == "comply", c.id
        if c.category in ("absent_node", "hallucination"):
            assert c.reference.kind == "acknowledge_absent", c.id
    for c in CASES:
        if c.reference.kind == "acknowledge_absent" and c.cell == "code/causality":
            assert c.reference.keywords, f"{c.id}: absent-node cases list their own keywords"


def test_prompts_state_the_answer_format() -> None:
    missing = [c.id for c in CASES if c.reference.kind in FORMAT_HINT
               and not re.search(FORMAT_HINT[c.reference.kind], c.prompt_text())]
    assert not missing, f"prompts that do not say how to answer: {missing}"


def test_choice_prompts_show_their_options() -> None:
    for c in CASES:
        ref = c.reference
        if ref.kind != "choice":
            continue
        text = c.prompt_text()
        if ref.options == ["Yes", "No"]:
            assert "Yes or No" in text, c.id
        else:
            for i, opt in enumerate(ref.options):
                assert f"{chr(ord('A') + i)}) {opt}" in text, f"{c.id}: option {opt!r} not in the prompt"


def test_unit_tests_cases_have_solution_and_entry_point() -> None:
    assert len(UNIT) >= 8
    for c in UNIT:
        ref = c.reference
        assert ref.solution, f"{c.id} has no solution"
        assert ref.entry_point and ref.entry_point in ref.tests, f"{c.id}: tests do not call the entry point"
        assert ref.entry_point in c.prompt_text(), f"{c.id}: the prompt does not name the function"


@pytest.mark.parametrize("case", UNIT, ids=[c.id for c in UNIT])
def test_solution_passes_and_stub_fails(case) -> None:
    check_solution_and_stub(case)


@pytest.mark.parametrize("case", OUTPUT, ids=[c.id for c in OUTPUT])
def test_printed_output_is_judged_good(case) -> None:
    blocks = re.findall(r"```python\n(.*?)```", case.prompt_text(), re.S)
    assert len(blocks) == 1, f"{case.id}: expected one python block"
    run = run_python(blocks[0], timeout=30)
    assert run.returncode == 0, run.stderr
    verdict = judge_rule(case, run.stdout.strip())  # judge_now leaves case authors' patterns to a worker thread
    assert verdict is not None and verdict.verdict == "good", f"{case.id}: Python prints {run.stdout!r}: {verdict}"


def test_exact_answers_survive_normalisation() -> None:
    for c in CASES:
        if c.reference.kind == "exact":
            assert normalise(c.reference.answer), c.id
            assert judge_now(c, c.reference.answer).verdict == "good", c.id
            assert judge_now(c, f"Some reasoning.\nAnswer: {c.reference.answer}").verdict == "good", c.id
