"""The streamed report (issue 12) against the list path on random stores: whatever mix of
models (names with quotes, '|', unicode), cells, verdicts, errors, unanswered cases, reruns
(some stored at the same ``created_at``), judge-model and people's verdicts and rankings,
perturbed variants whose original is missing, stored cases that no longer validate,
missing token counts, one model or several,
``fourfold report --json`` must print the same bytes with ``--inline-limit 0`` as without.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from conftest import fourfold
from fourfold.cases.taxonomy import CATEGORIES, CELLS
from fourfold.report import scores_json
from fourfold.score import compute_scores
from fourfold.score.precedence import effective_rankings, effective_results
from fourfold.score.provenance import verdict_provenance
from fourfold.score.robustness import robustness_costs
from fourfold.score.streaming import stream_summary
from fourfold.score.usage import load_prices, usage_by_model
from fourfold.store import ResultRow, Store, human

NAMES = ("A", "b|c", 'q"uote', "ünï€", "x'y", "m/1", "Z z", "😀")
OUTCOMES = ("good", "bad", "unclear", "unjudged", "error", "not_evaluated")


def _cases(rng: random.Random) -> list[tuple[str, str, str, str, str | None, str | None, str]]:
    cases: list[tuple[str, str, str, str, str | None, str | None, str]] = []
    for i in range(rng.randrange(1, 50)):
        cell = rng.choice(CELLS)
        # 'c|1' and "ç'1" no longer validate as case ids: such a case's options and metadata still count
        case_id = rng.choice([f"c{i}", f"c:{i}", f"c/{i}", f"c|{i}", f"ç'{i}"])
        meta = {}
        if cases and rng.random() < 0.3:  # a perturbed variant, its original stored or not
            meta = {"perturbation": rng.choice(["typos", "reorder"]),
                    "original": rng.choice([rng.choice(cases)[1], "missing"])}
        ref = rng.choice([{"kind": "choice", "options": [f"o{k}" for k in range(rng.randrange(2, 6))], "answer": "A"},
                          {"kind": "rubric", "criteria": "x"}])
        data = {"id": case_id, "cell": cell, "category": CATEGORIES[cell][0], "metadata": meta, "reference": ref,
                "input": [{"role": "user", "content": [{"type": "text", "text": "Q?"}]}]}
        cases.append((f"h{i}", case_id, cell, CATEGORIES[cell][0], "t", None, json.dumps(data)))
    return cases


def _results(rng: random.Random, cases: list, models: list[str], same_time: bool) -> list[ResultRow]:
    rows = []
    for case in cases:
        for m in models:
            if rng.random() < 0.2:
                continue  # never answered
            for rerun in range(rng.choice([1, 1, 2, 3])):
                outcome = rng.choice(OUTCOMES)
                status = outcome if outcome in ("error", "not_evaluated") else "ok"
                rows.append(ResultRow(
                    key=f"{m}|{case[0]}|{rerun}", model=m, model_identity="{}", settings="{}", case_id=case[1],
                    case_hash=case[0], cell=case[2], category=case[3], status=status,
                    verdict={"not_evaluated": "unjudged"}.get(outcome, outcome),
                    judge=rng.choice(["rule:x", "", "none"]) if status == "ok" else "error",
                    prompt_tokens=rng.choice([None, 3, 10]), completion_tokens=rng.choice([None, 2]),
                    created_at=100.0 if same_time else 100.0 + rerun + rng.random()))
    return rows


def _random_store(path: Path, seed: int, same_time: bool = False) -> None:
    rng = random.Random(seed)
    models = rng.sample(NAMES, rng.randrange(1, 6))
    store = Store(path)
    cases = _cases(rng)
    store.put_cases(cases)
    rows = _results(rng, cases, models, same_time)
    store.put_results(rows)
    for r in rows:
        if rng.random() < 0.2:
            store.put_judgement(cache_key=f"j|{r.key}", result_key=r.key, judge="j", judge_identity="{}",
                                template="v1", verdict=rng.choice(["good", "bad", "unclear"]), rationale="",
                                raw=[], votes={})
    for case in cases:
        if rng.random() < 0.3:  # some rankings leave a model out
            store.put_ranking(cache_key=f"r|{case[0]}", case_hash=case[0], case_id=case[1], cell=case[2], judge="j",
                              template="r", ranks={m: float(rng.randrange(1, 4)) for m in models if rng.random() < 0.9},
                              raw=[])
    if rng.random() < 0.7:
        human.add_annotator(store, "alice")
        for r in rows:
            if rng.random() < 0.15:
                human.save_verdict(store, "alice", r.key, rng.choice(["good", "bad"]), require_assignment=False)
        for case in cases:
            if len(models) > 1 and rng.random() < 0.2:
                human.save_ranking(store, "alice", case[0], rng.sample(models, len(models)), require_assignment=False)
    store.close()


@pytest.mark.parametrize(("seed", "same_time"), [(s, False) for s in range(8)] + [(s, True) for s in range(8, 12)])
def test_streamed_equals_listed_on_random_stores(tmp_path: Path, seed: int, same_time: bool) -> None:
    path = tmp_path / "results.db"
    _random_store(path, seed, same_time)
    store = Store(path, readonly=True)
    assert json.dumps(scores_json(store, inline_limit=0)) == json.dumps(scores_json(store, inline_limit=10**9))
    prices = load_prices()
    rows = effective_results(store)
    cases = store.cases({r.case_hash for r in rows})
    listed = compute_scores(rows, effective_rankings(store), cases=cases)  # type: ignore[arg-type]
    streamed = stream_summary(store, effective_rankings(store), prices)
    assert streamed.usage == usage_by_model(rows, prices)
    assert streamed.provenance == verdict_provenance(rows, listed)
    assert streamed.robustness == robustness_costs(rows, cases)
    assert (streamed.n_results, streamed.n_cases) == (len(rows), len({(r.cell, r.case_id) for r in rows}))
    store.close()


def test_reruns_at_the_same_time_pick_the_same_latest_everywhere(tmp_path: Path) -> None:
    """Two results of one model for one case stored at the same ``created_at``: the list
    path and the streamed chunks take the same one (the greater key), not whichever
    SQLite's sort happens to put first."""
    path = tmp_path / "results.db"
    _random_store(path, 8, same_time=True)
    store = Store(path, readonly=True)
    assert store.count() > store.count_latest()
    streamed = sorted(r.key for chunk in store.iter_latest_chunks(size=3) for r in chunk)
    assert streamed == sorted(r.key for r in store.latest_results())
    latest = {(r.model, r.case_id): r.key for r in store.latest_results()}
    every: dict[tuple[str, str], list[str]] = {}
    for (model, case_id, key) in store.db.execute("SELECT model, case_id, key FROM results"):
        every.setdefault((model, case_id), []).append(key)
    assert latest == {mc: max(keys) for mc, keys in every.items()}
    store.close()


