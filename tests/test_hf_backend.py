"""hf/: transformers in process, on tiny random-weight models built here (no download).

The answers are noise; what is checked is that every path is real and honest:
text, image, multi-image, video as a grid and as frames (LLaVA), native video
(Qwen2-VL), Idefics3's interleaved images, a PEFT adapter, identity pinning the
exact files, greedy determinism, batching that answers as if unbatched, and that
nothing but an hf/ run ever imports torch.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from conftest import fourfold, missing_part, run_python

TESTS = Path(__file__).resolve().parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here may download: every model is built in a tmp folder


def require_hf() -> None:
    """The hf extra is a required part of the test set: missing, the tests fail (see conftest.missing_part)."""
    if not all(importlib.util.find_spec(m) for m in ("torch", "transformers", "peft", "tokenizers")):
        missing_part("the hf extra (torch, transformers, peft) is not installed", "pip install -e '.[hf]' (make setup)")


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The tiny models, built once per session: llama, llava, qwen2vl, idefics3, and a LoRA over llama."""
    require_hf()
    import hf_tiny

    root = tmp_path_factory.mktemp("hf-models")
    out = {name: build(root / name) for name, build in [
        ("llama", hf_tiny.build_llama), ("llava", hf_tiny.build_llava), ("qwen2vl", hf_tiny.build_qwen2_vl),
        ("idefics3", hf_tiny.build_idefics3)]}
    out["lora"] = hf_tiny.build_lora(out["llama"], root / "lora")
    return out


@pytest.fixture(scope="session")
def media_cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two two-image cases and two video cases, from fourfold's own generators."""
    from fourfold.cli import main

    root = tmp_path_factory.mktemp("hf-cases")
    for cell, gen in [("image/generalizability", "img_spot_difference"),
                      ("video/generalizability", "video_moving_direction")]:
        assert main(["cases", "generate", "--cell", cell, "--generator", gen, "--n", "2", "--out",
                     str(root / gen)]) == 0
    return root


def hf_env(tmp: Path) -> dict[str, str]:
    """A fourfold subprocess that finds the torchvision shim (see hf_torchvision_shim) and never downloads."""
    path = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))
    return {"PYTHONPATH": path, "FOURFOLD_PLUGINS": "hf_torchvision_shim", "HF_HUB_OFFLINE": "1",
            "XDG_CACHE_HOME": str(tmp / "cache")}


def run_models(tmp: Path, cases: Path, store: Path, *specs: str) -> dict[tuple[str, str], sqlite3.Row]:
    """``fourfold run`` over 2 text, 2 two-image and 2 video cases; the stored rows by (model, case)."""
    models = [a for s in specs for a in ("--model", s)]
    fourfold("run", *models, "--cases", str(cases), "--cases", "starter", "--cells", "text/generalizability,image,video",
             "--limit", "2", "--frames", "4", "--max-tokens", "6", "--store", str(store), "--no-report",
             "--no-progress", env=hf_env(tmp))
    with sqlite3.connect(store) as db:
        db.row_factory = sqlite3.Row
        return {(r["model"], r["case_id"]): r for r in db.execute("SELECT * FROM results")}


