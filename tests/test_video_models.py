"""Video reaches each model the way it can take it: 16 frames for multi-image
models, one 4x4 grid for single-image models, nothing (not evaluated) for text
models; frames decoded once per clip and shared by every model. Protocol level,
against the canned-response fixture server."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from pathlib import Path

import numpy as np
from aiohttp import web
from PIL import Image

from fourfold.cases import load_file
from fourfold.cases.media.encode import encode_video
from fourfold.cases.media.video import FrameCache
from fourfold.models import create_backend
from fourfold.run import RunConfig, Runner
from fourfold.store import Store
from test_openai_protocol import CannedServer, _completion


def _video_case(tmp_path: Path) -> Path:
    frames = []
    for i in range(40):  # 5 s at 8 fps; brightness encodes the frame number
        a = np.full((96, 128, 3), i * 6, np.uint8)
        frames.append(a)
    encode_video(frames, tmp_path / "clip.mp4", fps=8)
    f = tmp_path / "cases.jsonl"
    f.write_text(json.dumps({
        "id": "v1", "cell": "video/generalizability", "category": "state_change",
        "input": [{"role": "user", "content": [{"type": "video", "path": "clip.mp4"},
                                               {"type": "text", "text": "Does it get brighter? Yes or No."}]}],
        "reference": {"kind": "choice", "options": ["Yes", "No"], "answer": "A"}}) + "\n")
    return f


def _images(body: dict) -> list[Image.Image]:
    parts = body["messages"][-1]["content"]
    urls = [p["image_url"]["url"] for p in parts if p["type"] == "image_url"]
    return [Image.open(io.BytesIO(base64.b64decode(u.split(",", 1)[1]))) for u in urls]


def test_video_as_frames_grid_or_not_evaluated(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    cases = load_file(_video_case(tmp_path))
    decodes = []
    import fourfold.cases.media.video as video

    real = video.sample_frames
    monkeypatch.setattr(video, "sample_frames", lambda *a, **k: decodes.append(a) or real(*a, **k))

    async def go() -> tuple[CannedServer, Store]:
        server = CannedServer([web.json_response(_completion("Yes")) for _ in range(4)])  # a response object serves once
        async with server as url:
            store = Store(tmp_path / "r.db")
            backends = [create_backend(f"openai/multi@{url}"), create_backend(f"openai/single@{url}#image"),
                        create_backend(f"openai/textonly@{url}#text")]
            await Runner(store, RunConfig(progress=False)).run(cases, backends)
        return server, store

    server, store = asyncio.run(go())
    by_model = {r["body"]["model"]: r["body"] for r in server.requests}
    assert set(by_model) == {"multi", "single"}, "the text-only model is never called"
    frames = _images(by_model["multi"])
    assert len(frames) == 16
    levels = [int(np.asarray(f.convert("L")).mean()) for f in frames]
    assert levels == sorted(levels) and levels[0] < 20 and levels[-1] > 200, "uniform, in order"
    assert "16 images are frames sampled uniformly" in json.dumps(by_model["multi"])
    grid = _images(by_model["single"])
    assert len(grid) == 1 and grid[0].size == (4 * 224, 4 * 224)
    rows = {r.model.split("@")[0]: r for r in store.latest_results()}
    assert rows["openai/textonly"].status == "not_evaluated"
    assert rows["openai/multi"].verdict == "good" and rows["openai/single"].verdict == "good"
    assert len(decodes) == 1, "the clip is decoded once and shared by every model"
    assert list((tmp_path / "cache" / "fourfold" / "frames").iterdir())

    from fourfold.report import build_report

    html = build_report(store, tmp_path / "out").html.read_text()
    assert "the 16 frames sampled uniformly" in html and "data:image/jpeg;base64," in html
    assert len(decodes) == 1, "the report reuses the frames the models saw"


def test_frame_cache_is_shared_across_runs(tmp_path: Path):
    f = _video_case(tmp_path)
    lc = load_file(f)[0]
    part = lc.case.media()[0]
    cache = FrameCache(tmp_path / "fc")
    a = cache.frames(lc.media_path(part), part.sha256 or "", 16)
    b = FrameCache(tmp_path / "fc").frames(lc.media_path(part), part.sha256 or "", 16)
    assert a == b and len(a) == 16
