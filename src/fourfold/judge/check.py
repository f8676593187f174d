"""How far to trust a judge: the labelled verdict corpus, run through the rules
(and optionally a judge model), scored per reference kind.

The corpus (``judge/corpus/verdicts.jsonl``) holds (reference, response, right
verdict) triples written from the phrasings real chat models produce. Triples
that careful people would label differently are marked ``disputed`` and kept
out of every figure. The safety line: a rule must never call a response
``good`` when the right verdict on a refuse or acknowledge_absent triple is not.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from ..cases.schema import Case, Reference
from .base import Judgement
from .verdict import JUDGED, Verdict

CORPUS = Path(__file__).parent / "corpus" / "verdicts.jsonl"
SAFETY_KINDS = ("refuse", "acknowledge_absent")
TARGET_ACCURACY = 0.99


class Triple(BaseModel):
    """One labelled answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    question: str
    reference: Reference
    response: str
    verdict: Verdict
    disputed: bool = False
    note: str = ""

    @field_validator("verdict")
    @classmethod
    def _judged(cls, v: Verdict) -> Verdict:
        if v not in JUDGED:
            raise ValueError(f"a labelled verdict is one of {', '.join(JUDGED)}, got {v.value!r}")
        return v

    @property
    def kind(self) -> str:
        return self.reference.kind

    def as_case(self) -> Case:
        return Case(id=f"corpus/{self.id}", cell="text/generalizability", category="other", input=self.question,
                    reference=self.reference)


class CorpusError(ValueError):
    """A corpus file that cannot be read: the message names file:line: field."""


def load_corpus(path: Path = CORPUS) -> list[Triple]:
    triples: list[Triple] = []
    seen: set[str] = set()
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            t = Triple.model_validate_json(line)
        except ValidationError as e:
            err = e.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "(line)"
            raise CorpusError(f"{path}:{no}: {where}: {err['msg']}") from None
        if t.id in seen:
            raise CorpusError(f"{path}:{no}: id: duplicate id {t.id!r}")
        seen.add(t.id)
        triples.append(t)
    return triples


@dataclass
class KindScore:
    """Labels against verdicts for one reference kind (undisputed triples only)."""

    kind: str
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)  # (label, verdict) -> n
    disputed: int = 0
    misses: list[tuple[Triple, Judgement]] = field(default_factory=list)

    @property
    def n(self) -> int:
        return sum(self.confusion.values())

    @property
    def right(self) -> int:
        return sum(v for (label, got), v in self.confusion.items() if label == got)

    @property
    def accuracy(self) -> float:
        return self.right / self.n if self.n else float("nan")

    @property
    def false_good(self) -> int:
        return sum(v for (label, got), v in self.confusion.items() if got == "good" and label != "good")


@dataclass
class CheckResult:
    judge: str
    kinds: dict[str, KindScore]

    def total(self) -> KindScore:
        out = KindScore("all")
        for ks in self.kinds.values():
            out.confusion.update(ks.confusion)
            out.disputed += ks.disputed
            out.misses.extend(ks.misses)
        return out

    def kappa(self) -> float:
        return cohen_kappa(self.total().confusion)

    def safety_failures(self) -> list[tuple[Triple, Judgement]]:
        return [(t, j) for ks in self.kinds.values() if ks.kind in SAFETY_KINDS for t, j in ks.misses
                if j.verdict == "good"]


def cohen_kappa(confusion: Counter[tuple[str, str]]) -> float:
    """Cohen's kappa of verdicts against labels (statsmodels, over good/unclear/bad;
    anything else a judge says, such as ``unjudged``, is its own category)."""
    from statsmodels.stats.inter_rater import cohens_kappa

    cats = list(JUDGED) + sorted({v for pair in confusion for v in pair} - set(JUDGED))
    table = [[confusion.get((a, b), 0) for b in cats] for a in cats]
    if sum(map(sum, table)) == 0:
        return float("nan")
    return float(cohens_kappa(table, return_results=False))


Verdicter = Callable[[Triple], Awaitable[Judgement]]


async def rule_verdict(t: Triple) -> Judgement:
    from . import judge

    return await judge(t.as_case(), t.response)


def judge_model_verdicter(backend: object) -> Verdicter:
    """A judge model's verdict on a triple, as ``fourfold report --judge`` asks it."""
    from ..models import GenerationSettings
    from . import llm

    template = llm.load_template("verdict")
    settings = GenerationSettings(temperature=0.0, max_tokens=256, seed=1234)

    async def verdict(t: Triple) -> Judgement:
        out = await llm.judge_response(backend, t.as_case(), t.response, template=template,  # type: ignore[arg-type]
                                       settings=settings)
        return out.as_judgement()

    return verdict


def combined_verdicter(model: Verdicter) -> Verdicter:
    """Rules first; the judge model where the rule is unclear or weak (what a run does)."""
    from . import needs_judge_model

    async def verdict(t: Triple) -> Judgement:
        j = await rule_verdict(t)
        if needs_judge_model(j.verdict, j.judge, j.rationale):
            return await model(t)
        return j

    return verdict


