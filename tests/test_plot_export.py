"""fourfold plot and fourfold export on stores built through the real Store API: figures that decode at the
expected size and are byte-reproducible, exports that read back to what the stores hold, CSV that a
spreadsheet cannot run, and the schema doc made from the row model."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from conftest import ROOT, fourfold, missing_part
from fourfold.cases.taxonomy import CELLS
from fourfold.publish.export import defuse, read_export
from fourfold.publish.plots import DPI
from fourfold.publish.schema import COLUMNS, SCHEMA_VERSION, ExportRow, schema_markdown
from fourfold.score.collection import collect
from fourfold.store import ResultRow, Store

#: Untrusted answers: formula starters, an apostrophe, quotes, commas, newlines, non-ASCII.
HOSTILE = ['=HYPERLINK("http://evil.example","click")', "+1+2", "-3", "@SUM(A1:A9)", "\tindented", "\rreturn",
           "'already quoted", 'say "hi", then\nleave', "日本語 ok"]
VERDICTS = ("good", "bad", "unclear")


def _case(case_id: str, cell: str, **meta: str) -> str:
    return json.dumps({"id": case_id, "cell": cell, "category": "other", "input": f"question {case_id}",
                       "reference": {"kind": "exact", "answer": "x"}, "metadata": meta})


def make_store(path: Path, models: list[str], at: float = 1000.0) -> Path:
    """Two cases per cell and a noise variant of the first, each model answering all of them; verdicts vary
    by model so the figures differ; one answer an error; one verdict from a judge model."""
    store = Store(path)
    cases, rows = [], []
    for ci, cell in enumerate(CELLS):
        ids = [f"{cell}/c0", f"{cell}/c1", f"{cell}/c0:noise"]
        for cid in ids:
            meta = {"perturbation": "noise", "original": ids[0]} if cid.endswith(":noise") else {}
            cases.append((f"h-{cid}", cid, cell, "other", "test-suite", str(path.parent), _case(cid, cell, **meta)))
        for mi, m in enumerate(models):
            for k, cid in enumerate(ids):
                n = ci * 7 + mi * 3 + k
                error = mi == 0 and ci == 0 and k == 1
                rows.append(ResultRow(
                    key=f"{m}|{cid}", model=m, model_identity=json.dumps({"backend": "test", "model": m}),
                    settings='{"temperature": 0}', case_id=cid, case_hash=f"h-{cid}", cell=cell, category="other",
                    status="error" if error else "ok", verdict="error" if error else VERDICTS[n % 3],
                    rationale=f"rule said {n}", judge="rule:exact", response=None if error else HOSTILE[n % 9],
                    served_model=f"served-{m}", prompt_tokens=10 + n, completion_tokens=None if k else 5,
                    latency_s=0.25 * n, attempts=1, error="HTTP 500" if error else None, created_at=at + n,
                    run_id="run-1"))
    store.put_cases(cases)
    store.put_results(rows)
    store.put_judgement(cache_key="j1", result_key=f"{models[-1]}|{CELLS[1]}/c0", judge="judge/model",
                        judge_identity="{}", template="verdict-v1", verdict="good", rationale="=judge says good",
                        raw=[], votes={"good": 1})
    store.close()
    return path


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    d = tmp_path_factory.mktemp("stores")
    return [make_store(d / "a.db", ["model-A", "model-B"]), make_store(d / "b.db", ["model-C$1"], at=5000.0)]


# ---------------------------------------------------------------- plot


def test_plot_writes_png_and_svg_of_the_expected_size_naming_every_model(stores: list[Path], tmp_path: Path) -> None:
    fourfold("plot", *map(str, stores), "--out", str(tmp_path))
    sizes = {"radar": (8, 8), "heatmap": (13, 2.2 + 0.6 * 3), "bars": (12, 13)}
    for name, (w, h) in sizes.items():
        with Image.open(tmp_path / f"{name}.png") as im:
            im.load()  # decodes every pixel
            assert im.size == (round(w * DPI), round(h * DPI)), name
            assert len(im.getcolors(1 << 20) or range(1 << 20)) > 10  # drawn, not blank
        svg = (tmp_path / f"{name}.svg").read_text(encoding="utf-8")
        root = ET.fromstring(svg)
        assert root.get("width") == f"{w * 72:g}pt" and root.get("height") == f"{h * 72:g}pt", name
        text = "".join(root.itertext())
        for model in ("model-A", "model-B", "model-C$1"):
            assert model in text, (name, model)
        assert "<dc:date>" not in svg
    heat = "".join(ET.fromstring((tmp_path / "heatmap.svg").read_text(encoding="utf-8")).itertext())
    assert "n=3" in heat and "n=2" in heat  # the errored answer is not judged: model-A's first cell has n=2


def test_plot_is_byte_reproducible(stores: list[Path], tmp_path: Path) -> None:
    def digests(out: Path) -> dict[str, str]:
        fourfold("plot", *map(str, stores), "--out", str(out), "--format", "svg,png")
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())}

    first, second = digests(tmp_path / "one"), digests(tmp_path / "two")
    assert len(first) == 6 and first == second


def test_plot_one_format_and_bad_input(stores: list[Path], tmp_path: Path) -> None:
    fourfold("plot", str(stores[0]), "--out", str(tmp_path), "--format", "svg", "--radar-score", "relative")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bars.svg", "heatmap.svg", "radar.svg"]
    bad = fourfold("plot", str(stores[0]), "--out", str(tmp_path), "--format", "gif", check=False)
    assert bad.returncode == 2 and "--format 'gif': use png, svg or png,svg" in bad.stderr
    missing = fourfold("plot", str(tmp_path / "nope.db"), "--out", str(tmp_path), check=False)
    assert missing.returncode == 2 and "no such store" in missing.stderr


def test_help_imports_neither_matplotlib_nor_pyarrow() -> None:
    import subprocess

    code = ("import sys; from fourfold.cli import build_parser; build_parser(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'pyarrow', 'PIL')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- export


def _expected(stores: list[Path]) -> list[ExportRow]:
    """What the stores hold, through the store API and score.collection, as export rows."""
    col = collect(stores)
    return [ExportRow(model=r.model, model_identity=r.model_identity, settings=r.settings,
                      served_model=r.served_model, cell=r.cell, modality=r.cell.split("/")[0],
                      property=r.cell.split("/")[1], category=r.category, case_id=r.case_id, case_hash=r.case_hash,
                      suite="test-suite", perturbation="noise" if r.case_id.endswith(":noise") else None,
                      original_case_id=r.case_id.removesuffix(":noise") if r.case_id.endswith(":noise") else None,
                      status=r.status, verdict=r.verdict, verdict_source=r.verdict_source, verdict_by=r.verdict_by,
                      rule_verdict=r.rule_verdict, judge_verdict=r.judge_verdict, human_verdict=r.human_verdict,
                      rationale=r.rationale, response=r.response, error=r.error, prompt_tokens=r.prompt_tokens,
                      completion_tokens=r.completion_tokens, latency_s=r.latency_s, attempts=r.attempts,
                      run_id=r.run_id, created_at=r.created_at, key=r.key) for r in col.results]


def _blank_as_null(row: ExportRow) -> dict[str, object]:
    """CSV has no null: an empty text cell reads back as null."""
    return {k: (None if v == "" else v) for k, v in row.model_dump().items()}


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_round_trips_to_what_the_stores_hold(stores: list[Path], tmp_path: Path, fmt: str) -> None:
    if fmt == "parquet":
        _require_pyarrow()
    out = tmp_path / f"results.{fmt}"
    done = fourfold("export", *map(str, stores), "--format", fmt, "--out", str(out))
    want = _expected(stores)
    assert len(want) == 3 * 12 * 3 and f"({len(want)} rows, 3 models, {fmt})" in done.stderr
    got = read_export(out, fmt)  # type: ignore[arg-type]
    if fmt == "csv":
        assert [_blank_as_null(r) for r in got] == [_blank_as_null(r) for r in want]
    else:
        assert got == want
    judged = [r for r in got if r.verdict_source == "judge"]
    assert sorted(r.model for r in judged) == ["model-B", "model-C$1"]  # one judge verdict in each store
    assert all(r.rationale == "=judge says good" and r.judge_verdict == "good" and r.rule_verdict for r in judged)
    assert {r.response for r in got} >= set(HOSTILE)  # the apostrophes CSV added are gone again
    assert all(r.schema_version == SCHEMA_VERSION for r in got)


def _require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        missing_part("pyarrow is not installed: the parquet export test needs it", "pip install 'fourfold[parquet]'")


def test_parquet_schema_is_derived_from_the_row_model(stores: list[Path], tmp_path: Path) -> None:
    _require_pyarrow()
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = tmp_path / "r.parquet"  # the format taken from the suffix
    fourfold("export", *map(str, stores), "--out", str(out))
    schema = pq.read_schema(out)
    assert schema.names == list(COLUMNS)
    assert schema.field("latency_s").type == pa.float64() and schema.field("prompt_tokens").type == pa.int64()
    assert not schema.field("model").nullable and schema.field("response").nullable
    assert schema.metadata[b"fourfold.export.schema_version"] == str(SCHEMA_VERSION).encode()


def test_csv_defuses_formulas_in_every_text_cell(stores: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    fourfold("export", *map(str, stores), "--out", str(out), "--format", "csv")
    with out.open(encoding="utf-8", newline="") as f:
        table = list(csv.reader(f))
    assert table[0] == list(COLUMNS)
    responses = {row[COLUMNS.index("response")] for row in table[1:]}
    assert "'=HYPERLINK(\"http://evil.example\",\"click\")" in responses and "'+1+2" in responses
    assert {"'-3", "'@SUM(A1:A9)", "'\tindented", "'\rreturn", "''already quoted", "日本語 ok"} <= responses
    numeric = {COLUMNS.index(c) for c in ("schema_version", "prompt_tokens", "completion_tokens", "latency_s",
                                          "attempts", "created_at")}
    for row in table[1:]:
        for i, cell in enumerate(row):
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or i in numeric, (COLUMNS[i], cell)
    assert [defuse(s) for s in ("=1", "plain", "'x", "")] == ["'=1", "plain", "''x", ""]


def test_export_without_pyarrow_says_what_to_install(stores: list[Path], tmp_path: Path) -> None:
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text("import sys\nsys.modules['pyarrow'] = None\n")
    env = {"PYTHONPATH": f"{blocker}:{ROOT / 'src'}"}
    out = tmp_path / "r.parquet"
    r = fourfold("export", str(stores[0]), "--format", "parquet", "--out", str(out), env=env, check=False)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        "fourfold: error: parquet export needs pyarrow: pip install 'fourfold[parquet]' (or pip install pyarrow)"]
    assert not out.exists() and not list(tmp_path.glob("*.partial"))


def test_export_bad_input(stores: list[Path], tmp_path: Path) -> None:
    r = fourfold("export", str(stores[0]), "--out", str(tmp_path / "r.xlsx"), check=False)
    assert r.returncode == 2 and "--format csv|jsonl|parquet" in r.stderr
    r = fourfold("export", str(tmp_path / "nope.db"), "--out", str(tmp_path / "r.csv"), check=False)
    assert r.returncode == 2 and "no such store" in r.stderr


def test_the_schema_doc_holds_the_table_made_from_the_row_model() -> None:
    doc = (ROOT / "docs" / "export-schema.md").read_text(encoding="utf-8")
    assert schema_markdown() in doc
    documented = re.findall(r"^\| \d+ \| `(\w+)` \|", doc, flags=re.M)
    assert documented == list(COLUMNS)


# ---------------------------------------------------------------- end to end: replayed models through fourfold run


def test_replayed_run_exports_and_plots_what_the_models_answered(tmp_path: Path) -> None:
    """``fourfold run`` with two replay/ models (known answers, some hostile) into two stores, then export and
    plot them merged."""
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps({"id": f"q{i}", "cell": "text/generalizability", "category": "math",
                                         "input": f"What is {i} + 0? Reply with the number.",
                                         "reference": {"kind": "numeric", "answer": i}}) + "\n" for i in range(6)))
    answers = {"right": {f"q{i}": str(i) for i in range(6)},
               "hostile": {f"q{i}": f"=cmd|' /C calc'!A{i}" if i % 2 else str(i) for i in range(6)}}
    for name, by_id in answers.items():
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps({"id": q, "response": a}) + "\n"
                                                        for q, a in by_id.items()))
    run = ["run", "--cases", str(cases), "--no-progress", "--no-report"]
    for name in answers:
        fourfold(*run, "--model", f"replay/{tmp_path / f'{name}.jsonl'}", "--store", str(tmp_path / f"{name}.db"))
    stores = [str(tmp_path / f"{name}.db") for name in answers]
    fourfold("export", *stores, "--out", str(tmp_path / "r.jsonl"))
    fourfold("export", *stores, "--out", str(tmp_path / "r.csv"))
    rows = read_export(tmp_path / "r.jsonl", "jsonl")
    assert read_export(tmp_path / "r.csv", "csv") == rows  # nothing here is empty, so CSV reads back exactly
    got = {(next(n for n in answers if n in r.model), r.case_id): (r.response, r.verdict) for r in rows}
    want = {(n, q): (a, "good" if a.isdigit() else "bad") for n, by_id in answers.items() for q, a in by_id.items()}
    assert got == want
    assert all(r.verdict_source == "rule" and r.status == "ok" and r.perturbation is None for r in rows)
    assert "'=cmd|' /C calc'!A1" in (tmp_path / "r.csv").read_text(encoding="utf-8")
    fourfold("plot", *stores, "--out", str(tmp_path / "fig"), "--format", "svg")
    root = ET.fromstring((tmp_path / "fig" / "heatmap.svg").read_text(encoding="utf-8"))
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    squares = [(a, b) for a, b in zip(texts, texts[1:], strict=False) if b.startswith("n=")]
    assert sorted(squares) == [("100", "n=6"), ("50", "n=6")]  # one model's text/generalizability square each
