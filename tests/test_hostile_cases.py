"""Case files written by an attacker: every one is a clean error naming
file:line:field with exit code 2, never a traceback, never a read outside the
case's folder (issue 7, section 2). Media are real files made here."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from conftest import fourfold
from fourfold.cases.boundary import MAX_IMAGE_PIXELS, MAX_VIDEO_SECONDS, MediaPathError, checked_media, resolve_media
from fourfold.cases.media.encode import encode_video


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_header_only(w: int, h: int) -> bytes:
    """A PNG that claims w x h pixels but holds a few bytes: how a decompression bomb starts."""
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _png_chunk(b"IEND", b""))


def _image_case(cid: str, path: str, kind: str = "image") -> dict[str, Any]:
    cell = "video/generalizability" if kind == "video" else "image/generalizability"
    return {"id": cid, "cell": cell, "category": "other" if kind == "video" else "recognition",
            "input": [{"role": "user", "content": [{"type": kind, "path": path}, {"type": "text", "text": "What?"}]}],
            "reference": {"kind": "exact", "answer": "x"}}


def _text_case(cid: str, **reference: Any) -> dict[str, Any]:
    return {"id": cid, "cell": "text/generalizability", "category": "other", "input": "q",
            "reference": reference or {"kind": "exact", "answer": "x"}}


def _validate(path: Path) -> tuple[int, dict[int, str]]:
    """Exit code and the error text per line of ``path``."""
    r = fourfold("cases", "validate", str(path), check=False)
    assert "Traceback" not in r.stderr, r.stderr
    by_line: dict[int, str] = {}
    for line in r.stderr.splitlines():
        prefix = f"{path}:"
        line = line.removeprefix("fourfold: error: ")
        if line.startswith(prefix):
            n, _, rest = line[len(prefix):].partition(": ")
            by_line[int(n)] = by_line.get(int(n), "") + rest + "\n"
    return r.returncode, by_line


@pytest.fixture()
def suite(tmp_path: Path) -> Path:
    """``suite/`` with good and bad media, and ``outside/secret.png`` next to it."""
    (tmp_path / "outside").mkdir()
    Image.new("RGB", (30, 20), (200, 0, 0)).save(tmp_path / "outside" / "secret.png")
    media = tmp_path / "suite" / "media"
    media.mkdir(parents=True)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(media / "ok.png")
    Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(media / "ok.jpg")
    png, jpg = (media / "ok.png").read_bytes(), (media / "ok.jpg").read_bytes()
    (media / "truncated.png").write_bytes(png[: len(png) // 2])
    (media / "truncated.jpg").write_bytes(jpg[: len(jpg) // 2])
    (media / "empty.png").write_bytes(b"")
    (media / "png.mp4").write_bytes(png)
    (media / "text.mp4").write_text("not a video\n" * 50)
    (media / "bomb.png").write_bytes(_png_header_only(30000, 30000))
    (media / "big.png").write_bytes(_png_header_only(8000, 8000))  # 64 MP: under Pillow's own limit, over ours
    (media / "short-data.png").write_bytes(_png_header_only(600, 400))  # intact chunks, too little pixel data
    encode_video((np.full((16, 16, 3), 10 * (i % 20), np.uint8) for i in range(8)), media / "ok.mp4", fps=4)
    encode_video((np.full((16, 16, 3), i % 200, np.uint8) for i in range(int(MAX_VIDEO_SECONDS) + 4)),
                 media / "long.mp4", fps=1)
    (media / "link-out.png").symlink_to(tmp_path / "outside" / "secret.png")
    (media / "loop-a.png").symlink_to(media / "loop-b.png")
    (media / "loop-b.png").symlink_to(media / "loop-a.png")
    return tmp_path / "suite"


MEDIA_CASES: list[tuple[str, str, str | None]] = [
    # (path, kind, what the error must say; None: valid)
    ("media/ok.png", "image", None),
    ("media/ok.jpg", "image", None),
    ("media/ok.mp4", "video", None),
    ("../outside/secret.png", "image", "outside the case file's folder"),
    ("{abs}", "image", "outside the case file's folder"),
    ("/etc/passwd", "image", "outside the case file's folder"),
    ("media/link-out.png", "image", "outside the case file's folder"),
    ("pkg:skimage/../../../../../../../../etc/passwd", "image", "outside package 'skimage'"),
    ("pkg:skimage/data/../../x.png", "image", "outside package 'skimage'"),
    ("pkg:os.path/x.png", "image", "top-level package name"),
    ("pkg:no_such_package_here/x.png", "image", "is not installed"),
    ("media/loop-a.png", "image", "a symlink loop"),
    ("media/missing.png", "image", "media file not found"),
    ("media", "image", "not a regular file"),
    ("media/truncated.png", "image", "not a readable image"),
    ("media/truncated.jpg", "image", "not a readable image"),
    ("media/short-data.png", "image", "not a readable image"),
    ("media/empty.png", "image", "the file is empty (0 bytes)"),
    ("media/png.mp4", "video", "an image (png_pipe), not a video"),
    ("media/text.mp4", "video", "not a readable video"),
    ("media/ok.png", "video", "an image (png_pipe), not a video"),
    ("media/ok.mp4", "image", "not a readable image"),
    ("media/bomb.png", "image", f"over the cap of {MAX_IMAGE_PIXELS:,} pixels"),
    ("media/big.png", "image", f"8000x8000 pixels is over the cap of {MAX_IMAGE_PIXELS:,} pixels"),
    ("media/long.mp4", "video", f"over the cap of {MAX_VIDEO_SECONDS:.0f} s per video"),
]


@pytest.mark.parametrize("half", [0, 1])  # the CLI shows 20 errors at most: two files
def test_media_outside_or_corrupt_are_clean_errors(suite: Path, tmp_path: Path, half: int) -> None:
    chosen = MEDIA_CASES[half::2]
    cases = suite / "cases.jsonl"
    lines = [_image_case(f"m{i}", p.format(abs=tmp_path / "outside" / "secret.png"), kind)
             for i, (p, kind, _) in enumerate(chosen)]
    cases.write_text("".join(json.dumps(c) + "\n" for c in lines))
    code, errors = _validate(cases)
    assert code == 2
    for lineno, (path, kind, expected) in enumerate(chosen, 1):
        if expected is None:
            assert lineno not in errors, (path, errors.get(lineno))
        else:
            assert errors.get(lineno, "").startswith("input[0].content[0].path: "), (path, errors.get(lineno))
            assert expected in errors[lineno], (path, kind, errors[lineno])
    assert set(errors) == {n for n, (_, _, e) in enumerate(chosen, 1) if e is not None}


def test_the_valid_media_alone_validate(suite: Path) -> None:
    cases = suite / "good.jsonl"
    cases.write_text("".join(json.dumps(_image_case(f"g{i}", p, kind)) + "\n"
                             for i, (p, kind, e) in enumerate(MEDIA_CASES) if e is None))
    assert fourfold("cases", "validate", str(cases)).stdout.startswith("ok: 3 cases")


def test_run_refuses_media_outside_before_asking_a_model(suite: Path, tmp_path: Path) -> None:
    cases = suite / "run.jsonl"
    cases.write_text(json.dumps(_image_case("leak", "../outside/secret.png")) + "\n")
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps({"id": "leak", "response": "x"}) + "\n")
    r = fourfold("run", "--model", f"replay/{answers}", "--cases", str(cases), "--out", str(tmp_path / "res"),
                 "--no-progress", check=False)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"{cases}:1: input[0].content[0].path: ../outside/secret.png resolves to" in r.stderr
    assert not (tmp_path / "res" / "report.html").exists()


def _stored_case(base: str, kind: str, path: str) -> Any:
    """A stored case with one media part at ``path`` (as the store hands it to the app)."""
    from fourfold.store import StoredCase

    data = {"id": "x", "cell": f"{kind}/generalizability", "category": "other", "reference": {"kind": "refuse"},
            "input": [{"role": "user", "content": [{"type": kind, "path": path}]}]}
    return StoredCase("h", "x", data["cell"], "other", None, base, json.dumps(data))


def test_report_and_app_never_read_outside(suite: Path, tmp_path: Path) -> None:
    """The report and the annotation app take media paths from the store, not from
    a validated file: the shared resolver still keeps them in the case's folder."""
    from fourfold.report.media import MediaEmbedder
    from fourfold.web.media import media_file as _media_file

    base = str(suite)
    media = MediaEmbedder()
    assert media.src(base, "media/ok.png", ) is not None  # a control: the good image is embedded
    for bad in ("../outside/secret.png", str(tmp_path / "outside" / "secret.png"), "media/link-out.png",
                "pkg:skimage/../../../../../../../../etc/passwd", "media/bomb.png", "media/truncated.png"):
        assert media.src(base, bad) is None, bad
        assert _media_file(_stored_case(base, "image", bad), 0) is None, bad
    assert _media_file(_stored_case(base, "video", "media/ok.mp4"), 0) == (suite / "media" / "ok.mp4").resolve()
    assert media.video_grid(base, "../outside/secret.png", None) is None