def test_report_json_bytes_on_a_random_store(tmp_path: Path) -> None:
    path = tmp_path / "a 'store' \"here\"" / "results.db"
    _random_store(path, 3)
    listed = fourfold("report", "--store", str(path), "--json").stdout
    assert fourfold("report", "--store", str(path), "--json", "--inline-limit", "0").stdout == listed


def test_perturbation_metadata_of_odd_types_counts_for_neither_path(tmp_path: Path) -> None:
    """A variant's ``perturbation`` or ``original`` that is not a string (true, a number, a
    list, an object: a hand-edited or foreign case file) is no perturbed variant, for the
    list path and the streamed pass alike: the list path failed on a list (unhashable) and
    the two named ``true`` "True" and "1", an object two ways."""
    path = tmp_path / "results.db"
    store = Store(path)
    odd = [("typos", "c0"), (True, "c0"), ({"a": 1}, "c0"), (1.5, "c0"), ("typos", ["c0"]), ("typos", 0),
           ("typos", {"id": "c0"}), ("", "c0")]
    cases = []
    for i, (pert, orig) in enumerate([(None, None), *odd]):
        cell = CELLS[i % len(CELLS)]
        meta = {} if pert is None else {"perturbation": pert, "original": orig}
        data = {"id": f"c{i}", "cell": cell, "category": CATEGORIES[cell][0], "metadata": meta,
                "reference": {"kind": "rubric", "criteria": "x"},
                "input": [{"role": "user", "content": [{"type": "text", "text": "Q?"}]}]}
        cases.append((f"h{i}", f"c{i}", cell, CATEGORIES[cell][0], "t", None, json.dumps(data)))
    store.put_cases(cases)
    store.put_results([ResultRow(key=f"{m}|{c[0]}", model=m, model_identity="{}", settings="{}", case_id=c[1],
                                 case_hash=c[0], cell=c[2], category=c[3], status="ok", verdict=v, judge="rule:x")
                       for c in cases for m, v in (("A", "good"), ("B", "bad"))])
    rows = effective_results(store)
    listed = robustness_costs(rows, store.cases())
    assert [(r.model, r.perturbation, r.n) for r in listed] == [("A", "typos", 1), ("B", "typos", 1)]
    assert stream_summary(store, {}, load_prices()).robustness == listed
    store.close()


