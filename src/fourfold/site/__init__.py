"""The leaderboard site: several stores merged into a static site that opens from
``file://`` or any static host, with no server.

Why data files loaded by ``<script>``: Chromium refuses ``fetch()`` of a
``file://`` URL, so the data ships as JavaScript chunks, each calling the page
script's ``FF.add(kind, number, data)``. The summary (scores, metadata) is small
and loads first; the case index loads next in chunks of ``INDEX_CHUNK`` cases;
a case's answers, rationales and media sit in detail chunks of ``CASE_CHUNK``
cases, loaded only when a case page or a text search needs them. So the first
page of a 100,000-result site reads a few hundred kilobytes, not the results.

Every answer and case text is hostile: the page script inserts data with
``textContent`` only, and a strict Content-Security-Policy (scripts from the
site's own files only, nothing inline, no network) stops whatever slipped by.
Media are copied into ``media/`` under content-hash names (``site.media``).
"""

from __future__ import annotations

import gc
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..score.collection import Collection, collect
from .data import case_detail, group_cases, index_row, summary
from .media import MediaCopier

ASSETS = Path(__file__).parent / "assets"
INDEX_CHUNK = 10_000
CASE_CHUNK = 100


@dataclass(frozen=True, slots=True)
class SiteFiles:
    """What ``build_site`` wrote, for the command to print and the tests to check."""

    index: Path
    n_results: int
    n_cases: int
    index_chunks: int
    case_chunks: int
    media_files: int


def _chunk(out: Path, kind: str, number: int, data: Any) -> None:
    """``data/KIND-NNNN.js``: one call to ``FF.add`` with the data as a JSON string
    literal parsed by ``JSON.parse`` (faster for V8 than an object literal, and a
    string literal cannot end the call early whatever the data holds)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    literal = json.dumps(text, ensure_ascii=True)
    (out / "data" / f"{kind}-{number:04d}.js").write_text(
        f'FF.add("{kind}",{number},JSON.parse({literal}));\n', encoding="utf-8")


def build_site(stores: Sequence[str | Path] | Collection, out: Path, *, frame_cache: Path | None = None,
               findings: bool = True) -> SiteFiles:
    """Write the site for ``stores`` (paths, merged by ``score.collection.collect``, or
    a ``Collection`` already read) into ``out`` (made if missing; its old ``data/`` is replaced).
    ``findings=False`` leaves the findings page empty (``score.findings`` is most of the
    time of a large site).

    The cyclic garbage collector is paused, as for the report: the records are
    many small acyclic objects freed by reference counting anyway."""
    paused = gc.isenabled()
    gc.disable()
    try:
        col = stores if isinstance(stores, Collection) else collect(stores)
        return _build(col, Path(out), frame_cache, findings)
    finally:
        if paused:
            gc.enable()


def _build(col: Collection, out: Path, frame_cache: Path | None, findings: bool) -> SiteFiles:
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / "data", ignore_errors=True)
    (out / "data").mkdir()
    records = group_cases(col)
    data = summary(col, records, findings)
    models: list[str] = data["models"]
    strings: dict[str, int] = {}
    index_chunks = 0
    for start in range(0, len(records), INDEX_CHUNK):
        _chunk(out, "index", index_chunks, [index_row(r, models, strings) for r in records[start:start + INDEX_CHUNK]])
        index_chunks += 1
    media = MediaCopier(out, frame_cache)
    case_chunks = 0
    for start in range(0, len(records), CASE_CHUNK):
        _chunk(out, "cases", case_chunks,
               [case_detail(r, models, col.rankings, media) for r in records[start:start + CASE_CHUNK]])
        case_chunks += 1
    data["strings"] = list(strings)
    data["chunks"] = {"index": index_chunks, "index_size": INDEX_CHUNK, "cases": case_chunks, "cases_size": CASE_CHUNK}
    _chunk(out, "summary", 0, data)
    for asset in ASSETS.iterdir():
        if asset.is_file():
            shutil.copyfile(asset, out / asset.name)
    return SiteFiles(out / "index.html", len(col.results), len(records), index_chunks, case_chunks, media.files)


__all__ = ["CASE_CHUNK", "INDEX_CHUNK", "SiteFiles", "build_site"]