def test_resolver_allows_package_data_and_subfolders(suite: Path) -> None:
    import skimage

    astronaut = resolve_media(suite, "pkg:skimage/data/astronaut.png")
    assert astronaut == (Path(skimage.__file__).parent / "data" / "astronaut.png").resolve()
    assert checked_media(suite, "pkg:skimage/data/astronaut.png", "image") == astronaut
    assert resolve_media(suite, "media/../media/ok.png") == (suite / "media" / "ok.png").resolve()
    with pytest.raises(MediaPathError, match="outside"):
        resolve_media(suite / "media", "../cases.jsonl")
    with pytest.raises(MediaPathError, match="invalid media path"):
        resolve_media(suite, "media/ok.png\x00.txt")


JSON_CASES: list[tuple[str, str, str]] = [
    # (raw line, field, what the error must say)
    ('{"id":"big","cell":"text/generalizability","category":"other","input":"q",'
     '"reference":{"kind":"numeric","answer":' + "9" * 5000 + "}}", "", "a number of more than 4300 digits"),
    ("[" * 100_000 + "]" * 100_000, "", "nested too deeply"),
    ('{"id":"deep","cell":"text/generalizability","category":"other","input":"q",'
     '"reference":{"kind":"exact","answer":"x"},"metadata":{"x":' + "[" * 100_000 + "]" * 100_000 + "}}", "",
     "nested too deeply"),
    ('{"id":"deep40","cell":"text/generalizability","category":"other","input":"q",'
     '"reference":{"kind":"exact","answer":"x"},"metadata":{"x":' + "[" * 40 + "]" * 40 + "}}", "metadata.x[0]",
     "nested too deeply (at most 32 levels)"),
    ('{"id":"nan","cell":"text/generalizability","category":"other","input":"q",'
     '"reference":{"kind":"numeric","answer":NaN}}', "", "NaN is not a number a case may hold"),
    ('{"id":"inf","cell":"text/generalizability","category":"other","input":"q",'
     '"reference":{"kind":"numeric","answer":1e999}}', "", "too large for a number"),
    ('{"id":"tol","cell":"text/generalizability","category":"other","input":"q",'
     '"reference":{"kind":"numeric","answer":1,"tolerance":-Infinity}}', "", "-Infinity is not a number"),
    (json.dumps(_text_case("ep", kind="unit_tests", tests="assert f(1) == 1", entry_point="f; import os")),
     "reference.entry_point", "must be a Python identifier"),
    (json.dumps(_text_case("kw", kind="unit_tests", tests="pass", entry_point="lambda")),
     "reference.entry_point", "must be a Python identifier"),
    (json.dumps(_text_case("syntax", kind="unit_tests", tests="assert f(1) == 1 ))", entry_point="f")),
     "reference.tests", "does not compile: unmatched ')' (line 1)"),
    (json.dumps(_text_case("nul", kind="unit_tests", tests="assert True\x00", entry_point="f")),
     "reference.tests", "does not compile"),
    (json.dumps(_text_case("deep-code", kind="unit_tests", tests="x = " + "-" * 200_000 + "1", entry_point="f")),
     "reference.tests", "does not compile"),
    (json.dumps(_text_case("parens", kind="unit_tests", tests="x = " + "(" * 10_000 + ")" * 10_000, entry_point="f")),
     "reference.tests", "does not compile"),
    (json.dumps(_text_case("solution", kind="unit_tests", tests="assert f(1) == 1", entry_point="f",
                           solution="def f(x) return x")),
     "reference.solution", "does not compile"),
]


