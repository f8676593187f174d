"""Store upkeep at scale: what a store holds (``fourfold store stats``) and giving
its free pages back to the disk (``fourfold store compact``).

Why compaction is a separate, refused-while-in-use step: the store grows without
VACUUM (results are only ever added or replaced, and SQLite reuses freed pages),
so a store needs compacting only after large deletions or replacements. VACUUM
writes a new copy; doing it ``INTO`` a new file and renaming it over the old
one means a crash leaves either the old store or the new, never half of each.
But a process that still has the old file open would go on writing to the
replaced copy and lose every result after the swap, so compaction takes the
store's lock file exclusively, which every writing ``Store`` holds shared.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .claims import owner_alive


class StoreBusy(Exception):
    """Another process has the store open for writing (a run, a judge pass, the web UI)."""


def lock_path(path: Path) -> Path:
    return Path(f"{path}-lock")


def hold_shared(path: Path) -> IO[bytes] | None:
    """The shared hold a writing ``Store`` keeps on ``PATH-lock`` for its lifetime
    (closing the file releases it). None where the folder cannot take the file;
    ``StoreBusy`` while the store is being compacted."""
    try:
        f = open(lock_path(path), "ab")  # noqa: SIM115 -- held open on purpose, closed with the store
    except OSError:
        return None
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        raise StoreBusy(f"{path}: being compacted by `fourfold store compact`; run again when it ends") from None
    except OSError:  # a file system without flock: nothing to coordinate with
        pass
    return f


@dataclass(frozen=True)
class StoreStats:
    """What ``fourfold store stats`` prints (``--json``: this record as a dict)."""

    path: str
    file_bytes: int
    wal_bytes: int
    page_size: int
    page_count: int
    freelist_count: int
    rows: dict[str, int]
    models: dict[str, int]
    statuses: dict[str, int]
    runs_running: int
    live_claims: int
    indexes: list[str] = field(default_factory=list)
    #: Bytes per table and index (SQLite's dbstat; only when asked: it reads every page).
    table_bytes: dict[str, int] = field(default_factory=dict)

    @property
    def free_bytes(self) -> int:
        return self.freelist_count * self.page_size


def stats(db: sqlite3.Connection, path: Path, table_bytes: bool = False) -> StoreStats:
    """Sizes, rows per table, results per model and per status, pages: all SQL
    aggregates (a million-row store is counted, never read into memory)."""
    def one(sql: str) -> int:
        return int(db.execute(sql).fetchone()[0])

    rows = _counts(db)
    now = time.time()
    live = sum(n for owner, n in db.execute("SELECT owner, COUNT(*) FROM claims WHERE expires_at > ? GROUP BY owner",
                                            (now,)) if owner_alive(owner) is not False)
    wal = Path(f"{path}-wal")
    return StoreStats(
        path=str(path), file_bytes=path.stat().st_size, wal_bytes=wal.stat().st_size if wal.exists() else 0,
        page_size=one("PRAGMA page_size"), page_count=one("PRAGMA page_count"),
        freelist_count=one("PRAGMA freelist_count"), rows=rows,
        models=dict(db.execute("SELECT model, COUNT(*) FROM results GROUP BY model ORDER BY model").fetchall()),
        statuses=dict(db.execute("SELECT status, COUNT(*) FROM results GROUP BY status ORDER BY status").fetchall()),
        runs_running=one("SELECT COUNT(*) FROM runs WHERE status = 'running'"), live_claims=live,
        indexes=[n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL "
                                          "ORDER BY name")],
        table_bytes=_table_bytes(db) if table_bytes else {})


def _table_bytes(db: sqlite3.Connection) -> dict[str, int]:
    try:
        return dict(db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall())
    except sqlite3.OperationalError:  # an SQLite built without the dbstat table
        return {}


@dataclass(frozen=True)
class Compacted:
    before_bytes: int
    after_bytes: int
    rows: dict[str, int]


def compact(path: Path) -> Compacted:
    """Checkpoint the WAL, ``VACUUM INTO`` a new file beside the store, check that
    every table kept every row, and rename it over the store. ``StoreBusy`` when
    any other process holds the store (nothing is changed then)."""
    with open(lock_path(path), "ab") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreBusy(f"{path}: in use by another fourfold process (a run, a judge pass, the web UI): "
                            "compact it once that has finished") from None
        before = _size(path)
        tmp = path.with_name(f".{path.name}.compact-{os.getpid()}")
        tmp.unlink(missing_ok=True)
        db = sqlite3.connect(path, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout=5000")
            _refuse_live_claims(db, path)
            busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if busy:
                raise StoreBusy(f"{path}: another connection is reading or writing it (an sqlite3 shell?): "
                                "close it and compact again")
            counts = _counts(db)
            db.execute("VACUUM INTO ?", (str(tmp),))
        finally:
            db.close()
        try:
            _check_copy(tmp, counts)
            wal = Path(f"{path}-wal")
            if wal.exists() and wal.stat().st_size > 0:
                raise StoreBusy(f"{path}: its WAL was written during compaction; compact again when nothing uses it")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return Compacted(before, _size(path), counts)


def _refuse_live_claims(db: sqlite3.Connection, path: Path) -> None:
    """A run on another host shares no lock file with us: its live claims say it runs."""
    now = time.time()
    for owner, in db.execute("SELECT DISTINCT owner FROM claims WHERE expires_at > ?", (now,)):
        if owner_alive(owner) is not False:
            raise StoreBusy(f"{path}: a run ({owner.split('|')[0]}, pid {owner.split('|')[1]}) holds claims on it: "
                            "compact it once that run has finished")


def _counts(db: sqlite3.Connection) -> dict[str, int]:
    present = {n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return {t: int(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in sorted(present)}  # noqa: S608


def _check_copy(tmp: Path, counts: dict[str, int]) -> None:
    db = sqlite3.connect(tmp, isolation_level=None)
    try:
        problems = [r[0] for r in db.execute("PRAGMA quick_check(5)")]
        got = _counts(db)
    finally:
        db.close()
    if problems != ["ok"] or got != counts:
        raise RuntimeError(f"the compacted copy differs ({problems[:2]}, rows {got} vs {counts}); the store is "
                           "left as it was")


def _size(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


__all__ = ["Compacted", "StoreBusy", "StoreStats", "compact", "hold_shared", "lock_path", "stats"]
