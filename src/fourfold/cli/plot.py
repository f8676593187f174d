"""``fourfold plot STORE... --out DIR``: the radar, heatmap and per-cell bars as PNG and SVG, for a paper."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import UsageError, check_out_dir

_FORMATS = ("png", "svg")  # publish.plots.PLOT_FORMATS; not imported here: --help loads no stage


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("plot", help="figures for a paper: radar, heatmap, per-cell bars with 95%% intervals "
                                    "(PNG, SVG)")
    p.add_argument("stores", nargs="+", metavar="STORE", help="results.db files, merged (the newer answer counts)")
    p.add_argument("--out", metavar="DIR", default="fourfold-plots", type=Path)
    p.add_argument("--format", default="png,svg", metavar="LIST", help="comma-separated: png, svg (default both)")
    p.add_argument("--radar-score", choices=("absolute", "relative"), default="absolute",
                   help="what the radar shows (default absolute: comparable across runs; relative: Eq. 1 "
                        "among the models plotted)")
    return p


def _formats(text: str) -> list[str]:
    formats = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in formats if f not in _FORMATS]
    if bad or not formats:
        raise UsageError(f"--format {text!r}: use png, svg or png,svg")
    return list(dict.fromkeys(formats))


def handle(args: argparse.Namespace) -> int:
    formats = _formats(args.format)
    for s in args.stores:
        if not Path(s).is_file():
            raise UsageError(f"{s}: no such store (pass results.db files written by `fourfold run`)")
    check_out_dir(args.out)
    from ..publish.plots import write_plots
    from ..score import compute_scores
    from ..score.collection import collect

    col = collect(args.stores)
    if not col.results:
        raise UsageError(f"{', '.join(args.stores)}: no results to plot (run `fourfold run` first)")
    scores = compute_scores(col.results, col.rankings)
    try:
        files = write_plots(scores, args.out, formats, radar_score=args.radar_score)
    except OSError as e:
        raise UsageError(f"--out {args.out}: cannot write the figures ({e.strerror or e})") from None
    sys.stderr.write(f"plot: {len(files.paths)} files in {args.out} ({len(scores.models)} models)\n")
    return 0