def test_hostile_json_and_references_are_clean_errors(tmp_path: Path) -> None:
    path = tmp_path / "hostile.jsonl"
    good = json.dumps(_text_case("fine", kind="unit_tests", tests="assert f(1) == 1", entry_point="f"))
    path.write_text("".join(raw + "\n" for raw, _, _ in JSON_CASES) + good + "\n")
    code, errors = _validate(path)
    assert code == 2
    for lineno, (_, field, expected) in enumerate(JSON_CASES, 1):
        got = errors.get(lineno, "")
        assert expected in got, (lineno, got)
        assert got.startswith(field) if field else not got.startswith(("reference", "metadata")), (lineno, got)
    assert len(JSON_CASES) + 1 not in errors  # the good case is not blamed


def test_symlink_loop_as_a_case_file(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").symlink_to(tmp_path / "b.jsonl")
    (tmp_path / "b.jsonl").symlink_to(tmp_path / "a.jsonl")
    r = fourfold("cases", "validate", str(tmp_path / "a.jsonl"), check=False)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "a symlink loop" in r.stderr
    r = fourfold("cases", "validate", str(tmp_path), check=False)  # found by the folder walk
    assert r.returncode == 2 and "Traceback" not in r.stderr and "Too many levels of symbolic links" in r.stderr
