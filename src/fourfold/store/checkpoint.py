"""WAL checkpoints from a thread of their own, while a run writes.

Why: SQLite copies the write-ahead log back into the database file (a
checkpoint) inside whichever COMMIT pushes the log past 1,000 pages, and that
checkpoint fsyncs the database: 30-40 ms on this project's machine, taken on the
thread that committed, which during a run is the event loop's. At 20,000 results
that was 32 stalls and about 1 s of a 14 s run in which no request was sent and
no answer read. A run therefore turns the automatic checkpoints of its writing
connection off and asks this thread, on a connection of its own, for a PASSIVE
checkpoint once ``ROWS`` more results are committed (about the log SQLite would
have checkpointed at) and at most every ``interval`` seconds; Python's
``sqlite3`` lets go of the GIL while SQLite works, so the loop goes on meanwhile.

Not more often than SQLite would: while a checkpoint copies pages into the
database file it holds a lock that another process needs to start reading once
the log is all copied, so a run stopped mid-checkpoint (Ctrl-Z, SIGSTOP) makes a
second run on the same store fail to open it ("database is locked"). Checkpointing
every half second made that happen to a 400-case run paused by the two-runs test
one time in ten; a run small enough never to reach ``ROWS`` never checkpoints
until it closes, as before.

The writer does not commit while a checkpoint runs (``busy``: its results wait
in memory, as they do between two flushes anyway). That is what keeps the log
small: SQLite starts the log over at the next write only once a checkpoint has
copied all of it, which it never would with commits landing during every
checkpoint (the log grew to 150 MB at 50,000 results). Should the log still
pass ``LIMIT_FRAMES`` (another process writing, a claim committed meanwhile),
``overdue`` says so and the writer truncates it itself once.

What stays as it was: durability (a commit is in the WAL before it returns,
which is what survives a kill -9; the checkpoint only moves it) and readers
(they read the WAL and the database alike). When the run ends the writing
connection gets its automatic checkpoints back, so closing it checkpoints and
removes the WAL as before.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

#: Seconds between two checkpoints at the least.
INTERVAL_S = 0.5
#: Results committed between two checkpoints: a run's result row and its index entries are
#: about two pages, so this is about the 1,000 pages at which SQLite checkpoints by itself.
ROWS = 500
#: SQLite's own default (pages), restored on the writing connection afterwards.
AUTO_PAGES = 1000
#: Frames (pages) in the log past which the writer truncates it itself (64 MB at 4 KiB pages).
LIMIT_FRAMES = 16_384


class Checkpointer:
    """Background PASSIVE checkpoints of one store file, when the writer asks (``request_if_due``)."""

    def __init__(self, writer: sqlite3.Connection, path: Path, interval: float = INTERVAL_S, rows: int = ROWS):
        self._writer, self._path, self._interval, self._rows = writer, path, interval, rows
        self._written = 0
        self._go, self._stop, self._busy = threading.Event(), threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._last = time.monotonic()
        self.overdue = False

    @property
    def busy(self) -> bool:
        """A checkpoint is running: the writer should not commit now."""
        return self._busy.is_set()

    def start(self) -> None:
        """Automatic checkpoints off on the writer, and the thread on; a store that cannot
        be opened a second time keeps its automatic checkpoints."""
        try:
            db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error:
            return
        self._writer.execute("PRAGMA wal_autocheckpoint=0")
        self._thread = threading.Thread(target=self._loop, args=(db,), name="fourfold-checkpoint", daemon=True)
        self._thread.start()

    def request_if_due(self, written: int) -> None:
        """After a commit (``written``: results committed so far): start a checkpoint once
        ``ROWS`` more are in and ``interval`` has passed since the last one."""
        if (self._thread is None or self.busy or written - self._written < self._rows
                or time.monotonic() - self._last < self._interval):
            return
        self._last, self._written = time.monotonic(), written
        self._busy.set()
        self._go.set()

    def truncate(self) -> None:
        """The log emptied by the writer itself (``overdue``): one stall instead of a log without end."""
        try:
            self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.Error:  # busy (another process reading): the next time, then
            return
        self.overdue = False

    def _loop(self, db: sqlite3.Connection) -> None:
        try:
            while True:
                self._go.wait()
                self._go.clear()
                if self._stop.is_set():
                    return
                try:
                    _, log, _ = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self.overdue = log > LIMIT_FRAMES
                except sqlite3.Error:  # busy, or the disk is full: the writer's own commits say so
                    pass
                finally:
                    self._busy.clear()
        finally:
            self._busy.clear()
            db.close()

    def stop(self) -> None:
        """Waits for a checkpoint in progress, ends the thread and gives the writer its
        automatic checkpoints back (idempotent)."""
        if self._thread is None:
            return
        self._stop.set()
        self._go.set()
        self._thread.join()
        self._thread = None
        try:
            self._writer.execute(f"PRAGMA wal_autocheckpoint={AUTO_PAGES}")
        except sqlite3.Error:  # the connection was closed first: it has checkpointed as it closed
            pass


__all__ = ["AUTO_PAGES", "INTERVAL_S", "LIMIT_FRAMES", "ROWS", "Checkpointer"]
