"""The report's case views, made while ``fourfold run`` waits on the models.

``report.prepared`` explains why and how a view made ahead stays exact. This is
the CLI's side: the runner hands each committed batch here (``on_stored``), and
nothing is made until the thread that warms the end of the run has imported the
report package, so the event loop never waits on that import; until then the
batches are only kept. Then at most ``PER_BATCH`` results are taken each time, so
what piled up is worked off a little at each commit: a view costs about 40 us of
the event loop, and 500 of them at once held every answer arriving meanwhile
(the run's request window grew by 0.08 s). What is left at the end (``prepared``) is
the last commit or two. A run whose report will not list cases (past the inline
limit), or whose cases were not kept in memory, makes nothing.
"""

from __future__ import annotations

import sys
from collections import deque
from typing import Any

#: Most results turned into views per commit (a commit holds about 50 ms of results).
PER_BATCH = 48


class ViewsAhead:
    """``add`` is the runner's ``on_stored``; ``prepared`` is what the report takes
    (None: nothing was made, the report makes every view itself)."""

    def __init__(self, models: list[str], cases: dict[tuple[str, str], Any], expected: int,
                 inline_limit: int | None) -> None:
        self._models = models
        self._cases = cases
        self._expected = expected
        self._limit = inline_limit
        self._waiting: deque[Any] = deque()
        self._off = False
        self._prepared: Any = None

    def add(self, rows: list[Any]) -> None:
        if self._off:
            return
        self._waiting.extend(rows)
        if self._prepared is not None or self._start():
            self._take(PER_BATCH)

    def _take(self, n: int) -> None:
        waiting = self._waiting
        self._prepared.add([waiting.popleft() for _ in range(min(n, len(waiting)))])

    @property
    def prepared(self) -> Any:
        """What the report takes, once every committed result is in it (None: nothing made)."""
        if self._prepared is not None:
            self._take(len(self._waiting))
        return self._prepared

    def _start(self) -> bool:
        """Once the report package is imported (by the warm-up thread): False until then."""
        report = sys.modules.get("fourfold.report")
        module = sys.modules.get("fourfold.report.prepared")
        made = getattr(module, "PreparedCases", None)
        limit = getattr(report, "INLINE_LIMIT", None)
        if made is None or limit is None:
            return False
        if self._expected > (limit if self._limit is None else self._limit):
            self._off = True  # the report will list no case
            self._waiting.clear()
            return False
        self._prepared = made(self._models, self._cases)
        return True


def views_ahead(args: Any, backends: list[Any], cases: Any) -> ViewsAhead | None:
    """A ``ViewsAhead`` for this run, or None: no report, or cases not kept in memory."""
    if args.no_report or cases.kept is None:
        return None
    by_key = {(lc.case.cell, lc.case.id): lc.case for lc in cases.kept}
    return ViewsAhead([b.label for b in backends], by_key, len(by_key) * len(backends), args.inline_limit)
