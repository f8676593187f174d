"""The video part of the built-in ``landscape`` suite: generated cases at fixed
(seed, index) plus the hand-drawn trustworthiness clips.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ...media.encode import encode_video
from .. import _rng
from .clip import CAUSAL, FPS, GEN, LANDSCAPE_SEED, TRUST, video_input
from .handmade import _HANDMADE_CASES, _HANDMADE_CLIPS, _pil_frames

LANDSCAPE_SOURCE = "fourfold landscape suite (generated video)"
#: (id prefix, generator, index) in suite order; all with LANDSCAPE_SEED, so each
#: case is also ``fourfold cases generate --seed 2024`` output number ``index``.
_LANDSCAPE_GENERATED: list[tuple[str, str, int]] = [
    ("video-gen", "video_moving_direction", 0), ("video-gen", "video_moving_direction", 1),
    ("video-gen", "video_appearance_order", 0), ("video-gen", "video_appearance_order", 1),
    ("video-gen", "video_shell_game", 0), ("video-gen", "video_shell_game", 1),
    ("video-gen", "video_counting_objects", 0), ("video-gen", "video_counting_objects", 1),
    ("video-gen", "video_state_change", 0), ("video-gen", "video_state_change", 5),
    ("video-gen", "video_late_event", 0), ("video-gen", "video_late_event", 2),
    ("video-gen", "video_existence", 0), ("video-gen", "video_existence", 1),
    ("video-gen", "video_moving_attribute", 0),
    ("video-gen", "video_antonym", 0), ("video-gen", "video_antonym", 4),
    ("video-gen", "video_trajectory_prediction", 0),
    ("video-gen", "video_collision_interaction", 0),
    ("video-gen", "video_unexpected_action", 0), ("video-gen", "video_unexpected_action", 3),
    ("video-gen", "video_unexpected_action", 4), ("video-gen", "video_unexpected_action", 6),
    ("video-gen", "video_egocentric_navigation", 0), ("video-gen", "video_egocentric_navigation", 1),
    ("video-gen", "video_egocentric_navigation", 3),
    ("video-gen", "video_counterfactual_inference", 0), ("video-gen", "video_counterfactual_inference", 7),
    ("video-gen", "video_counterfactual_inference", 13), ("video-gen", "video_counterfactual_inference", 15),
    ("video-trust", "video_blank_clip", 0),
    ("video-trust", "video_misleading_question", 4), ("video-trust", "video_misleading_question", 1),
    ("video-trust", "video_direction_rain", 0), ("video-trust", "video_direction_fog", 0),
    ("video-trust", "video_blank_direction", 0),
    ("video-causal", "video_collision_next_event", 0), ("video-causal", "video_collision_next_event", 1),
    ("video-causal", "video_collision_explanation", 4), ("video-causal", "video_collision_explanation", 0),
    ("video-causal", "video_collision_counterfactual", 0), ("video-causal", "video_collision_counterfactual", 2),
    ("video-causal", "video_collision_counterfactual", 1),
]
_CELLS_BY_PREFIX = {"video-gen": GEN, "video-trust": TRUST, "video-causal": CAUSAL}


def build_landscape_video(suite_dir: Path) -> Path:
    """(Re)write ``suite_dir/video.jsonl`` and ``suite_dir/media/video/*.mp4``:
    the video part of the built-in landscape suite. Deterministic, so the
    committed files can be checked by rebuilding; stale clips are removed."""
    from .. import _BY_NAME

    media = suite_dir / "media" / "video"
    media.mkdir(parents=True, exist_ok=True)
    counters = dict.fromkeys(_CELLS_BY_PREFIX, 0)
    records: list[tuple[str, dict[str, Any]]] = []
    written: set[str] = set()

    def next_id(prefix: str) -> str:
        counters[prefix] += 1
        return f"{prefix}-{counters[prefix]:03d}"

    with tempfile.TemporaryDirectory() as tmp:
        for prefix, name, index in _LANDSCAPE_GENERATED:
            slug = next_id(prefix)
            gc = _BY_NAME[name].fn(_rng(LANDSCAPE_SEED, name, index), index, Path(tmp))
            src = Path(tmp) / f"{name}-{index:05d}.mp4"
            shutil.copyfile(src, media / f"{slug}.mp4")
            written.add(f"{slug}.mp4")
            for msg in gc.input:  # type: ignore[union-attr]
                for part in msg["content"]:
                    if part["type"] == "video":
                        part["path"] = f"media/video/{slug}.mp4"
            meta = {"source": LANDSCAPE_SOURCE, "license": "Apache-2.0",
                    "tags": ["video", gc.category, name, *gc.tags], "generator": name, "seed": LANDSCAPE_SEED,
                    "index": index, "ground_truth": gc.truth}
            records.append((prefix, {"cell": _CELLS_BY_PREFIX[prefix], "category": gc.category, "input": gc.input,
                                     "reference": gc.reference, "metadata": meta}))
    clips: dict[str, str] = {}
    for clip, (draw, n, bg) in _HANDMADE_CLIPS.items():
        encode_video(_pil_frames(n, draw, bg), media / f"{clip}.mp4", fps=FPS)
        written.add(f"{clip}.mp4")
        clips[clip] = f"media/video/{clip}.mp4"
    for category, clip, prompt, ref, tags in _HANDMADE_CASES:
        next_id("video-trust")
        meta = {"source": LANDSCAPE_SOURCE, "license": "Apache-2.0", "tags": ["video", category, *tags],
                "clip": clip}
        records.append(("video-trust", {"cell": TRUST, "category": category,
                                        "input": video_input(clips[clip], prompt), "reference": ref,
                                        "metadata": meta}))
    for stale in media.glob("*.mp4"):
        if stale.name not in written:
            stale.unlink()
    lines = []
    numbers = dict.fromkeys(_CELLS_BY_PREFIX, 0)
    for prefix in _CELLS_BY_PREFIX:
        for p, rec in records:
            if p == prefix:
                numbers[prefix] += 1
                case = {"id": f"landscape/{prefix}/{numbers[prefix]:03d}", **rec}
                lines.append(json.dumps(case, sort_keys=True, ensure_ascii=False))
    out = suite_dir / "video.jsonl"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
