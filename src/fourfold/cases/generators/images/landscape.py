"""The landscape suite's generated image part: a fixed plan of generators and counts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from .. import _BY_NAME, _rng

LANDSCAPE_SEED = 2401
LANDSCAPE_FILE = "image_generated.jsonl"
LANDSCAPE_MEDIA = "media/generated"
#: (cell, id prefix, generator, count): the spread the report's image rows call for.
LANDSCAPE_PLAN: tuple[tuple[str, str, str, int], ...] = (
    ("image/generalizability", "image-gen", "img_count_shapes", 4),
    ("image/generalizability", "image-gen", "img_clock", 3),
    ("image/generalizability", "image-gen", "img_bar_chart", 2),
    ("image/generalizability", "image-gen", "img_line_chart", 2),
    ("image/generalizability", "image-gen", "img_receipt", 2),
    ("image/generalizability", "image-gen", "img_score_table", 2),
    ("image/generalizability", "image-gen", "img_handwritten_math", 3),
    ("image/generalizability", "image-gen", "img_spot_difference", 3),
    ("image/generalizability", "image-gen", "img_grid_navigation", 3),
    ("image/generalizability", "image-gen", "img_icl_mapping", 3),
    ("image/trustworthiness", "image-trust", "img_blank", 5),
    ("image/trustworthiness", "image-trust", "img_absent_object", 5),
    ("image/causality", "image-causal", "img_causal_graph", 8),
    ("image/causality", "image-causal", "img_causal_graph_absent", 3),
)


def _relocate(parts_input: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    out = []
    for msg in parts_input:
        content = [dict(p, path=f"{prefix}/{p['path'].removeprefix('media/')}") if p.get("type") == "image" else p
                   for p in msg["content"]]
        out.append({**msg, "content": content})
    return out


def render_versions() -> dict[str, str]:
    """Library versions that decide the rendered bytes (a different FreeType or
    zlib draws or compresses differently; the answers do not change)."""
    import matplotlib
    import PIL
    from PIL import features

    return {"pillow": PIL.__version__, "freetype2": str(features.version("freetype2")),
            "zlib": str(features.version("zlib")), "matplotlib": matplotlib.__version__}


def build_landscape_images(suite_dir: Path) -> Path:
    """(Re)write ``suite_dir/image_generated.jsonl`` and its pictures under
    ``suite_dir/media/generated`` from :data:`LANDSCAPE_PLAN` and a fixed seed.

    Each case comes from the same (seed, generator, index) random stream that
    ``generate`` would use, so the suite is reproducible and each case can be
    re-checked with ``verify_case``. Returns the JSONL path."""
    media = suite_dir / LANDSCAPE_MEDIA
    if media.exists():
        shutil.rmtree(media)
    media.mkdir(parents=True)
    numbers: dict[str, int] = {}
    lines = []
    for cell, prefix, name, count in LANDSCAPE_PLAN:
        fn = _BY_NAME[name].fn
        for k in range(count):
            gc = fn(_rng(LANDSCAPE_SEED, name, k), k, media)
            numbers[prefix] = numbers.get(prefix, 0) + 1
            case = {
                "id": f"landscape/{prefix}/gen-{numbers[prefix]:03d}",
                "cell": cell,
                "category": gc.category,
                "input": _relocate(gc.input, LANDSCAPE_MEDIA) if isinstance(gc.input, list) else gc.input,
                "reference": gc.reference,
                "metadata": {"source": "fourfold landscape suite (generated)", "license": "Apache-2.0",
                             "tags": ["generated", name, *gc.tags], "generator": name, "seed": LANDSCAPE_SEED,
                             "ground_truth": gc.truth},
            }
            lines.append(json.dumps(case, sort_keys=True, ensure_ascii=False))
    (media / "VERSIONS.json").write_text(json.dumps(render_versions(), indent=1, sort_keys=True) + "\n",
                                         encoding="utf-8")
    path = suite_dir / LANDSCAPE_FILE
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
