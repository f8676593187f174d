#!/usr/bin/env python3
"""Cost of the built-in landscape suite: building its generated media from
scratch, loading it (JSON, schema, media hashes) and validating it (re-deriving
every generated answer from its media). Run by hand; figures go in docs/benchmarks.md.

    python bench/suite.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(label: str, fn) -> object:  # noqa: ANN001
    t0 = time.perf_counter()
    out = fn()
    print(f"{label:<48} {time.perf_counter() - t0:7.2f} s")
    return out


def main() -> int:
    from fourfold.cases import load_cases
    from fourfold.cases.generators.images import build_landscape_images
    from fourfold.cases.generators.video import build_landscape_video
    from fourfold.cases.loader import SUITES_DIR
    from fourfold.cases.media.perturb import build_robustness_suite

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        timed("build generated images (48 cases)", lambda: build_landscape_images(d))
        timed("build generated videos (landscape video part)", lambda: build_landscape_video(d))
        timed("build perturbed photos (robustness part)", lambda: build_robustness_suite(d))
    cases = timed("load landscape (schema + media sha256)", lambda: load_cases(["landscape"]))
    print(f"{'cases':<48} {len(cases):7d}")
    media = {lc.media_path(p) for lc in cases for p in lc.case.media()}  # type: ignore[union-attr]
    print(f"{'distinct media files':<48} {len(media):7d}")
    own = sum(f.stat().st_size for f in SUITES_DIR.rglob("*") if f.is_file())
    print(f"{'installed suites on disk (MB)':<48} {own / 1e6:7.2f}")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "fourfold.cli", "cases", "validate", "landscape"], check=True,
                   capture_output=True)
    print(f"{'fourfold cases validate landscape (process)':<48} {time.perf_counter() - t0:7.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
