"""Progress of a run: a rich line per model on a terminal, plain lines elsewhere.

A run can last hours, and its output is often a CI log, ``nohup.out`` or a pipe,
where a live bar shows nothing until the end. Without a terminal, a plain line
per model is printed every ``interval_s`` seconds (a timer thread, so a model
that takes minutes per answer still shows the run is alive) and whenever
another 5 % of its cases is done, and once at the end.

On a terminal, the line always has the bar, done/total, rate and ETA, within
the width (80 columns included); per-cell counts and errors fill what is left,
whole items only, and the model name is shortened at a separator, never mid-word.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, TextIO

BAR_WIDTH = 20
#: Cell names shortened in the rich line (the full names are in the summary table).
_SHORT = (("/generalizability", "/gen"), ("/trustworthiness", "/trust"), ("/causality", "/caus"))


def hms(seconds: float) -> str:
    s = int(max(0.0, seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def short_label(label: str, width: int) -> str:
    """``label`` in at most ``width`` characters, cut only at a separator: first
    without its ``@URL``/``#caps`` tail, then its last path part, then up to a
    separator with an ellipsis."""
    if len(label) <= width:
        return label
    base = label.split("@", 1)[0].split("#", 1)[0]
    for cand in (base, base.rstrip("/").rsplit("/", 1)[-1]):
        if cand and len(cand) <= width:
            return cand
    head = label[:max(1, width - 1)]
    cut = max(head.rfind(c) for c in "/-_.:@# ")
    return (head[:cut] if cut > 0 else head) + "…"


class _Model:
    """Counts of one model: per cell, new this run, errors."""

    def __init__(self, total: int):
        self.total = total
        self.by_cell: Counter[str] = Counter()
        self.done = 0
        self.fresh = 0  # answered by the model in this run: the rate is theirs
        self.instant = 0  # recorded without a call (not evaluated): neither rate nor ETA
        self.errors = 0
        self.next_mark = 0  # plain mode: the count at which the next 5 % line is due
        self.last_line = 0.0

    def rate(self, elapsed: float) -> float:
        return self.fresh / elapsed if elapsed > 0 else 0.0

    def rate_text(self, elapsed: float) -> str:
        r = self.rate(elapsed)
        return f"{r:.1f}/s" if r < 100 else f"{r:.0f}/s"

    def eta(self, elapsed: float) -> str:
        r = self.rate(elapsed)
        left = self.total - self.done
        if left <= 0:
            return hms(0)
        if r <= 0:
            return "-:--:--"
        # Cases a model cannot take (an image case for a text model) are recorded at
        # once; expect the same share of them among the cases left.
        calls = self.fresh / (self.fresh + self.instant) if self.fresh + self.instant else 1.0
        return hms(left * calls / r)


class RunProgress:
    """``advancer(label)(cell, status)`` after each stored result; a context manager
    around the run. ``console``: where the rich line goes (stderr by default);
    ``plain``: where plain lines go when that console is not a terminal."""

    def __init__(self, totals_by_cell: Counter[str], labels: list[str], enabled: bool, *, console: Any = None,
                 plain: TextIO | None = None, interval_s: float = 10.0, step: float = 0.05):
        total = sum(totals_by_cell.values())
        self.totals_by_cell = totals_by_cell
        self.models = {label: _Model(total) for label in labels}
        self.interval_s = interval_s
        self.step_n = max(1, int(total * step))
        self.t0 = time.monotonic()
        self.mode = "off"
        self._stop = threading.Event()
        self._write_lock = threading.Lock()
        self._ticker: threading.Thread | None = None
        if not enabled:
            return
        if console is None:
            from rich.console import Console

            console = Console(stderr=True)
        if console.is_terminal:
            self.mode = "rich"
            self._setup_rich(console, labels)
        else:
            self.mode = "plain"
            self.out = plain or sys.stderr

    # ------------------------------------------------------------------ rich

    def _setup_rich(self, console: Any, labels: list[str]) -> None:
        from rich.progress import BarColumn, Progress, TextColumn
        from rich.table import Column

        self.console = console
        width = console.width
        digits = len(str(next(iter(self.models.values())).total)) if self.models else 1
        # bar, "done/total", "12.3/s", "ETA 0:00:00", and the spaces between columns
        fixed = BAR_WIDTH + (2 * digits + 1) + 8 + 11 + 5
        self.name_width = max(4, min(max((len(x) for x in labels), default=4), width - fixed - 1))
        self.progress = Progress(
            TextColumn("[bold]{task.fields[name]}", table_column=Column(no_wrap=True, width=self.name_width)),
            BarColumn(bar_width=BAR_WIDTH),
            TextColumn("{task.completed}/{task.total}", table_column=Column(no_wrap=True, justify="right")),
            _computed(lambda t: self._state(t).rate_text(self._elapsed()), 8),
            _computed(lambda t: f"ETA {self._state(t).eta(self._elapsed())}", 11),
            _computed(self._extra, None),
            console=console, refresh_per_second=4, transient=False, expand=False,
        )
        self.tasks = {label: self.progress.add_task("", total=m.total, name=short_label(label, self.name_width),
                                                    label=label) for label, m in self.models.items()}
        self._fixed = self.name_width + fixed

    def _state(self, task: Any) -> _Model:
        return self.models[task.fields["label"]]

    def _elapsed(self) -> float:
        return time.monotonic() - self.t0

    def _extra(self, task: Any) -> str:
        """Errors and per-cell counts, whole items only, in what the width leaves."""
        m = self._state(task)
        room = self.console.width - self._fixed - 1
        items = [_errors(m.errors)] if m.errors else []
        for cell, total in self.totals_by_cell.items():
            name = cell
            for long, short in _SHORT:
                name = name.replace(long, short)
            items.append(f"{name} {m.by_cell[cell]}/{total}")
        out = ""
        for item in items:
            nxt = f"{out}  {item}" if out else item
            if len(nxt) > room:
                break
            out = nxt
        return out

    # ----------------------------------------------------------------- plain

    def line(self, label: str) -> str:
        m = self.models[label]
        el = self._elapsed()
        pct = 100 * m.done // m.total if m.total else 100
        err = f", {_errors(m.errors)}" if m.errors else ""
        return (f"progress {label}: {m.done}/{m.total} ({pct}%) {m.rate_text(el)} ETA {m.eta(el)}"
                f" elapsed {hms(el)}{err}")

    def _emit(self, label: str) -> None:
        m = self.models[label]
        m.last_line = time.monotonic()
        while m.next_mark <= m.done:
            m.next_mark += self.step_n
        text = self.line(label) + "\n"
        with self._write_lock:
            try:
                self.out.write(text)
                self.out.flush()
            except (OSError, ValueError):  # a closed pipe must not end the run
                pass

    def _tick(self) -> None:
        while not self._stop.wait(min(1.0, self.interval_s)):
            now = time.monotonic()
            for label, m in self.models.items():
                if now - max(m.last_line, self.t0) >= self.interval_s and m.done < m.total:
                    self._emit(label)

    # ------------------------------------------------------------- interface

    def __enter__(self) -> RunProgress:
        self.t0 = time.monotonic()
        for m in self.models.values():
            m.next_mark = self.step_n
        if self.mode == "rich":
            self.progress.start()
        elif self.mode == "plain":
            self._ticker = threading.Thread(target=self._tick, name="fourfold-progress", daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.mode == "rich":
            for label in self.tasks:
                self._update(label)
            self.progress.stop()
        elif self.mode == "plain":
            if self._ticker is not None:
                self._ticker.join(2)
            for label in self.models:
                self._emit(label)

    def _update(self, label: str) -> None:
        self.progress.update(self.tasks[label], completed=self.models[label].done)  # type: ignore[arg-type]

    def advancer(self, label: str) -> Callable[..., None]:
        m = self.models[label]
        mode = self.mode
        last = [0.0]

        def advance(cell: str, status: str = "ok") -> None:
            m.done += 1
            m.by_cell[cell] += 1
            if status == "not_evaluated":
                m.instant += 1
            elif status != "stored":
                m.fresh += 1
            if status == "error":
                m.errors += 1
            if mode == "plain":
                if m.done >= m.next_mark:
                    self._emit(label)
            elif mode == "rich":
                now = time.monotonic()
                if now - last[0] > 0.1:  # rendering is 4 Hz; don't update the task per result
                    last[0] = now
                    self._update(label)
        return advance


def _errors(n: int) -> str:
    return "1 error" if n == 1 else f"{n} errors"


@functools.cache
def _computed_column() -> type:
    """Built on first use: rich is imported only when a progress line is shown."""
    from rich.progress import ProgressColumn
    from rich.table import Column
    from rich.text import Text

    class Computed(ProgressColumn):
        """A column computed from the run's own counts at each render, so rate and
        ETA move on even while no result arrives."""

        def __init__(self, fn: Callable[[Any], str], width: int | None):
            super().__init__(table_column=Column(no_wrap=True, width=width, justify="right" if width else "left"))
            self.fn = fn

        def render(self, task: Any) -> Text:
            return Text(self.fn(task))

    return Computed


def _computed(fn: Callable[[Any], str], width: int | None) -> Any:
    return _computed_column()(fn, width)


__all__ = ["RunProgress", "hms", "short_label"]
