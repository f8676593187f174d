"""Claims: two ``fourfold run`` processes on one store share the work instead of
both sending every case.

Why claims rather than one writer: a second run on the same store (a second
terminal, a CI retry, a cron job that overlaps the last one) is a user's
mistake or a deliberate way to go faster; either way it should neither fail
nor pay for every case twice. Before a run sends a batch of cases it claims
their keys in one ``BEGIN IMMEDIATE`` transaction (SQLite's write lock, so two
processes cannot both win a key). A key is not claimed when it already has a
result (an ``error`` stored by an earlier run is retried; one stored while this
run was going is not) or when another live run holds it. A result and the
deletion of its claim commit together, so a finished key is never sent again.

A run killed with ``kill -9`` leaves its claims behind. They are taken over at
once when their owner is visibly dead (same host, its pid gone or reused),
and otherwise when their lease runs out: a live run renews its leases every
few seconds from the result writer's flush.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterable

LEASE_S = 60.0
RENEW_EVERY_S = 5.0


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (``/proc/PID/stat``
    field 22): a pid reused by another process has another start time. ``"Z"``
    for a zombie (dead, not yet reaped). None where there is no /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except FileNotFoundError:
        return ""
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()  # the name in parentheses may contain spaces
    if not fields or fields[0] in ("Z", "X"):
        return "Z"
    return fields[19] if len(fields) > 19 else None


def owner_id() -> str:
    """``host|pid|start time|random``: unique per process, and enough to tell
    from the same host whether the owner still runs."""
    pid = os.getpid()
    return f"{socket.gethostname()}|{pid}|{_start_time(pid) or ''}|{uuid.uuid4().hex[:8]}"


def owner_alive(owner: str) -> bool | None:
    """Whether the process behind ``owner`` runs: None when that cannot be told
    (another host, no /proc), so only the lease decides."""
    try:
        host, pid_s, started, _ = owner.split("|", 3)
        pid = int(pid_s)
    except ValueError:
        return None
    if host != socket.gethostname():
        return None
    now = _start_time(pid)
    if now is None:  # no /proc: the pid alone
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    if now in ("", "Z"):
        return False
    return not started or now == started


class Claims:
    """This process's claims on one store (one per ``Runner``)."""

    def __init__(self, db: sqlite3.Connection, *, lease_s: float = LEASE_S, owner: str | None = None):
        self.db = db
        self.lease_s = lease_s
        self.owner = owner or owner_id()
        self.started = time.time()
        self._renewed = time.monotonic()
        self.held = 0

    def claim(self, keys: list[str]) -> set[str]:
        """The subset of ``keys`` this run may send now (claimed for it)."""
        return self.claim_split(keys)[0]

    def claim_split(self, keys: list[str]) -> tuple[set[str], set[str], set[str]]:
        """``keys`` split three ways: claimed for this run (send them), stored before
        this run started (nothing to do), and finished or held by another run since.
        One query per batch replaces holding every stored key of a model in memory."""
        if not keys:
            return set(), set(), set()
        now = time.time()
        marks = ", ".join("?" * len(keys))
        self.db.execute("BEGIN IMMEDIATE")
        try:
            done: dict[str, bool] = {k: at < self.started for k, at in self.db.execute(
                f"SELECT key, created_at FROM results WHERE key IN ({marks}) AND (status != 'error' OR created_at >= ?)",
                (*keys, self.started))}
            held = self.db.execute(f"SELECT key, owner, expires_at FROM claims WHERE key IN ({marks})", keys)
            alive: dict[str, bool | None] = {}
            busy = set()
            for key, owner, expires in held:
                if owner == self.owner:
                    continue
                if owner not in alive:
                    alive[owner] = owner_alive(owner)
                if expires > now and alive[owner] is not False:
                    busy.add(key)
            mine = [k for k in keys if k not in done and k not in busy]
            self.db.executemany("INSERT OR REPLACE INTO claims VALUES (?, ?, ?)",
                                ((k, self.owner, now + self.lease_s) for k in mine))
            self.db.execute("COMMIT")
        except BaseException:
            _rollback(self.db)
            raise
        self.held += len(mine)
        before = {k for k, old in done.items() if old}
        return set(mine), before, set(keys) - before - set(mine)

    def renew(self, force: bool = False) -> None:
        """Extend this run's leases (at most every ``RENEW_EVERY_S`` unless forced)."""
        if not self.held or (not force and time.monotonic() - self._renewed < min(RENEW_EVERY_S, self.lease_s / 4)):
            return
        self._renewed = time.monotonic()
        self.db.execute("UPDATE claims SET expires_at=? WHERE owner=?", (time.time() + self.lease_s, self.owner))

    def release(self) -> None:
        """Give back what this run claimed but did not finish (it stops early)."""
        if self.held:
            self.db.execute("DELETE FROM claims WHERE owner=?", (self.owner,))
            self.held = 0


def delete_claims(db: sqlite3.Connection, keys: Iterable[str]) -> None:
    """Inside the transaction that stores these keys' results (one statement per
    500 keys: this runs on every commit of the runner)."""
    todo = list(keys)
    for i in range(0, len(todo), 500):
        chunk = todo[i:i + 500]
        db.execute(f"DELETE FROM claims WHERE key IN ({', '.join('?' * len(chunk))})", chunk)


def _rollback(db: sqlite3.Connection) -> None:
    try:
        db.execute("ROLLBACK")
    except sqlite3.Error:  # SQLite may have rolled back already (disk full, I/O error)
        pass


__all__ = ["LEASE_S", "Claims", "delete_claims", "owner_alive", "owner_id"]
