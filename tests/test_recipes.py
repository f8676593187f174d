"""Every recipe in docs/architecture.md, done exactly as written: its code blocks
are copied into a temporary folder, registered with the recipe's one line in a
plugin module named by FOURFOLD_PLUGINS, and used through `fourfold` itself (or,
for judge templates, which no command selects, through the public API)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp import web
from PIL import Image

from conftest import fourfold, red_rectangle_case, start_chat_server

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"
_BLOCK = re.compile(r"<!-- recipe: (?P<recipe>[\w-]+) (?P<part>[\w.-]+) -->\n```\w*\n(?P<code>.*?)```", re.S)


def recipe(name: str) -> dict[str, str]:
    """The recipe's blocks: ``{file name or "register": text}``."""
    parts = {m["part"]: m["code"] for m in _BLOCK.finditer(DOC.read_text()) if m["recipe"] == name}
    assert "register" in parts, f"docs/architecture.md has no registration block for {name}"
    return parts


def install(tmp_path: Path, *names: str) -> dict[str, str]:
    """Write the recipes' files into ``tmp_path/plugins`` and their registration
    lines into one plugin module; the environment a user would set."""
    folder = tmp_path / "plugins"
    folder.mkdir(exist_ok=True)
    lines = []
    for name in names:
        for part, code in recipe(name).items():
            if part == "register":
                lines.append(code)
            else:
                (folder / part).write_text(code)
    (folder / "my_plugins.py").write_text("\n".join(lines))
    return {"PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")]),
            "FOURFOLD_PLUGINS": "my_plugins"}


def test_every_recipe_registers_with_one_line() -> None:
    for name in ("backend", "kind", "perturbation", "generator", "template"):
        calls = [ln for ln in recipe(name)["register"].splitlines() if ln.strip() and not ln.startswith("from ")]
        assert len(calls) == 1, f"{name}: {calls}"


def test_backend_recipe(tmp_path: Path) -> None:
    env = install(tmp_path, "backend")
    listed = json.loads(fourfold("models", "--json", env=env).stdout)
    assert {"prefix": "echo", "syntax": "echo/NAME", "accepts": "text",
            "description": "answers every question with the question itself", "extra": "", "installed": True,
            "install": None} in listed["backends"]
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id": "e1", "input": "Paris", "target": "Paris"}\n'
                     '{"id": "e2", "input": "Berlin", "target": "Rome"}\n')
    store = tmp_path / "r.db"
    fourfold("run", "--model", "echo/parrot", "--cases", str(cases), "--cell", "text/generalizability",
             "--store", str(store), "--no-report", "--no-progress", env=env)
    from fourfold.store import Store

    s = Store(store, readonly=True)
    try:
        rows = {r.case_id: r for r in s.latest_results()}
    finally:
        s.close()
    assert (rows["e1"].response, rows["e1"].verdict, rows["e1"].served_model) == ("Paris", "good", "parrot")
    assert (rows["e2"].response, rows["e2"].verdict) == ("Berlin", "bad")
    bad = fourfold("run", "--model", "echo/", "--cases", str(cases), "--cell", "text/generalizability",
                   "--store", str(store), env=env, check=False)
    assert bad.returncode == 2 and "has no name (echo/NAME)" in bad.stderr
    typo = fourfold("run", "--model", "ecoh/parrot", "--store", str(store), env=env, check=False)
    assert typo.returncode == 2 and "did you mean 'echo/NAME'?" in typo.stderr


def test_reference_kind_recipe(tmp_path: Path) -> None:
    env = install(tmp_path, "kind")
    cases = tmp_path / "cases.jsonl"
    common = {"cell": "text/generalizability", "category": "other"}
    cases.write_text("".join(json.dumps({"id": cid, **common, "input": "Say a palindrome.", "reference": ref}) + "\n"
                             for cid, ref in [("p1", {"kind": "palindrome", "min_length": 5}),
                                              ("p2", {"kind": "palindrome"}), ("p3", {"kind": "palindrome"})]))
    assert "ok: 3 cases" in fourfold("cases", "validate", str(cases), env=env).stdout
    listed = fourfold("cases", "list", "--cases", str(cases), env=env).stdout
    assert "palindrome (at least 5 letters)" in listed
    schema = json.loads(fourfold("cases", "schema", env=env).stdout)
    assert schema["properties"]["reference"]["discriminator"]["mapping"]["palindrome"] == "#/$defs/PalindromeRef"
    answers = tmp_path / "answers.jsonl"
    answers.write_text('{"id": "p1", "response": "Never odd or even."}\n{"id": "p2", "response": "Paris"}\n'
                       '{"id": "p3", "response": "Wow"}\n')
    store = tmp_path / "r.db"
    fourfold("run", "--model", f"replay/{answers}", "--cases", str(cases), "--store", str(store), "--no-report",
             "--no-progress", env=env)
    from fourfold.store import Store

    s = Store(store, readonly=True)
    try:
        rows = {r.case_id: r for r in s.latest_results()}
    finally:
        s.close()
    assert {cid: (r.verdict, r.judge) for cid, r in rows.items()} == {
        "p1": ("good", "rule:palindrome"), "p2": ("bad", "rule:palindrome"), "p3": ("good", "rule:palindrome")}
    assert rows["p2"].rationale == "does not read the same backwards"
    # the kind's own fields and a mistyped kind are file:line:field errors
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(json.dumps({"id": cid, **common, "input": "q", "reference": ref}) + "\n"
                           for cid, ref in [("b1", {"kind": "palindrome", "min_lenght": 5}),
                                            ("b2", {"kind": "palindrom"})]))
    r = fourfold("cases", "validate", str(bad), env=env, check=False)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"{bad}:1: reference.min_lenght: Extra inputs are not permitted" in r.stderr
    assert f"{bad}:2: reference.kind: unknown reference kind 'palindrom'; did you mean 'palindrome'?" in r.stderr
    # without the plugin the kind is unknown
    plain = fourfold("cases", "validate", str(cases), check=False)
    assert plain.returncode == 2 and "unknown reference kind 'palindrome'" in plain.stderr


