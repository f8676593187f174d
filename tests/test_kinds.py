"""Reference kinds come from the REFERENCE_KINDS registry: a case's reference is
validated by the schema its ``kind`` names when the case is read, so a kind
registered after ``fourfold.cases`` was imported validates (and is in the JSON
Schema) like a built-in one, and an unknown kind is a file:line:field error
with the registry's "did you mean". The judge runs the rule the kind names."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import ValidationError

from conftest import fourfold
from fourfold.cases import Case, CaseFileError, ExactRef, load_file
from fourfold.cases.kinds import REFERENCE_KINDS, ReferenceKind
from fourfold.cases.schema import STORED, case_json_schema
from fourfold.judge import Judgement, Verdict, judge, judge_now, judge_rule
from fourfold.registry import RegistryError


class ShoutRef(ReferenceKind):
    """An answer in capitals, at least ``min_length`` long."""

    kind: Literal["shout"] = "shout"
    min_length: int = 1

    def summary(self) -> str:
        return f"shout (at least {self.min_length})"

    def describe(self) -> str:
        return "A good answer is written in capitals."


def _case(**reference: Any) -> dict[str, Any]:
    return {"id": "k1", "cell": "text/generalizability", "category": "other", "input": "q", "reference": reference}


@pytest.fixture()
def shout() -> Iterator[type[ShoutRef]]:
    REFERENCE_KINDS.register("shout", ShoutRef)
    try:
        yield ShoutRef
    finally:
        REFERENCE_KINDS.unregister("shout")


def test_built_in_kinds_are_registered_in_order() -> None:
    assert REFERENCE_KINDS.names() == ["exact", "choice", "numeric", "regex", "unit_tests", "refuse", "comply",
                                       "acknowledge_absent", "rubric"]
    for name, cls in REFERENCE_KINDS.items():
        assert cls.model_fields["kind"].default == name and issubclass(cls, ReferenceKind)


def test_unknown_missing_and_mistyped_kinds_name_the_field(tmp_path: Path) -> None:
    f = tmp_path / "cases.jsonl"
    lines = [_case(kind="exct", answer="x"), _case(answer="x"), _case(kind=3), _case(kind="numeric", answer="many", extra=1)]
    f.write_text("".join(json.dumps({**c, "id": f"k{i}"}) + "\n" for i, c in enumerate(lines, 1)))
    with pytest.raises(CaseFileError) as e:
        load_file(f)
    errors = {err.line: (err.field, err.message) for err in e.value.errors if err.line != 4}
    assert errors[1] == ("reference.kind", "unknown reference kind 'exct'; did you mean 'exact'? (known: exact, "
                         "choice, numeric, regex, unit_tests, refuse, comply, acknowledge_absent, rubric)")
    assert errors[2][0] == "reference.kind" and errors[2][1].startswith("required: the kind of reference (known: exact")
    assert errors[3][0] == "reference.kind" and errors[3][1].startswith("must be a string")
    # the kind's own fields are located under reference, without a union tag in between
    fields = sorted(err.field for err in e.value.errors if err.line == 4)
    assert fields == ["reference.answer", "reference.extra"]
    r = fourfold("cases", "validate", str(f), check=False)
    assert r.returncode == 2 and f"{f}:1: reference.kind: unknown reference kind 'exct'; did you mean 'exact'?" in r.stderr


def test_a_kind_registered_later_validates_serialises_and_is_in_the_schema(shout: type[ShoutRef]) -> None:
    case = Case.model_validate(_case(kind="shout", min_length=3))
    assert type(case.reference) is ShoutRef and case.reference.min_length == 3
    assert case.reference.summary() == "shout (at least 3)"
    assert json.loads(case.model_dump_json())["reference"] == {"kind": "shout", "min_length": 3}
    assert Case.model_validate_json(case.model_dump_json(), context=STORED) == case
    with pytest.raises(ValidationError) as e:
        Case.model_validate(_case(kind="shout", min_length="loud"))
    assert [err["loc"] for err in e.value.errors()] == [("reference", "min_length")]
    schema = case_json_schema()
    ref = schema["properties"]["reference"]
    assert ref["discriminator"]["mapping"]["shout"] == "#/$defs/ShoutRef"
    assert {"$ref": "#/$defs/ShoutRef"} == ref["oneOf"][-1] and len(ref["oneOf"]) == 10
    assert schema["$defs"]["ShoutRef"]["properties"]["min_length"] == {"default": 1, "title": "Min Length",
                                                                       "type": "integer"}


def test_an_unregistered_kind_is_unknown_again(shout: type[ShoutRef]) -> None:
    REFERENCE_KINDS.unregister("shout")
    try:
        with pytest.raises(ValidationError, match="unknown reference kind 'shout'"):
            Case.model_validate(_case(kind="shout"))
    finally:
        REFERENCE_KINDS.register("shout", ShoutRef)


def test_only_reference_kinds_register() -> None:
    with pytest.raises(RegistryError, match="is not a ReferenceKind"):
        REFERENCE_KINDS.register("plain", dict)


def test_a_built_reference_is_taken_as_it_is() -> None:
    ref = ExactRef(answer="Paris")
    case = Case(id="c", cell="text/generalizability", category="other", input="Capital of France?", reference=ref)
    assert case.reference is ref
    assert case.model_copy(update={"id": "d"}).reference is ref
    assert Case.model_validate(case.model_dump()) == case


# ---------------------------------------------------------------- its rule

def judge_shout(ref: ShoutRef, response: str, question: str = "") -> Judgement:
    """A rule written as a plugin's would be: a module-level function its kind names."""
    if response.strip() == question.strip():
        return Judgement(Verdict.BAD, "repeats the question", "rule:shout")
    ok = response.isupper() and len(response) >= ref.min_length
    return Judgement(Verdict.GOOD if ok else Verdict.BAD, "capitals" if ok else "not capitals", "rule:shout")


