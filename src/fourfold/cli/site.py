"""``fourfold site STORE... --out DIR``: the static leaderboard site from one or more stores."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import UsageError, check_out_dir


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("site", help="write a static leaderboard site (open index.html; no server) from stores")
    p.add_argument("stores", nargs="+", metavar="STORE", help="results.db files, merged (the newer answer counts)")
    p.add_argument("--out", metavar="DIR", default="fourfold-site")
    p.add_argument("--frame-cache", metavar="DIR", help="where runs left the video frames (default: fourfold's own)")
    p.add_argument("--no-findings", action="store_true",
                   help="leave out the findings page (its tests are most of the time on a large site)")
    return p


def handle(args: argparse.Namespace) -> int:
    stores = [Path(s) for s in args.stores]
    for s in stores:
        if not s.is_file():
            raise UsageError(f"{s}: no such store (pass results.db files written by `fourfold run`)")
    out = Path(args.out)
    check_out_dir(out)
    from ..site import build_site

    try:
        files = build_site(stores, out, frame_cache=Path(args.frame_cache) if args.frame_cache else None,
                           findings=not args.no_findings)
    except OSError as e:
        raise UsageError(f"--out {out}: cannot write the site ({e.filename or out}: {e.strerror or e})") from None
    sys.stderr.write(f"site: {files.index} ({files.n_results} results, {files.n_cases} cases, "
                     f"{files.index_chunks + files.case_chunks + 1} data files, {files.media_files} media files)\n")
    return 0