def test_perturbation_recipe(tmp_path: Path) -> None:
    env = install(tmp_path, "perturbation")
    cases, img = red_rectangle_case(tmp_path, 32, 48, "What colour is the rectangle?")
    out = tmp_path / "robust"
    fourfold("cases", "perturb", "--cases", str(cases), "--perturbation", "invert:amount=1", "--out", str(out), env=env)
    (variant,) = [json.loads(line) for line in (out / "cases.jsonl").read_text().splitlines()]
    assert variant["metadata"]["perturbation"].startswith("invert:amount=1")
    pixels = np.asarray(Image.open(out / variant["input"][0]["content"][0]["path"]).convert("RGB"))
    assert np.array_equal(pixels, 255 - img)
    typo = fourfold("cases", "perturb", "--cases", str(cases), "--perturbation", "invrt", "--out", str(out),
                    env=env, check=False)
    assert typo.returncode == 2 and "did you mean 'invert'?" in typo.stderr


def test_generator_recipe(tmp_path: Path) -> None:
    env = install(tmp_path, "generator")
    out = tmp_path / "gen"
    fourfold("cases", "generate", "--cell", "text/causality", "--generator", "sums", "--n", "4", "--seed", "7",
             "--out", str(out), env=env)
    cases = [json.loads(line) for line in (out / "cases.jsonl").read_text().splitlines()]
    assert len(cases) == 4 and {c["metadata"]["generator"] for c in cases} == {"sums"}
    for c in cases:
        a, b = c["metadata"]["ground_truth"]["a"], c["metadata"]["ground_truth"]["b"]
        assert c["reference"] == {"kind": "numeric", "answer": a + b} and f"{a} + {b}" in c["input"]
    assert "ok: 4 cases" in fourfold("cases", "validate", str(out / "cases.jsonl"), env=env).stdout
    # its verify runs: a wrong answer is caught
    cases[0]["reference"]["answer"] += 1
    (out / "cases.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cases))
    bad = fourfold("cases", "validate", str(out / "cases.jsonl"), env=env, check=False)
    assert bad.returncode != 0 and "is not" in (bad.stdout + bad.stderr)


def test_judge_template_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = install(tmp_path, "template")
    monkeypatch.syspath_prepend(str(tmp_path / "plugins"))
    from fourfold.cases.schema import Case
    from fourfold.judge.llm import available_templates, judge_response, load_template
    from fourfold.judge.template_kinds import TEMPLATES
    from fourfold.models import GenerationSettings, create_backend

    exec(recipe("template")["register"], {})  # the recipe's line, as the plugin module runs it
    try:
        assert "strict@v1" in available_templates()
        template = load_template("strict")
        assert template.id == "strict@v1" and template.text.startswith("You grade one answer strictly")
        bodies: list[dict[str, Any]] = []

        async def handler(request: web.Request) -> web.Response:
            body = await request.json()
            bodies.append(body)
            reply = json.dumps({"verdict": "good", "rationale": "names the capital"})
            return web.json_response({"model": body["model"], "choices": [
                {"message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}]})

        async def go() -> Any:
            runner, url = await start_chat_server(handler)
            backend = create_backend(f"openai/judge@{url}")
            try:
                case = Case.model_validate({"id": "q", "cell": "text/generalizability", "category": "domain_knowledge",
                                            "input": "Capital of France?",
                                            "reference": {"kind": "rubric", "criteria": "names Paris"}})
                return await judge_response(backend, case, "Paris", template=template, settings=GenerationSettings())
            finally:
                await backend.aclose()
                await runner.cleanup()  # type: ignore[attr-defined]

        out = asyncio.run(go())
    finally:
        TEMPLATES.unregister("strict")
        sys.modules.pop("strict_template", None)
    assert (out.verdict, out.rationale, out.template_id) == ("good", "names the capital", "strict@v1")
    prompt = bodies[0]["messages"][-1]["content"]
    assert prompt.startswith("You grade one answer strictly") and "<response>\nParis\n</response>" in prompt
    assert bodies[0]["response_format"]["json_schema"]["schema"]["properties"]["verdict"]["enum"]
    assert env["FOURFOLD_PLUGINS"] == "my_plugins"
