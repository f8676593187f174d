"""Results gathered from several stores (runs on several machines, or several
runs kept apart), for what reads across them: the leaderboard site, findings,
plots and exports.

Each store is read on its own, with its own precedence (a person's verdict over a
judge model's over a rule's, ``score.precedence``), then merged:

- a result is one model's answer to one case id, as in one store's latest
  results; when two stores hold one for the same model and case id, the newer
  (``created_at``) counts
  and the other is counted in ``superseded``, so a rerun on another machine
  replaces an old answer as a rerun in one store would;
- per-case rankings: the one covering more models counts (ties: the later store);
- cases: the first store that holds a case gives it (a case hash is its content,
  so every copy is the same case).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..store import Store
from ..store.records import StoredCase
from .precedence import EffectiveResult, effective_rankings, effective_results


@dataclass(frozen=True, slots=True)
class SourceStore:
    """One store a collection was read from."""

    path: str
    results: int
    models: tuple[str, ...]


@dataclass
class Collection:
    """The merged results of several stores (see the module docstring)."""

    results: list[EffectiveResult] = field(default_factory=list)
    rankings: dict[str, dict[str, float]] = field(default_factory=dict)
    cases: dict[str, StoredCase] = field(default_factory=dict)
    sources: list[SourceStore] = field(default_factory=list)
    superseded: int = 0

    @property
    def models(self) -> list[str]:
        return sorted({r.model for r in self.results})


@contextmanager
def _open(path: Path) -> Iterator[Store]:
    store = Store(path, readonly=True, check=True)
    try:
        yield store
    finally:
        store.close()


def collect(paths: Sequence[str | Path]) -> Collection:
    """Read and merge the stores at ``paths`` (each opened read-only; a missing or
    damaged one raises the store's own error, naming the file)."""
    latest: dict[tuple[str, str], EffectiveResult] = {}
    out = Collection()
    for path in paths:
        with _open(Path(path)) as store:
            rows = effective_results(store)
            out.sources.append(SourceStore(str(path), len(rows), tuple(sorted({r.model for r in rows}))))
            for r in rows:
                key = (r.model, r.case_id)
                old = latest.get(key)
                if old is not None:
                    out.superseded += 1
                    if old.created_at > r.created_at:
                        continue
                latest[key] = r
            for h, ranks in effective_rankings(store).items():
                if len(ranks) >= len(out.rankings.get(h, {})):
                    out.rankings[h] = ranks
            for h, case in store.cases({r.case_hash for r in rows if r.case_hash} - out.cases.keys()).items():
                out.cases[h] = case
    out.results = sorted(latest.values(), key=lambda r: (r.model, r.cell, r.case_id))
    return out


__all__ = ["Collection", "SourceStore", "collect"]
