"""The report's case views, made while ``fourfold run`` waits on the models.

``report.prepared`` explains why and how a view made ahead stays exact. This is
the CLI's side. The runner hands each committed batch to ``add`` (its
``on_stored``), which only queues it. A task on the same event loop makes the
views a few at a time (``PER_IDLE``, about 0.3 ms), and only at moments when the
loop has nothing else ready to run: a view costs about 40 us, and made as each
batch came they held the answers arriving meanwhile (the request window grew by
0.05-0.1 s for 2,000 cases; made at idle moments, by about 0.03 s). Nothing is
made until the thread that warms the end of the run has imported the report
package, so the loop never waits on that import. What is left at the end
(``prepared``) is made then. A run whose report will not list cases (past the
inline limit), or whose cases were not kept in memory, makes nothing.
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from typing import Any

#: Views made at one idle moment (about 0.3 ms), and how often the loop is looked at.
PER_IDLE = 8
IDLE_POLL_S = 0.002


class ViewFeed:
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
        self._idle: asyncio.Task[None] | None = None
        self._more = asyncio.Event()  # bound to the run's loop at first use

    def add(self, rows: list[Any]) -> None:
        """On the event loop, after each commit: queue the rows (the idle task makes the views)."""
        if self._off:
            return
        self._waiting.extend(rows)
        if self._idle is None:
            self._idle = asyncio.get_running_loop().create_task(self._when_idle())
        self._more.set()

    async def _when_idle(self) -> None:
        """Make views a few at a time, when the loop has nothing else ready to run (its
        ``_ready`` queue: where an event loop has none, every poll counts as idle)."""
        loop = asyncio.get_running_loop()
        while not self._off:
            if not self._waiting:
                self._more.clear()
                await self._more.wait()
            await asyncio.sleep(IDLE_POLL_S)
            if not getattr(loop, "_ready", None) and (self._prepared is not None or self._start()):
                self._take(PER_IDLE)

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


def view_feed(args: Any, backends: list[Any], cases: Any) -> ViewFeed | None:
    """A ``ViewFeed`` for this run, or None: no report, or cases not kept in memory."""
    if args.no_report or cases.kept is None:
        return None
    by_key = {(lc.case.cell, lc.case.id): lc.case for lc in cases.kept}
    return ViewFeed([b.label for b in backends], by_key, len(by_key) * len(backends), args.inline_limit)
