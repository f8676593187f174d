"""WAL checkpoints in their own thread while a run writes (``store.checkpoint``).

A real store file, real SQLite, a real thread: the writer commits as a run's
flushes do (never while a checkpoint runs), the log stays small because it is
started over, no commit pays a checkpoint, and afterwards the connection has
its automatic checkpoints back and closing it removes the log."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from fourfold.store import Store
from fourfold.store.checkpoint import AUTO_PAGES, Checkpointer


def _wal_bytes(db: Path) -> int:
    wal = db.with_name(db.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def _write(store: Store, cp: Checkpointer | None, batches: int, rows: int = 20) -> tuple[int, float]:
    """``batches`` commits of ``rows`` 4 KB rows each, as the run's flush makes them:
    skipped while a checkpoint runs, a checkpoint asked for after each. (commits, slowest s)"""
    db = store.db
    db.execute("CREATE TABLE IF NOT EXISTS bulk (n INTEGER, blob TEXT)")
    commits, slowest, n = 0, 0.0, 0
    while commits < batches:
        if cp is not None and cp.busy:
            time.sleep(0.001)
            continue
        db.execute("BEGIN")
        db.executemany("INSERT INTO bulk VALUES (?, ?)", [(n + i, os.urandom(2048).hex()) for i in range(rows)])
        t = time.perf_counter()
        db.execute("COMMIT")
        slowest = max(slowest, time.perf_counter() - t)
        commits, n = commits + 1, n + rows
        if cp is not None:
            cp.request_if_due(n)
    return commits, slowest


def test_the_log_stays_small_and_every_row_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "results.db"
    store = Store(path)
    cp = Checkpointer(store.db, path, interval=0.0, rows=1)  # after every commit the thread is free for
    cp.start()
    assert store.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    _write(store, cp, batches=150)  # 150 x 20 x 4 KB: 12 MB through the log
    cp.stop()
    assert _wal_bytes(path) < 4 * 2**20, "the log was not started over: checkpoints never caught up"
    assert store.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == AUTO_PAGES
    assert store.db.execute("SELECT COUNT(*), COUNT(DISTINCT n) FROM bulk").fetchone() == (3000, 3000)
    store.close()
    assert not path.with_name(path.name + "-wal").exists(), "closing no longer checkpoints and removes the log"
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM bulk").fetchone() == (3000,)


def test_the_thread_copies_the_log_back_while_the_writer_does_not(tmp_path: Path) -> None:
    """The database file grows only when a checkpoint copies the log into it. The
    control (SQLite's automatic checkpoints, which run inside the writer's COMMIT)
    grows it; with the checkpointer the writer's automatic checkpoints are off, and
    the file still grows while the writes go on: the thread copied it."""
    plain_path = tmp_path / "plain.db"
    plain = Store(plain_path)
    plain.db.execute("PRAGMA wal_autocheckpoint=100")  # small, so a few commits cross it
    before = plain_path.stat().st_size
    _write(plain, None, batches=20)
    assert plain_path.stat().st_size > before + 2**20, "the control did not checkpoint in its commits"
    plain.close()

    path = tmp_path / "threaded.db"
    store = Store(path)
    cp = Checkpointer(store.db, path, interval=0.0, rows=1)
    cp.start()
    before = path.stat().st_size
    _write(store, cp, batches=20)
    deadline = time.monotonic() + 10
    while cp.busy and time.monotonic() < deadline:  # the last checkpoint asked for
        time.sleep(0.01)
    grown = path.stat().st_size
    cp.stop()
    assert store.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == AUTO_PAGES
    assert grown > before + 2**20, "nothing was copied back while the writer wrote"
    assert store.db.execute("SELECT COUNT(*) FROM bulk").fetchone() == (400,)
    store.close()


def test_stop_is_idempotent_and_a_store_never_started_is_untouched(tmp_path: Path) -> None:
    path = tmp_path / "results.db"
    store = Store(path)
    cp = Checkpointer(store.db, path)
    cp.stop()  # never started
    assert store.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == AUTO_PAGES
    cp.start()
    cp.stop()
    cp.stop()
    assert not cp.busy
    store.close()


def test_a_small_run_never_checkpoints_before_it_closes(tmp_path: Path) -> None:
    """Not more often than SQLite would: a run that commits fewer than ``rows`` results
    leaves the database file as it was until it closes (a run paused mid-checkpoint
    holds a lock a second run needs to open the store, see ``store.checkpoint``)."""
    path = tmp_path / "results.db"
    store = Store(path)
    cp = Checkpointer(store.db, path, interval=0.0, rows=1000)
    cp.start()
    before = path.stat().st_size
    _write(store, cp, batches=20)  # 400 results
    time.sleep(0.2)
    assert not cp.busy and path.stat().st_size == before, "a checkpoint ran before 1,000 results"
    cp.stop()
    store.close()
    assert path.stat().st_size > before + 2**20, "closing copied the log back"
