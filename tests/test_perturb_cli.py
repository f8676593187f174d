"""`fourfold cases perturb` end to end: variants linked to their originals, run
next to them, and the report's cost of each perturbation per model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import fourfold, red_rectangle_case


def test_perturb_run_and_report_cost(tmp_path: Path):
    cases, _ = red_rectangle_case(tmp_path, 64, 96, "What colour is the rectangle? One word.")
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


def _wrong(ref: dict) -> dict:
    """The same reference with another answer (choice: the next letter; numeric: +1)."""
    if ref["kind"] == "choice":
        a = ref["answer"]
        index = a if isinstance(a, int) else ord(a.upper()) - ord("A")
        return {**ref, "answer": (index + 1) % len(ref["options"])}
    return {**ref, "answer": ref["answer"] + 1}


def _validate_lines(path: Path, lines: list[dict]):
    path.write_text("".join(json.dumps(v) + "\n" for v in lines))
    return fourfold("cases", "validate", str(path), check=False)


def test_variants_of_generated_cases_are_verified_on_their_originals(tmp_path: Path):
    out = tmp_path / "robust"
    fourfold("cases", "perturb", "--cases", "landscape", "--cells", "image/causality", "--perturbation", "noise",
             "--out", str(out))
    cases = out / "cases.jsonl"
    assert "ok: " in fourfold("cases", "validate", str(cases)).stdout
    variants = [json.loads(line) for line in cases.read_text().splitlines()]
    generated = [i for i, v in enumerate(variants) if "generator" in v["metadata"]]
    assert generated and all(variants[i]["metadata"]["original_media"] for i in generated)
    graded = [i for i in generated if variants[i]["reference"]["kind"] in ("choice", "numeric")]
    i = graded[0]
    vid = variants[i]["id"]

    # a wrong answer on a variant fails, named by line, because the original's media are re-read
    wrong = [dict(v, reference=_wrong(v["reference"])) if k == i else v for k, v in enumerate(variants)]
    r = _validate_lines(cases, wrong)
    assert r.returncode == 2, r.stdout
    assert f"{cases}:{i + 1}: metadata.ground_truth: on the original's media: " in r.stderr
    assert "Traceback" not in r.stderr and r.stderr.count("on the original's media") == 1

    # a variant that cannot show its original is a problem, not a free pass
    meta = {k: v for k, v in variants[i]["metadata"].items() if k != "original_media"}
    r = _validate_lines(cases, [dict(v, metadata=meta) if k == i else v for k, v in enumerate(variants)])
    assert r.returncode == 2 and f"{cases}:{i + 1}: " in r.stderr
    assert f"perturbed variant of {variants[i]['metadata']['original']!r} without its original's media" in r.stderr

    # original media that were swapped for another picture no longer match their sha256
    other = out / variants[next(k for k in generated if k != i)]["metadata"]["original_media"][0]["path"]
    (out / variants[i]["metadata"]["original_media"][0]["path"]).write_bytes(other.read_bytes())
    r = _validate_lines(cases, variants)
    assert r.returncode == 2 and "does not match its sha256" in r.stderr and vid not in r.stdout


def test_claiming_a_perturbation_does_not_skip_verification(tmp_path: Path):
    """A generated case's own media with a wrong answer and a made-up ``perturbation``:
    before the fix, the field alone made verify_case pass it."""
    from fourfold.cases.loader import SUITES_DIR

    src = SUITES_DIR / "landscape" / "image_generated.jsonl"
    line = next(json.loads(x) for x in src.read_text().splitlines() if '"img_count_shapes"' in x)
    for part in line["input"][0]["content"]:
        if part["type"] == "image":  # copied: a link out of the folder would be refused
            (tmp_path / part["path"]).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src.parent / part["path"], tmp_path / part["path"])
    assert _validate_lines(tmp_path / "cases.jsonl", [line]).returncode == 0  # as generated, it is fine
    line["reference"] = _wrong(line["reference"])
    line["metadata"]["perturbation"] = "noise"
    r = _validate_lines(tmp_path / "cases.jsonl", [line])
    assert r.returncode == 2 and "claims perturbation 'noise' but names no original" in r.stderr, r.stderr
    line["metadata"]["original"] = line["id"]
    r = _validate_lines(tmp_path / "cases.jsonl", [line])
    assert r.returncode == 2 and "without its original's media" in r.stderr, r.stderr
