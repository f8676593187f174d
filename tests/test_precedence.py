"""A person's verdict beats a judge model's, which beats a rule's, in every score,
with provenance kept (real store, the annotation tables, the report)."""

from __future__ import annotations

import json
from pathlib import Path

from fourfold.report import build_report, scores_json
from fourfold.score.assignment import assign
from fourfold.score.precedence import effective_results
from fourfold.store import ResultRow, Store, human


def _store(tmp_path: Path) -> tuple[Store, list[str]]:
    store = Store(tmp_path / "r.db")
    case = {"id": "c1", "cell": "text/causality", "category": "counterfactual", "input": [
        {"role": "user", "content": [{"type": "text", "text": "Why?"}]}],
        "reference": {"kind": "rubric", "criteria": "explains"}}
    store.put_cases([("h1", "c1", "text/causality", "counterfactual", "t", str(tmp_path), json.dumps(case))])
    keys = []
    for model, verdict in (("A", "bad"), ("B", "good")):
        key = f"k-{model}"
        keys.append(key)
        store.put_results([ResultRow(key=key, model=model, model_identity="{}", settings="{}", case_id="c1",
                                     case_hash="h1", cell="text/causality", category="counterfactual", status="ok",
                                     verdict=verdict, rationale="rule", judge="rule:x", response=f"answer {model}")])
    return store, keys


def test_human_over_judge_over_rule(tmp_path: Path):
    store, (ka, kb) = _store(tmp_path)
    s0 = scores_json(store)["scores"]
    assert s0["A"]["text/causality"]["absolute"] == 0.0 and s0["A"]["text/causality"]["sources"] == {"rule": 1}

    store.put_judgement(cache_key="j1", result_key=ka, judge="openai/j", judge_identity="{}", template="verdict@v1",
                        verdict="unclear", rationale="judge says unclear", raw=["{}"], votes={"unclear": 1})
    s1 = scores_json(store)["scores"]["A"]["text/causality"]
    assert s1["absolute"] == 50.0 and s1["sources"] == {"judge": 1}

    human.add_annotator(store, "alice")
    human.add_annotator(store, "bob")
    assign(store, k=2)
    human.save_verdict(store, "alice", ka, "good")
    human.save_verdict(store, "bob", ka, "good")
    s2 = scores_json(store)["scores"]
    assert s2["A"]["text/causality"]["absolute"] == 100.0 and s2["A"]["text/causality"]["sources"] == {"human": 1}
    assert s2["A"]["text/causality"]["relative"] == 50.0, "A and B now tie on this case"
    row = next(r for r in effective_results(store) if r.key == ka)
    assert row.verdict_source == "human" and "alice" in row.verdict_by and "bob" in row.verdict_by
    assert row.judge_verdict == "unclear" and row.rule_verdict == "bad"

    # people's ranking beats verdict ranks for the relative score
    human.save_ranking(store, "alice", "h1", {"A": 2, "B": 1})
    human.save_ranking(store, "bob", "h1", {"A": 2, "B": 1})
    s3 = scores_json(store)["scores"]
    assert s3["B"]["text/causality"]["relative"] == 100.0 and s3["B"]["text/causality"]["relative_basis"] == "rankings"

    files = build_report(store, tmp_path / "out")
    md = files.markdown.read_text()
    assert "| A | text/causality | 0 | 0 | 1 |" in md
    assert "people: alice, bob" in md
