"""The CLI as a user meets it: exit codes, error messages, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import fourfold


def _bad_file(tmp_path: Path) -> Path:
    f = tmp_path / "bad.jsonl"
    f.write_text(
        '{"id": "ok1", "cell": "text/generalizability", "category": "math", "input": "1+1?", '
        '"reference": {"kind": "numeric", "answer": 2}}\n'
        '{"id": "b1", "cell": "text/generalizability", "category": "math", "input": "x", '
        '"reference": {"kind": "numeric", "answer": "two"}}\n'
        '{"id": "b2", "cell": "text/generalizability", "category": "math" "input": "x"}\n'
        '{"id": "b3", "cell": "text/general", "category": "math", "input": "x", "reference": {"kind": "refuse"}}\n'
    )
    return f


def test_malformed_case_file_exits_2_with_file_line_field(tmp_path):
    f = _bad_file(tmp_path)
    for args in (["cases", "validate", str(f)], ["run", "--cases", str(f), "--store", str(tmp_path / "r.db")]):
        r = fourfold(*args, check=False)
        assert r.returncode == 2, r.stderr
        assert "Traceback" not in r.stderr
        assert f"{f}:2: reference.answer:" in r.stderr
        assert f"{f}:3: invalid JSON" in r.stderr
        assert f"{f}:4: cell: unknown cell 'text/general'; did you mean 'text/generalizability'?" in r.stderr
    assert not (tmp_path / "r.db").exists(), "nothing is run on bad input"


def test_missing_media_and_duplicate_ids(tmp_path):
    f = tmp_path / "m.jsonl"
    rec = {"id": "img1", "cell": "image/generalizability", "category": "recognition",
           "input": [{"role": "user", "content": [{"type": "text", "text": "what?"},
                                                   {"type": "image", "path": "missing.png"}]}],
           "reference": {"kind": "exact", "answer": "cat"}}
    f.write_text(json.dumps(rec) + "\n" + json.dumps({**rec, "id": "img1"}) + "\n")
    r = fourfold("cases", "validate", str(f), check=False)
    assert r.returncode == 2
    assert f"{f}:1: input[0].content[1].path: media file not found" in r.stderr
    assert f"{f}:2: id: duplicate id 'img1'" in r.stderr


def test_generic_jsonl_needs_cell(tmp_path):
    f = tmp_path / "g.jsonl"
    f.write_text('{"id": "q1", "input": "2+2?", "target": "4"}\n')
    r = fourfold("cases", "validate", str(f), check=False)
    assert r.returncode == 2 and "needs --cell" in r.stderr
    ok = fourfold("cases", "validate", str(f), "--cell", "text/generalizability")
    assert "ok: 1 cases" in ok.stdout


def test_unknown_model_spec_suggests(tmp_path):
    r = fourfold("run", "--model", "opnai/gpt-4o", "--store", str(tmp_path / "r.db"), check=False)
    assert r.returncode == 2 and "did you mean 'openai/NAME[@BASE_URL][#CAPS]'" in r.stderr
    assert "Traceback" not in r.stderr


def test_bad_cells_and_suite(tmp_path):
    r = fourfold("run", "--cells", "text/causalty", "--store", str(tmp_path / "r.db"), check=False)
    assert r.returncode == 2 and "did you mean 'text/causality'" in r.stderr
    r = fourfold("cases", "list", "--cases", "startr", check=False)
    assert r.returncode == 2 and "did you mean 'starter'" in r.stderr


def test_cases_list_show_stats_schema():
    lst = fourfold("cases", "list").stdout.splitlines()
    assert len(lst) >= 48
    first = lst[0].split("\t")[0]
    shown = json.loads(fourfold("cases", "show", first).stdout)
    assert shown["id"] == first and shown["_source"].endswith(":1")
    stats = json.loads(fourfold("cases", "stats", "--json", "--cases", "starter").stdout)
    for cell in ("text/generalizability", "text/trustworthiness", "text/causality",
                 "code/generalizability", "code/trustworthiness", "code/causality"):
        assert stats["cells"][cell]["cases"] >= 8
    schema = json.loads(fourfold("cases", "schema").stdout)
    assert "reference" in schema["properties"]
    r = fourfold("cases", "show", "no-such-id", check=False)
    assert r.returncode == 2


def test_models_lists_backends():
    data = json.loads(fourfold("models", "--json").stdout)
    assert data["default"] == "smollm2"
    assert {b["prefix"] for b in data["backends"]} >= {"smollm2", "llamacpp", "openai"}


def test_report_without_store_is_a_usage_error(tmp_path):
    r = fourfold("report", "--store", str(tmp_path / "none.db"), check=False)
    assert r.returncode == 2 and "no such store" in r.stderr


def test_published_json_schema_is_current():
    published = json.loads((Path(__file__).resolve().parents[1] / "docs" / "case-schema.json").read_text())
    assert published == json.loads(fourfold("cases", "schema").stdout), \
        "docs/case-schema.json is stale: run `fourfold cases schema > docs/case-schema.json`"


def test_annotate_commands(tmp_path):
    replay = tmp_path / "a.jsonl"
    replay.write_text('{"id": "starter/text-gen/001", "response": "Answer: 21"}\n')
    out = tmp_path / "out"
    fourfold("run", "--model", f"replay/{replay}", "--cases", "starter", "--cells", "text/generalizability",
             "--out", str(out), "--no-progress", "--no-report")
    db = str(out / "results.db")
    link = fourfold("annotate", "add-annotator", "alice", "--store", db).stdout.strip()
    assert link.startswith("http://127.0.0.1:8765/login?token=")
    token = link.split("token=")[1]
    assert token.encode() not in (out / "results.db").read_bytes()
    again = fourfold("annotate", "add-annotator", "alice", "--store", db, check=False)
    assert again.returncode == 2 and "Traceback" not in again.stderr
    r = fourfold("annotate", "assign", "-k", "1", "--store", db)
    assert "1 assignment(s) added" in r.stderr
    assert "0 assignment(s) added" in fourfold("annotate", "assign", "-k", "1", "--store", db).stderr


def test_unloadable_model_stops_with_a_clear_message(tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"not a gguf file" * 64)
    r = fourfold("run", "--model", f"llamacpp/{bad}", "--cases", "starter", "--limit", "1", "--cells",
                 "text/causality", "--out", str(tmp_path / "out"), "--no-progress", check=False)
    assert r.returncode == 1 and "stopped, no case can succeed: cannot load" in r.stderr
    assert "Traceback" not in r.stderr


def test_annotate_stats_prints_agreement_per_cell(tmp_path):
    """`fourfold annotate stats` on a store where two people judged two answers alike."""
    from fourfold.store import Store
    from fourfold.store import human as H

    replay = tmp_path / "a.jsonl"
    replay.write_text('{"id": "starter/text-gen/001", "response": "Answer: 21"}\n'
                      '{"id": "starter/text-gen/002", "response": "Answer: 5"}\n')
    out = tmp_path / "out"
    fourfold("run", "--model", f"replay/{replay}", "--cases", "starter", "--cells", "text/generalizability",
             "--out", str(out), "--no-progress", "--no-report")
    store = Store(out / "results.db")
    H.add_annotator(store, "alice")
    H.add_annotator(store, "bob")
    keys = sorted(r.key for r in store.latest_results() if r.status == "ok")[:2]
    assert len(keys) == 2
    for key, verdict in zip(keys, ["good", "bad"], strict=True):
        for person in ("alice", "bob"):
            H.save_verdict(store, person, key, verdict, require_assignment=False)
    store.close()
    stats = json.loads(fourfold("annotate", "stats", "--store", str(out / "results.db")).stdout)
    cell = stats["text/generalizability"]
    assert cell["fleiss"]["n_items"] == 2 and cell["fleiss"]["kappa"] == 1.0, cell
