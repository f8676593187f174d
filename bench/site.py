#!/usr/bin/env python3
"""Site bench: ``fourfold site`` on a store of N results (default 100,000: 10 models
x 10,000 cases), then the first page's load time in headless Chromium (Debian's),
from file://. Prints figures; the issue's target is the first page under 2 s.

Peak memory is the build process's max RSS (ru_maxrss), so the store is written
in a child process first and the site built in another.

    python bench/site.py [--results 100000] [--models 10] [--keep DIR] [--findings]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def _child(code: str) -> float:
    """Run ``code`` in a fresh Python; its wall time (the child's own peak RSS is printed by it)."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": f"{ROOT / 'src'}:{ROOT / 'tests'}",
                                                                   "PATH": "/usr/bin:/bin"})
    return time.perf_counter() - t


def first_page(index: Path) -> tuple[float, float]:
    """(seconds to the leaderboard, seconds to the first page of the case list) in Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page()
        t = time.perf_counter()
        page.goto(index.as_uri())
        page.wait_for_selector("#board-overall tbody tr")
        board = time.perf_counter() - t
        t = time.perf_counter()
        page.goto(index.as_uri() + "#/cases?page=3")
        page.wait_for_selector("#case-table tbody tr")
        cases = time.perf_counter() - t
        browser.close()
    return board, cases


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=int, default=100_000)
    ap.add_argument("--models", type=int, default=10)
    ap.add_argument("--keep", type=Path, help="build here and keep it")
    ap.add_argument("--findings", action="store_true", help="also run score.findings (minutes at 100,000 results)")
    a = ap.parse_args()
    work = a.keep or Path(tempfile.mkdtemp(prefix="fourfold-site-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "results.db"
    db.unlink(missing_ok=True)
    w = _child(f"from site_stores import large_store; large_store({str(db)!r}, {a.results}, {a.models})")
    print(f"store: {a.results} results written in {w:.1f} s")
    code = ("import resource, time; from fourfold.site import build_site; t = time.perf_counter(); "
            f"f = build_site([{str(db)!r}], {str(work / 'site')!r}, findings={a.findings}); "
            "print(f'site: {f.n_results} results, {f.n_cases} cases, {f.index_chunks} index + {f.case_chunks} case "
            "chunks in {time.perf_counter() - t:.1f} s (build only), peak RSS '"
            "f'{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB')")
    total = _child(code)
    print(f"site: {total:.1f} s with Python start-up and imports")
    size = sum(f.stat().st_size for f in (work / "site").rglob("*") if f.is_file())
    first = sum(f.stat().st_size for f in (work / "site" / "data").glob("summary-*.js"))
    print(f"site size: {size / 1e6:.1f} MB; summary {first / 1e3:.0f} KB")
    board, cases = first_page(work / "site" / "index.html")
    print(f"first page (leaderboards) in Chromium: {board:.2f} s; case list page 4 (index loaded): {cases:.2f} s")
    print(f"bench peak RSS (this process, browser driver): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