@pytest.fixture(scope="session")
def first_run(tiny: dict[str, Path], media_cases: Path, tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[list[str], dict[tuple[str, str], sqlite3.Row]]:
    tmp = tmp_path_factory.mktemp("hf-run")
    specs = [f"hf/{tiny['llava']}", f"hf/{tiny['llava']}#video=frames", f"hf/{tiny['qwen2vl']}",
             f"hf/{tiny['idefics3']}", f"hf/{tiny['llama']}"]
    return specs, run_models(tmp, media_cases, tmp / "a.db", *specs)


def test_every_family_answers_text_images_and_video_end_to_end(first_run: Any) -> None:
    specs, rows = first_run
    llava, llava_frames, qwen, idefics, llama = specs
    for spec in (llava, llava_frames, qwen, idefics):
        mine = [r for (m, _), r in rows.items() if m == spec]
        assert {r["cell"] for r in mine} == {"text/generalizability", "image/generalizability",
                                            "video/generalizability"}
        assert len(mine) == 6 and all(r["status"] == "ok" for r in mine), [dict(r) for r in mine]
        assert all(r["prompt_tokens"] > 0 and 0 < r["completion_tokens"] <= 6 for r in mine)
    text_only = [r for (m, _), r in rows.items() if m == llama]
    assert sorted(r["status"] for r in text_only) == ["not_evaluated"] * 4 + ["ok"] * 2


def test_video_goes_in_as_its_family_wants(first_run: Any) -> None:
    specs, rows = first_run
    llava, llava_frames, qwen, idefics, _ = specs
    ident = {s: json.loads(next(r["model_identity"] for (m, _), r in rows.items() if m == s)) for s in specs[:4]}
    assert [ident[s]["video"] for s in (llava, llava_frames, qwen, idefics)] == ["grid", "frames", "native", "frames"]



def test_llava_gets_one_grid_or_frames_as_asked(tiny: dict[str, Path], media_cases: Path) -> None:
    from fourfold.cases import load_cases
    from fourfold.models import create_backend

    case = load_cases([str(media_cases / "video_moving_direction")])[0]

    async def images(spec: str) -> int:
        backend = create_backend(spec)
        await backend.identity()
        msgs = await backend.prepare(case, _settings(video_frames=4))
        return sum(p.type == "image" for m in msgs for p in m.parts)

    assert asyncio.run(images(f"hf/{tiny['llava']}")) == 1
    assert asyncio.run(images(f"hf/{tiny['llava']}#video=frames")) == 4


def test_identity_pins_the_files(first_run: Any, tiny: dict[str, Path]) -> None:
    from fourfold.models.llamacpp import file_sha256

    specs, rows = first_run
    ident = json.loads(next(r["model_identity"] for (m, _), r in rows.items() if m == specs[-1]))
    assert ident["backend"] == "hf" and ident["model"] == "llama"
    assert "model.safetensors" in ident["files"] and "config.json" in ident["files"]
    assert "revision" not in ident and len(ident["sha256"]) == 64
    from fourfold.models.hf.weights import folder_digest

    assert folder_digest(tiny["llama"]) == (ident["sha256"], ident["files"])
    assert file_sha256(tiny["llama"] / "model.safetensors") != file_sha256(tiny["llava"] / "model.safetensors")


def test_same_answers_twice(first_run: Any, tiny: dict[str, Path], media_cases: Path, tmp_path: Path) -> None:
    specs, rows = first_run
    again = run_models(tmp_path, media_cases, tmp_path / "b.db", specs[2], specs[1])
    assert again, "the second run stored nothing"
    for key, row in again.items():
        assert row["response"] == rows[key]["response"], key
        assert row["key"] == rows[key]["key"]


def test_adapter_changes_identity_and_answers(tiny: dict[str, Path], tmp_path: Path) -> None:
    base, adapted = f"hf/{tiny['llama']}", f"hf/{tiny['llama']}#adapter={tiny['lora']}"
    fourfold("run", "--model", base, "--model", adapted, "--cases", "starter", "--cells", "text/generalizability",
             "--limit", "3", "--max-tokens", "8", "--store", str(tmp_path / "c.db"), "--no-report", "--no-progress",
             env=hf_env(tmp_path))
    with sqlite3.connect(tmp_path / "c.db") as db:
        rows = db.execute("SELECT model, case_id, model_identity, response, key FROM results").fetchall()
    by = {(m, c): (json.loads(i), r, k) for m, c, i, r, k in rows}
    cases = {c for _, c in by}
    assert len(cases) == 3
    for c in cases:
        (bi, _, bk), (ai, _, ak) = by[(base, c)], by[(adapted, c)]
        assert "adapter_sha256" not in bi and len(ai["adapter_sha256"]) == 64
        assert ai["sha256"] == bi["sha256"] and ak != bk
    assert [by[(base, c)][1] for c in sorted(cases)] != [by[(adapted, c)][1] for c in sorted(cases)]


def test_adapter_changes_the_logits(tiny: dict[str, Path]) -> None:
    """The adapter is applied, not only hashed: the next-token logits move."""
    import torch

    from fourfold.models import ChatMessage, ChatPart, create_backend
    from fourfold.models.hf import engine
    from fourfold.models.hf.inputs import model_inputs

    logits = []
    for spec in (f"hf/{tiny['llama']}", f"hf/{tiny['llama']}#adapter={tiny['lora']}"):
        b = create_backend(spec)
        p = b._prepare_sync()
        model = b._load()
        req = engine.Request([ChatMessage("user", (ChatPart("text", text="What colour is it?"),))],
                             _settings())
        with torch.inference_mode():
            logits.append(model(**model_inputs(p, [req])).logits[0, -1])
    assert not torch.allclose(logits[0], logits[1])


def _settings(**kw: Any) -> Any:
    from fourfold.models import GenerationSettings

    return GenerationSettings(max_tokens=kw.pop("max_tokens", 6), **kw)


def _ask(text: str) -> list[Any]:
    from fourfold.models import ChatMessage, ChatPart

    return [ChatMessage("user", (ChatPart("text", text=text),))]


def test_batched_answers_equal_unbatched(tiny: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Concurrent greedy calls share one left-padded generate, and answer as each would alone."""
    from fourfold.models import create_backend
    from fourfold.models.hf import engine

    sizes: list[int] = []
    real = engine.generate

    def counting(p: Any, model: Any, batch: list[Any]) -> Any:
        sizes.append(len(batch))
        return real(p, model, batch)

    monkeypatch.setattr(engine, "generate", counting)
    backend = create_backend(f"hf/{tiny['llama']}")
    questions = ["Answer with one word.", "What colour is the rectangle in the picture? Describe it.", "yes or no?"]

    async def go() -> tuple[list[str], list[str]]:
        alone = [(await backend.generate(_ask(q), _settings())).text for q in questions]
        together = await asyncio.gather(*(backend.generate(_ask(q), _settings()) for q in questions))
        await backend.aclose()
        return alone, [g.text for g in together]

    alone, together = asyncio.run(go())
    assert sizes == [1, 1, 1, 3]
    assert together == alone


def test_sampling_is_never_batched_and_follows_the_seed(tiny: dict[str, Path]) -> None:
    from fourfold.models import create_backend

    backend = create_backend(f"hf/{tiny['llama']}")
    hot = _settings(temperature=1.5, max_tokens=12)

    async def go() -> list[str]:
        out = await asyncio.gather(*(backend.generate(_ask("Describe the image."), hot) for _ in range(3)))
        other = await backend.generate(_ask("Describe the image."), _settings(temperature=1.5, max_tokens=12,
                                                                              seed=99))
        return [g.text for g in out] + [other.text]

    texts = asyncio.run(go())
    assert texts[0] == texts[1] == texts[2]  # each alone, under the same seed
    assert texts[3] != texts[0]


def test_a_cancelled_request_stops_at_the_next_token(tiny: dict[str, Path]) -> None:
    from fourfold.models import create_backend
    from fourfold.models.hf import engine

    backend = create_backend(f"hf/{tiny['llama']}")
    p = backend._prepare_sync()
    model = backend._load()
    stop, go = (engine.Request(_ask("Describe the image."), _settings(max_tokens=50)) for _ in range(2))
    stop.cancel.set()
    out = engine.generate(p, model, [stop, go])
    assert out[0].finish_reason == "cancelled" and out[0].completion_tokens <= 1
    assert out[1].finish_reason in ("stop", "length") and out[1].completion_tokens > 1


def test_qwen2_vl_gets_the_clip_itself(tiny: dict[str, Path], media_cases: Path) -> None:
    """The native path: decoded frames and their metadata reach Qwen2-VL's video processor."""
    from fourfold.models import ChatMessage, ChatPart, create_backend
    from fourfold.models.hf import engine
    from fourfold.models.hf.inputs import model_inputs

    clip = next((media_cases / "video_moving_direction" / "media").glob("*.mp4"))
    backend = create_backend(f"hf/{tiny['qwen2vl']}")
    p = backend._prepare_sync()
    assert backend.capabilities.video and p.video == "native"
    msgs = [ChatMessage("user", (ChatPart("video", path=clip), ChatPart("text", text="Which way?")))]
    inputs = model_inputs(p, [engine.Request(msgs, _settings(video_frames=4))])
    assert "pixel_values_videos" in inputs and inputs["video_grid_thw"].tolist()[0][0] == 2  # 4 frames, 2 per patch
    assert "pixel_values" not in inputs


def test_bad_specs_are_one_line_errors(tiny: dict[str, Path], tmp_path: Path) -> None:
    from fourfold.models import ModelSpecError, PermanentError, create_backend

    cases = [(f"hf/{tiny['llama']}#adaptor=x", ModelSpecError, "did you mean #adapter"),
             (f"hf/{tiny['llama']}#dtype=float8", ModelSpecError, "#dtype must be one of"),
             (f"hf/{tiny['llama']}#video=movie", ModelSpecError, "#video must be one of"),
             (f"hf/{tiny['llama']}#batch=0", ModelSpecError, "#batch must be"),
             (f"hf/{tmp_path}/nothing-here", PermanentError, "model folder not found"),
             (f"hf/{tiny['llama']}#adapter={tmp_path}", PermanentError, "no adapter_config.json"),
             ("hf/", ModelSpecError, "has no model")]
    for spec, kind, words in cases:
        with pytest.raises(kind, match=words):
            create_backend(spec)


def test_hub_id_not_in_the_cache_offline_says_how_to_get_it(tmp_path: Path) -> None:
    require_hf()
    out = run_python(
        "import asyncio, os; os.environ['HF_HUB_OFFLINE'] = '1'; os.environ['HF_HUB_CACHE'] = " + repr(str(tmp_path))
        + "\nfrom fourfold.models import create_backend\n"
        "try:\n    asyncio.run(create_backend('hf/llava-hf/llava-1.5-7b-hf').identity())\n"
        "except Exception as e:\n    print(type(e).__name__, e)\n")
    assert "BackendUnusable llava-hf/llava-1.5-7b-hf is not in the Hugging Face cache" in out.stdout, out.stderr
    assert "hf download llava-hf/llava-1.5-7b-hf" in out.stdout


def test_hub_id_is_pinned_to_the_cached_commit(tiny: dict[str, Path], tmp_path: Path) -> None:
    """A hub id resolves through the cache's refs to a commit, and that commit's files are what loads."""
    import shutil

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--tiny--llama"
    shutil.copytree(tiny["llama"], repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    env = {**hf_env(tmp_path), "HF_HUB_CACHE": str(tmp_path / "hub")}
    fourfold("run", "--model", "hf/tiny/llama", "--cases", "starter", "--cells", "text/generalizability",
             "--limit", "1", "--max-tokens", "4", "--store", str(tmp_path / "h.db"), "--no-report", "--no-progress",
             env=env)
    with sqlite3.connect(tmp_path / "h.db") as db:
        (ident, status), = db.execute("SELECT model_identity, status FROM results").fetchall()
    assert status == "ok" and json.loads(ident)["revision"] == commit


def test_out_of_memory_at_load_is_one_line_exit_1_nothing_recorded(tiny: dict[str, Path], tmp_path: Path) -> None:
    """A model too big for memory: the real loader raising torch's OutOfMemoryError
    (forced here, from a plugin module, since no model here is that big)."""
    (tmp_path / "oom_plugin.py").write_text(
        "import hf_torchvision_shim, torch, transformers\n"
        "def boom(*a, **k):\n    raise torch.OutOfMemoryError('CUDA out of memory. Tried to allocate 20.00 GiB')\n"
        "transformers.AutoModelForCausalLM.from_pretrained = boom\n")
    env = {**hf_env(tmp_path), "FOURFOLD_PLUGINS": "oom_plugin",
           "PYTHONPATH": f"{tmp_path}{os.pathsep}{hf_env(tmp_path)['PYTHONPATH']}"}
    proc = fourfold("run", "--model", f"hf/{tiny['llama']}", "--cases", "starter", "--cells", "text/generalizability",
                    "--limit", "2", "--store", str(tmp_path / "o.db"), "--no-report", "--no-progress", env=env,
                    check=False)
    assert proc.returncode == 1, proc.stderr
    line = next(x for x in proc.stderr.splitlines() if "does not fit in memory" in x)
    assert "#dtype=bfloat16" in line and "#device_map=auto" in line and "quantised" in line
    with sqlite3.connect(tmp_path / "o.db") as db:
        assert db.execute("SELECT count(*) FROM results").fetchone() == (0,)


def test_without_the_extra_hf_is_one_line_exit_1(tmp_path: Path) -> None:
    """torch and transformers hidden (None in sys.modules: find_spec says "not installed", import fails),
    which is what a plain install sees."""
    code = ("import sys\n"
            "sys.modules.update(torch=None, transformers=None)\n"
            "from fourfold.cli import main\n"
            f"sys.exit(main(['run', '--model', 'hf/x/y', '--cases', 'starter', '--limit', '1', '--store', "
            f"{str(tmp_path / 'x.db')!r}, '--no-report']))\n")
    out = run_python(code)
    assert out.returncode == 1, out.stderr
    assert "pip install 'fourfold[hf]'" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.db").exists()


def test_no_torch_without_hf(tmp_path: Path) -> None:
    """--help, `fourfold models` and a run of another backend import neither torch nor transformers."""
    help_ = run_python("import sys; from fourfold.cli import main\n"
                       "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
                       "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    assert help_.stdout.strip().endswith("[]"), help_.stderr
    listing = run_python("import sys; from fourfold.cli import main; main(['models'])\n"
                         "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    assert "hf/MODEL_ID_OR_PATH" in listing.stdout and listing.stdout.strip().endswith("[]"), listing.stderr
    run = run_python("import sys; from fourfold.cli import main\n"
                     f"main(['run', '--model', 'openai/m@http://127.0.0.1:9/v1', '--cases', 'starter', '--limit', '1',"
                     f" '--retries', '0', '--store', {str(tmp_path / 'r.db')!r}, '--no-report', '--no-progress'])\n"
                     "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))", timeout=120)
    assert run.stdout.strip().endswith("[]"), run.stderr


def test_bfloat16_weights_get_pixels_in_their_dtype(tiny: dict[str, Path], media_cases: Path) -> None:
    """#dtype=bfloat16 (what a GPU user picks): images and video reach the vision tower in bfloat16."""
    from fourfold.models import ChatMessage, ChatPart, create_backend

    clip = next((media_cases / "video_moving_direction" / "media").glob("*.mp4"))
    image = next((media_cases / "img_spot_difference" / "media").glob("*.png"))
    backend = create_backend(f"hf/{tiny['qwen2vl']}#dtype=bfloat16")
    msgs = [ChatMessage("user", (ChatPart("image", path=image), ChatPart("video", path=clip),
                                 ChatPart("text", text="What happens?")))]
    gen = asyncio.run(backend.generate(msgs, _settings(video_frames=4)))
    assert gen.finish_reason in ("stop", "length") and gen.completion_tokens > 0
    assert backend._load().dtype.is_floating_point and str(backend._load().dtype) == "torch.bfloat16"