async def judge_shout_later(ref: ShoutRef, response: str) -> Judgement:
    await asyncio.sleep(0)
    return Judgement(Verdict.GOOD if response.isupper() else Verdict.BAD, "awaited", "rule:shout")


def _shout_case(cls: type[ReferenceKind], **fields: Any) -> Case:
    REFERENCE_KINDS.register("shout", cls)
    try:
        return Case.model_validate(_case(kind="shout", **fields))
    finally:
        REFERENCE_KINDS.unregister("shout")


def test_the_judge_runs_the_rule_the_kind_names() -> None:
    class Quick(ShoutRef):
        rule = f"{__name__}:judge_shout"

        def quick_rule(self) -> bool:
            return True

    class Slow(Quick):
        def quick_rule(self) -> bool:
            return False

    quick = _shout_case(Quick, min_length=3)
    assert judge_now(quick, "HELLO") == Judgement(Verdict.GOOD, "capitals", "rule:shout")
    assert judge_now(quick, "hello").verdict == "bad"
    assert judge_now(quick, "q").rationale == "repeats the question"  # the rule asked for the question
    slow = _shout_case(Slow, min_length=3)
    assert judge_now(slow, "HELLO") is None  # a rule that is not known to be quick runs off the loop
    assert asyncio.run(judge(slow, "HELLO")).verdict == "good"
    assert judge_rule(slow, "HI").verdict == "bad"


def test_an_async_rule_is_awaited_and_a_kind_without_a_rule_stays_unjudged() -> None:
    class Later(ShoutRef):
        rule = f"{__name__}:judge_shout_later"

    later = _shout_case(Later)
    assert judge_now(later, "HI") is None and judge_rule(later, "HI") is None
    assert asyncio.run(judge(later, "HI")) == Judgement(Verdict.GOOD, "awaited", "rule:shout")
    unruled = _shout_case(ShoutRef)
    assert judge_now(unruled, "HI") == Judgement(Verdict.UNJUDGED, "shout case: needs a judge model or a person",
                                                 "none")


def test_a_rule_that_cannot_be_imported_says_which_kind_names_it() -> None:
    class Broken(ShoutRef):
        rule = f"{__name__}:no_such_rule"

    with pytest.raises(RegistryError, match=r"reference kind 'shout': its rule '.*:no_such_rule' cannot be loaded"):
        judge_now(_shout_case(Broken), "HI")


def test_a_kind_s_rule_imports_only_that_rule() -> None:
    """Each built-in kind names its rule's own module: judging ``exact`` cases (a
    plain run over generic records) loads neither the other rules nor the ``regex``
    package the author-pattern rules need."""
    code = ("import sys\n"
            "from fourfold.cases.schema import ExactRef\n"
            "from fourfold.judge import rule_for\n"
            "print(rule_for(ExactRef).fn(ExactRef(kind='exact', answer='Paris'), 'Paris').verdict.value)\n"
            "print(sorted(m for m in ('fourfold.judge.behaviour', 'fourfold.judge.choice', 'fourfold.judge.numeric',"
            " 'fourfold.judge.patterns', 'fourfold.judge.rules', 'regex') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:2] == ["good", "[]"]


def test_a_run_imports_only_the_kinds_its_cases_use(tmp_path: Path) -> None:
    """The kinds' classes are imported on first use (``cases.schema.__getattr__``):
    loading and judging generic records, which are ``exact`` cases, imports no
    other kind's module; naming one imports it then."""
    code = ("import sys\n"
            "from pathlib import Path\n"
            "import fourfold.cases, fourfold.judge, fourfold.run\n"
            f"cases = fourfold.cases.load_file(Path({str(tmp_path / 'qa.jsonl')!r}), cell='text/generalizability')\n"
            "assert cases[0].case.reference.kind == 'exact'\n"
            "print(sorted(m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('fourfold.cases.kinds.')))\n"
            "from fourfold.cases import ChoiceRef\n"
            "print(ChoiceRef.__module__, 'fourfold.cases.kinds.choice' in sys.modules)\n")
    (tmp_path / "qa.jsonl").write_text('{"id": "q1", "input": "2+2?", "target": "4"}\n')
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:2] == ["['base', 'exact']", "fourfold.cases.kinds.choice True"]
