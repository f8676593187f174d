"""`fourfold cases perturb` end to end: variants linked to their originals, run
next to them, and the report's cost of each perturbation per model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from conftest import fourfold


def test_perturb_run_and_report_cost(tmp_path: Path):
    img = np.zeros((64, 96, 3), np.uint8)
    img[16:48, 24:72] = (200, 30, 30)
    Image.fromarray(img).save(tmp_path / "red.png")
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps({
        "id": "img/red", "cell": "image/generalizability", "category": "recognition",
        "input": [{"role": "user", "content": [{"type": "image", "path": "red.png"},
                                               {"type": "text", "text": "What colour is the rectangle? One word."}]}],
        "reference": {"kind": "exact", "answer": "red"}}) + "\n")
    out = tmp_path / "robust"
    r = fourfold("cases", "perturb", "--cases", str(cases), "--perturbation", "noise", "--perturbation", "rain+fog",
                 "--seed", "3", "--out", str(out))
    assert "wrote 2 variants of 1 cases" in r.stderr
    variants = [json.loads(line) for line in (out / "cases.jsonl").read_text().splitlines()]
    assert {v["metadata"]["original"] for v in variants} == {"img/red"}
    for v in variants:
        path = out / v["input"][0]["content"][0]["path"]
        assert path.is_file() and path.read_bytes() != (tmp_path / "red.png").read_bytes()
    again = tmp_path / "robust2"
    fourfold("cases", "perturb", "--cases", str(cases), "--perturbation", "noise", "--perturbation", "rain+fog",
             "--seed", "3", "--out", str(again))
    assert (again / "cases.jsonl").read_text() == (out / "cases.jsonl").read_text(), "same seed, same variants"
    ids = [v["id"] for v in variants]

    replay = tmp_path / "answers.jsonl"  # right on the original, wrong on one variant
    replay.write_text("".join(json.dumps(x) + "\n" for x in [
        {"id": "img/red", "response": "red"}, {"id": ids[0], "response": "red"}, {"id": ids[1], "response": "grey"}]))
    res = tmp_path / "res"
    fourfold("run", "--model", f"replay/{replay}", "--cases", str(cases), "--cases", str(out), "--out", str(res),
             "--no-progress")
    md = (res / "report.md").read_text()
    assert "## Robustness: what each perturbation costs" in md
    pert = {v["id"]: v["metadata"]["perturbation"] for v in variants}
    assert f"| replay:answers | {pert[ids[0]]} | 1 | 100.0 | 100.0 | +0.0 |" in md
    assert f"| replay:answers | {pert[ids[1]]} | 1 | 100.0 | 0.0 | -100.0 |" in md

    bad = fourfold("cases", "perturb", "--cases", str(cases), "--perturbation", "rian", "--out", str(tmp_path / "x"),
                   check=False)
    assert bad.returncode == 2 and "did you mean 'rain'" in bad.stderr


def test_variants_of_generated_cases_validate(tmp_path: Path):
    out = tmp_path / "robust"
    fourfold("cases", "perturb", "--cases", "landscape", "--cells", "image/causality", "--perturbation", "noise",
             "--out", str(out))
    assert "ok: " in fourfold("cases", "validate", str(out / "cases.jsonl")).stdout