@pytest.mark.parametrize("limit", ["0", "5000"])
def test_a_result_in_a_cell_outside_the_taxonomy_is_a_clear_error(tmp_path: Path, limit: str) -> None:
    """The store takes any cell; the scores have 12. The list path failed with a KeyError
    traceback and the streamed pass left the result out of the scores without a word: now
    both say which file, case and cell (exit 2), for report.md and --json alike."""
    path = tmp_path / "results.db"
    _random_store(path, 1)
    store = Store(path)
    store.put_results([ResultRow(key="odd", model="A", model_identity="{}", settings="{}", case_id="cx",
                                 case_hash="hx", cell="smell/taste", category="c", status="ok", verdict="good")])
    store.close()
    for args in (["--json"], ["--out", str(tmp_path / "out")]):
        proc = fourfold("report", "--store", str(path), "--inline-limit", limit, *args, check=False)
        assert proc.returncode == 2, proc.stderr
        assert f"{path}: cannot score it" in proc.stderr and "'smell/taste'" in proc.stderr and "'cx'" in proc.stderr
        assert "Traceback" not in proc.stderr
    if limit == "0":  # the commands that read several stores say the same (they failed with a traceback)
        for command in (["site", str(path), "--out", str(tmp_path / "site")],
                        ["plot", str(path), "--out", str(tmp_path / "figures")]):
            proc = fourfold(*command, check=False)
            assert proc.returncode == 2, proc.stderr
            assert f"{path}: cannot score it" in proc.stderr and "'smell/taste'" in proc.stderr
            assert "Traceback" not in proc.stderr


def _a_good_b_bad(path: Path, last_case: str = "{}") -> tuple[Store, str]:
    """A store of three cases in the first cell (the last one's JSON ``last_case``), model A
    good and model B bad on each: open, for the test to add its damaged rows."""
    store = Store(path)
    cell = CELLS[0]
    store.put_cases([(f"h{i}", f"c{i}", cell, CATEGORIES[cell][0], "t", None, last_case if i == 2 else "{}")
                     for i in range(3)])
    store.put_results([ResultRow(key=f"{m}{i}", model=m, model_identity="{}", settings="{}", case_id=f"c{i}",
                                 case_hash=f"h{i}", cell=cell, category=CATEGORIES[cell][0], status="ok", verdict=v,
                                 judge="rule:x") for i in range(3) for m, v in (("A", "good"), ("B", "bad"))])
    return store, cell


@pytest.mark.parametrize("ranks", ['{"A": "1", "B": 2}', '{"A": null, "B": 2}', '{"A": NaN, "B": 2}',
                                   '{"A": {"x": 1}, "B": 2}', '{"A": true, "B": 2}', "[1, 2]", "not json"])
def test_a_damaged_ranking_ranks_by_verdicts_in_both_paths(tmp_path: Path, ranks: str) -> None:
    """A rankings row written by hand or damaged: the list path and the streamed one
    failed (TypeError, JSONDecodeError) or ordered NaN differently; now that case is ranked
    by its verdicts (A good, B bad: A first), as when a ranking leaves a model out."""
    path = tmp_path / "results.db"
    store, cell = _a_good_b_bad(path)
    store.put_ranking(cache_key="ok", case_hash="h1", case_id="c1", cell=cell, judge="j", template="t",
                      ranks={"A": 2.0, "B": 1.0}, raw=[])  # a sound ranking still counts: B first on c1
    store.db.execute("INSERT INTO rankings VALUES ('bad', 'h0', 'c0', ?, 'j', 't', ?, '[]', 1.0)", (cell, ranks))
    store.close()
    listed = fourfold("report", "--store", str(path), "--json").stdout
    assert fourfold("report", "--store", str(path), "--json", "--inline-limit", "0").stdout == listed
    a = json.loads(listed)["scores"]["A"][cell]
    assert (a["relative"], a["relative_basis"]) == (pytest.approx(100 * 2 / 3), "mixed")