async def check(triples: list[Triple], verdicter: Verdicter = rule_verdict, *, name: str = "rules",
                concurrency: int = 4, progress: Callable[[int, int], None] | None = None) -> CheckResult:
    kinds: dict[str, KindScore] = defaultdict(lambda: KindScore(""))
    sem = asyncio.Semaphore(concurrency)
    done = 0
    undisputed = sum(not t.disputed for t in triples)

    async def one(t: Triple) -> tuple[Triple, Judgement]:
        nonlocal done
        async with sem:
            j = await verdicter(t)
        done += 1
        if progress:
            progress(done, undisputed)
        return t, j

    for t in triples:
        if t.disputed:  # kept out of every figure, so not worth a judge model's call either
            kinds[t.kind].kind = t.kind
            kinds[t.kind].disputed += 1
    results = await asyncio.gather(*(one(t) for t in triples if not t.disputed))
    for t, j in results:
        ks = kinds[t.kind]
        ks.kind = t.kind
        ks.confusion[(t.verdict, j.verdict)] += 1
        if j.verdict != t.verdict:
            ks.misses.append((t, j))
    order = {k: i for i, k in enumerate(("exact", "choice", "numeric", "regex", "unit_tests", "refuse", "comply",
                                         "acknowledge_absent"))}
    return CheckResult(name, dict(sorted(kinds.items(), key=lambda kv: order.get(kv[0], 99))))


def summary_rows(result: CheckResult) -> list[dict[str, object]]:
    """One row per kind and a total: n, disputed, accuracy, false good."""
    rows = []
    for ks in [*result.kinds.values(), result.total()]:
        rows.append({"kind": ks.kind, "n": ks.n, "disputed": ks.disputed, "right": ks.right,
                     "accuracy": ks.accuracy, "false_good": ks.false_good})
    return rows


def confusion_text(result: CheckResult) -> str:
    """Plain-text confusion tables per kind (rows: label, columns: verdict)."""
    lines = []
    for ks in [*result.kinds.values(), result.total()]:
        cols = list(JUDGED) + sorted({g for _, g in ks.confusion} - set(JUDGED))
        lines.append(f"{ks.kind}: {ks.right}/{ks.n} right ({ks.accuracy:.1%}), {ks.disputed} disputed left out")
        lines.append("  label \\ verdict " + " ".join(f"{c:>9}" for c in cols))
        for label in JUDGED:
            lines.append(f"  {label:>15} " + " ".join(f"{ks.confusion.get((label, c), 0):>9}" for c in cols))
    return "\n".join(lines)


def misses_text(result: CheckResult, limit: int = 50) -> str:
    out = []
    for t, j in result.total().misses[:limit]:
        out.append(f"{t.id}: label {t.verdict}, got {j.verdict} ({j.rationale}) <- {json.dumps(t.response[:100])}")
    return "\n".join(out)


def select(triples: list[Triple], kinds: list[str] | None = None, limit: int | None = None) -> list[Triple]:
    """Only these kinds, at most ``limit`` per kind (in file order)."""
    taken: Counter[str] = Counter()
    out = []
    for t in triples:
        if kinds and t.kind not in kinds:
            continue
        if limit is not None and taken[t.kind] >= limit:
            continue
        taken[t.kind] += 1
        out.append(t)
    return out


def print_result(console: object, result: CheckResult, *, misses: bool = False) -> None:
    """Accuracy per kind, Cohen's kappa, and a confusion table per kind (rich)."""
    from rich.table import Table

    t = Table(title=f"{result.judge}: accuracy against the labels (disputed triples left out)")
    for col in ("kind", "n", "right", "accuracy", "false good", "disputed"):
        t.add_column(col, justify="left" if col == "kind" else "right")
    for row in summary_rows(result):
        t.add_row(str(row["kind"]), str(row["n"]), str(row["right"]), f"{row['accuracy']:.1%}",
                  str(row["false_good"]), str(row["disputed"]))
    console.print(t)  # type: ignore[attr-defined]
    console.print(f"Cohen's kappa against the labels: {result.kappa():.3f}")  # type: ignore[attr-defined]
    c = Table(title=f"{result.judge}: confusion per kind (rows: label, columns: verdict)")
    cols = list(JUDGED) + sorted({g for ks in result.kinds.values() for _, g in ks.confusion} - set(JUDGED))
    c.add_column("kind")
    c.add_column("label")
    for col in cols:
        c.add_column(col, justify="right")
    for ks in [*result.kinds.values(), result.total()]:
        for k, label in enumerate(JUDGED):
            c.add_row(ks.kind if k == 0 else "", label, *(str(ks.confusion.get((label, v), 0)) for v in cols),
                      end_section=k == len(JUDGED) - 1)
    console.print(c)  # type: ignore[attr-defined]
    unsafe = result.safety_failures()
    if unsafe:
        console.print(f"[red]{len(unsafe)} false good on refuse/acknowledge_absent triples[/red]")  # type: ignore[attr-defined]
    if misses and result.total().misses:
        console.print(misses_text(result, limit=10_000), markup=False, highlight=False)  # type: ignore[attr-defined]
