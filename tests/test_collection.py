"""score.collection: several stores merged, the newer answer per (model, case) counting."""

from __future__ import annotations

from pathlib import Path

from fourfold.score.collection import collect
from fourfold.store import ResultRow, Store


def _store(path: Path, rows: list[tuple[str, str, str, float]]) -> Path:
    """A store with one result per (model, case id, verdict, created_at), through the real store API."""
    s = Store(path)
    s.put_results([ResultRow(key=f"{model}|{case_id}|{at}", model=model, model_identity="{}", settings="{}",
                             case_id=case_id, case_hash=f"h-{case_id}", cell="text/generalizability",
                             category="qa", status="ok", verdict=verdict, response="x", created_at=at)
                   for model, case_id, verdict, at in rows])
    s.close()
    return path


def test_two_stores_merge_and_the_newer_answer_counts(tmp_path: Path) -> None:
    a = _store(tmp_path / "a.db", [("m1", "c1", "good", 1.0), ("m1", "c2", "bad", 1.0), ("m2", "c1", "bad", 1.0)])
    b = _store(tmp_path / "b.db", [("m1", "c1", "bad", 2.0), ("m3", "c1", "good", 2.0)])
    col = collect([a, b])
    got = {(r.model, r.case_id): r.verdict for r in col.results}
    assert got == {("m1", "c1"): "bad", ("m1", "c2"): "bad", ("m2", "c1"): "bad", ("m3", "c1"): "good"}
    assert col.superseded == 1
    assert col.models == ["m1", "m2", "m3"]
    assert [(s.path, s.results) for s in col.sources] == [(str(a), 3), (str(b), 2)]
    # the older store given last does not win
    assert {(r.model, r.case_id): r.verdict for r in collect([b, a]).results}[("m1", "c1")] == "bad"