@pytest.mark.parametrize("data", [
    '{"reference": {"kind": "choice", "options": ["a", "b"]}, "reference": {"kind": "rubric"}}',  # SQLite: the first
    '{"reference": {"kind": "choice", "options": ["a", "b"]}, "x": ' + "[" * 1500 + "]" * 1500 + "}",
    '{"reference": {"kind": "choice", "options": ["a", "b"]}, "x": NaN}',
    '{"reference": {"kind": "choice", "options": ["a", "b"]}, "metadata": {"perturbation": "typos", '
    '"original": "c0", "original": "c1"}}'], ids=["duplicate-key", "1500-deep", "nan", "duplicate-original"])
def test_case_json_that_python_and_sqlite_read_differently(tmp_path: Path, data: str) -> None:
    """A case's JSON with duplicate keys, nesting deeper than Python's recursion limit, or
    NaN: the list path reads its facts with the SQLite functions the streamed pass uses,
    so both count the same chance level (Python's parser took the last duplicate, failed
    deep, and took NaN)."""
    path = tmp_path / "results.db"
    store, _ = _a_good_b_bad(path, last_case=data)
    store.close()
    store = Store(path, readonly=True)
    assert json.dumps(scores_json(store, inline_limit=0)) == json.dumps(scores_json(store, inline_limit=10**9))
    rows = effective_results(store)
    assert stream_summary(store, {}, load_prices()).robustness == robustness_costs(rows, store.cases())
    store.close()


@pytest.mark.parametrize(("raw", "votes"), [("nope", "{}"), ("[]", "nope"), ('{"a": 1}', "[1]")])
def test_a_judgement_with_damaged_votes_or_raw_still_counts(tmp_path: Path, raw: str, votes: str) -> None:
    """A judgements row whose ``votes`` or ``raw`` is not the JSON it should be (shown, never
    scored) failed every report with a JSONDecodeError; now its verdict counts and they show as none."""
    path = tmp_path / "results.db"
    store, cell = _a_good_b_bad(path)
    store.db.execute("INSERT INTO judgements VALUES ('k', 'A0', 'j', '{}', 't', 'bad', 'r', ?, ?, 1.0)", (raw, votes))
    store.close()
    listed = fourfold("report", "--store", str(path), "--json").stdout
    assert fourfold("report", "--store", str(path), "--json", "--inline-limit", "0").stdout == listed
    a = json.loads(listed)["scores"]["A"][cell]
    assert (a["absolute"], a["sources"]) == (pytest.approx(200 / 3), {"judge": 1, "rule": 2})
    for limit in ("0", "5000"):
        fourfold("report", "--store", str(path), "--out", str(tmp_path / limit), "--inline-limit", limit)


@pytest.mark.parametrize("ranking", ["nope", "[1]"])
def test_a_damaged_human_ranking_ranks_nobody(tmp_path: Path, ranking: str) -> None:
    """A person's saved ranking whose JSON is damaged failed every report (JSONDecodeError,
    IndexError); now it ranks nobody and the report is written, the same in both paths."""
    path = tmp_path / "results.db"
    _random_store(path, 0)  # seed 0: people ranked some cases
    store = Store(path)
    assert store.db.execute("UPDATE human_rankings SET ranking = ?", (ranking,)).rowcount > 0
    store.close()
    listed = fourfold("report", "--store", str(path), "--json").stdout
    assert fourfold("report", "--store", str(path), "--json", "--inline-limit", "0").stdout == listed


def test_chunks_of_one_case_give_the_same_scores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks cut after every case (size 1) on random stores: the sums carried from chunk to
    chunk give the list path's numbers, not only one chunk holding the whole small store."""
    chunks = Store.iter_latest_chunks
    monkeypatch.setattr(Store, "iter_latest_chunks", lambda self, size=5_000: chunks(self, size=1))
    for seed in range(6):
        path = tmp_path / f"{seed}.db"
        _random_store(path, seed, same_time=seed % 2 == 1)
        store = Store(path, readonly=True)
        assert json.dumps(scores_json(store, inline_limit=0)) == json.dumps(scores_json(store, inline_limit=10**9))
        store.close()
