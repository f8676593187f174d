"""The results store under a hostile environment: two runs at once, a full disk,
a read-only store or folder, a damaged file. Real SQLite, the bench's latency
server (its /stats count every request), the CLI in its own process.

As root (CI), the disk is a size-capped tmpfs and read-only is a read-only bind
mount, each in a private mount namespace (``unshare -m``), since permission
bits do not stop root. Without root, a file-size limit (RLIMIT_FSIZE) and
``chmod`` do the same job.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import fourfold, fourfold_popen
from fourfold.store import Store
from fourfold.store.claims import Claims, owner_alive, owner_id


def _count(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    finally:
        con.close()


def _run_args(server: Any, data: Path, db: Path, out: Path, concurrency: int = 8) -> list[str]:
    return ["run", "--model", f"openai/latency-model@{server.base_url}", "--cases", str(data),
            "--cell", "text/generalizability", "--concurrency", str(concurrency), "--store", str(db),
            "--out", str(out), "--no-progress"]


def _can_unshare() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


# The commands run inside a private mount namespace; results come back as JSON.
_IN_NAMESPACE = r"""
import json, subprocess, sys
setup, commands = json.loads(sys.argv[1])
for cmd in setup:
    subprocess.run(cmd, check=True)
out = []
for cmd in commands:
    p = subprocess.run(cmd, capture_output=True, text=True)
    out.append([p.returncode, p.stdout, p.stderr])
print(json.dumps(out))
"""


def _in_mounts(setup: list[list[str]], commands: list[list[str]], env: dict[str, str] | None = None
               ) -> list[tuple[int, str, str]]:
    p = subprocess.run(["unshare", "-m", sys.executable, "-c", _IN_NAMESPACE, json.dumps([setup, commands])],
                       capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})})
    assert p.returncode == 0, p.stderr
    return [tuple(r) for r in json.loads(p.stdout.strip().splitlines()[-1])]  # type: ignore[misc]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "fourfold.cli", *args]


# ------------------------------------------------------------------ two runs


def _wait(ready: Any, what: str, timeout_s: float = 120.0) -> None:
    """Poll ``ready()`` until true; a generous deadline, since this waits on processes, not a speed."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _stop_holding_no_lock(proc: subprocess.Popen, db: Path, tries: int = 500) -> None:
    """SIGSTOP ``proc`` at a moment it holds no lock on ``db``: another connection can take
    the write lock and read. Frozen inside a commit (or a checkpoint) it would keep the
    lock, and a second run would wait 5 s to open the store and fail: that is a paused
    writer, not the sharing this test is about, so it is retried a few ms later."""
    for _ in range(tries):
        proc.send_signal(signal.SIGSTOP)
        con = sqlite3.connect(db, timeout=0.05, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
            con.execute("ROLLBACK")
            con.execute("SELECT COUNT(*) FROM results").fetchone()
            return
        except sqlite3.OperationalError:
            proc.send_signal(signal.SIGCONT)
            time.sleep(0.005)
        finally:
            con.close()
    raise AssertionError(f"the run held a lock on {db} every time it was stopped ({tries} tries)")


def test_two_runs_on_one_store_share_the_cases(latency_server: Any, qa_file: Any, tmp_path: Path) -> None:
    n = 400
    server = latency_server("--delay-ms", "40")
    data, db = qa_file(n), tmp_path / "r.db"
    first = fourfold_popen(*_run_args(server, data, db, tmp_path / "a"))
    _wait(lambda: db.exists() and server.stats()["requests_total"] >= 16, "the first run never sent 16 requests")
    # The first run alone takes about 2 s; a second one starting on a loaded machine can take longer than
    # that to import and claim, and would then find everything done. So the first run is paused (it stays
    # alive, its claims held) until the second has sent requests of its own, and then both go on at once.
    _stop_holding_no_lock(first, db)
    try:
        sent_by_first = server.settled_total()
        second = fourfold_popen(*_run_args(server, data, db, tmp_path / "b"))
        _wait(lambda: server.stats()["requests_total"] > sent_by_first or second.poll() is not None,
              "the second run sent nothing in 45 s (the paused run's claims hold for 60 s)", timeout_s=45)
    finally:
        first.send_signal(signal.SIGCONT)
    outs = [p.communicate(timeout=300) for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], [e[-2000:] for _, e in outs]
    assert server.stats()["requests_total"] == n, "every case sent exactly once between the two runs"
    assert _count(db) == n
    con = sqlite3.connect(db)
    per_run = dict(con.execute("SELECT run_id, COUNT(*) FROM results GROUP BY run_id").fetchall())
    for _, err in outs:  # each run: what it stored + what it found done + what the other had = all
        err = " ".join(err.split())
        elsewhere = re.search(r"(\d+) case\(s\) answered by another run", err)
        assert elsewhere, "each run left some cases to the other"
        done = re.search(r"(\d+) case\(s\) already in the store", err)
        stored = per_run[re.search(r"run (\S+): ", err).group(1)]  # type: ignore[union-attr]
        assert stored > 0 and stored + int(elsewhere.group(1)) + (int(done.group(1)) if done else 0) == n
    assert con.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0, "finished runs hold no claims"
    con.close()
    # a third run finds everything done and sends nothing
    fourfold(*_run_args(server, data, db, tmp_path / "c"))
    assert server.stats()["requests_total"] == n


def test_claims_of_a_dead_run_are_taken_over_a_live_runs_are_not(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    keys = [f"k{i}" for i in range(6)]
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = Claims(store.db, owner=_owner_of(sleeper.pid))
        assert owner_alive(live.owner) is True
        assert live.claim(keys[:2]) == {"k0", "k1"}
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead_owner = _owner_of(dead.pid)
        dead.wait()
        assert owner_alive(dead_owner) is False
        assert Claims(store.db, owner=dead_owner).claim(keys[2:4]) == {"k2", "k3"}
        expired = Claims(store.db, owner="another-host|1|1|x", lease_s=-1)  # lease already over
        assert expired.claim(keys[4:]) == {"k4", "k5"}
        mine = Claims(store.db)
        assert mine.claim(keys) == {"k2", "k3", "k4", "k5"}, "the live run keeps k0 and k1"
        assert Claims(store.db).claim(keys) == set(), "now all six are held by live runs"
        mine.release()
        assert Claims(store.db).claim(keys) == {"k2", "k3", "k4", "k5"}
    finally:
        sleeper.kill()
        sleeper.wait()
        store.close()


def _owner_of(pid: int) -> str:
    """The owner id a process with this pid would write (as ``owner_id`` does for itself)."""
    host, _, _, token = owner_id().split("|")
    stat = Path(f"/proc/{pid}/stat").read_text()
    return f"{host}|{pid}|{stat[stat.rfind(')') + 2:].split()[19]}|{token}"


# ------------------------------------------------------------------ disk full


def test_a_full_disk_stops_the_run_and_keeps_what_was_committed(latency_server: Any, qa_file: Any,
                                                                 tmp_path: Path) -> None:
    n, concurrency, delay_ms = 800, 8, 20
    server = latency_server("--delay-ms", str(delay_ms))
    data, out = qa_file(n), tmp_path / "out"
    disk, saved = tmp_path / "disk", tmp_path / "saved"
    disk.mkdir()
    saved.mkdir()
    db = disk / "r.db"
    run = _cli(*_run_args(server, data, db, out, concurrency))
    if _can_unshare():  # a real ENOSPC: a 1 MB tmpfs
        (rc, _, err), _ = _in_mounts([["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)]],
                                     [run, ["sh", "-c", f"cp {disk}/* {saved}/"]])
    else:  # EFBIG past 1 MB per file: the same failed commit, as SQLite's I/O error
        import resource

        p = subprocess.run(run, capture_output=True, text=True, timeout=600, preexec_fn=lambda: resource.setrlimit(
            resource.RLIMIT_FSIZE, (1 << 20, 1 << 20)))
        rc, err = p.returncode, p.stderr
        for f in disk.iterdir():
            shutil.copy(f, saved)
    assert rc == 1, err
    assert "Traceback" not in err
    assert "stopped sending" in err and str(db) in err
    sent = server.stats()["requests_total"]
    stored = _count(saved / "r.db")
    assert 0 < stored < n
    assert re.search(rf"\b{stored} result\(s\) of this run are stored and kept", " ".join(err.split()))
    # lost: in flight at the failure, plus answers of the failed commit and of the next flush
    # interval (50 ms each); nothing is sent after the failure is seen
    assert sent - stored <= concurrency + concurrency * 100 / delay_ms + 2, (sent, stored)
    con = sqlite3.connect(saved / "r.db")
    assert con.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    con.close()


# ------------------------------------------------------------------ read-only


@pytest.fixture
def small_store(latency_server: Any, qa_file: Any, tmp_path: Path) -> tuple[Any, Path, Path]:
    server = latency_server("--delay-ms", "1")
    data, db = qa_file(20), tmp_path / "ro" / "r.db"
    fourfold(*_run_args(server, data, db, tmp_path / "first"))
    return server, data, db


def test_a_read_only_store_reports_but_does_not_run(small_store: tuple[Any, Path, Path], tmp_path: Path) -> None:
    server, data, db = small_store
    sent = server.stats()["requests_total"]
    clean = db.with_name("clean.db")  # closed cleanly: no -wal, so SQLite cannot open it read-only the usual way
    shutil.copy(db, clean)
    assert not Path(f"{clean}-wal").exists()
    # a run killed mid-write leaves its last commit in the WAL: the report must read it
    left = subprocess.run([sys.executable, "-c", "import os, sys; from fourfold.store import Store; "
                           "Store(sys.argv[1]).db.execute(\"UPDATE results SET verdict='bad' WHERE rowid <= 5\"); "
                           "os._exit(0)", str(db)], capture_output=True, text=True)
    assert left.returncode == 0 and Path(f"{db}-wal").stat().st_size > 0, left.stderr
    ro_dir, out_ro = db.parent, tmp_path / "out-ro"
    out_ro.mkdir()
    report = _cli("report", "--store", str(db), "--out", str(tmp_path / "rep"), "--json")
    report_clean = _cli("report", "--store", str(clean), "--out", str(tmp_path / "rep-clean"))
    run = _cli(*_run_args(server, data, db, tmp_path / "second"))
    report_to_ro = _cli("report", "--store", str(db), "--out", str(out_ro / "sub"))
    run_out_ro = _cli(*_run_args(server, data, tmp_path / "w" / "r.db", out_ro))
    if _can_unshare():
        setup = [["mount", "--bind", str(d), str(d)] for d in (ro_dir, out_ro)]
        setup += [["mount", "-o", "remount,ro,bind", str(d)] for d in (ro_dir, out_ro)]
        results = _in_mounts(setup, [["touch", str(ro_dir / "x")], report, run, report_to_ro, run_out_ro,
                                     report_clean])
    else:
        for p in (db, clean, ro_dir, out_ro):
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            results = [(1, "", ""), *[(p.returncode, p.stdout, p.stderr) for p in (
                subprocess.run(c, capture_output=True, text=True, timeout=300)
                for c in (report, run, report_to_ro, run_out_ro, report_clean))]]
        finally:
            for p in (db, clean, ro_dir, out_ro):
                p.chmod(0o755 if p.is_dir() else 0o644)
    touch, rep, ran, rep_ro, ran_ro, rep_clean = results
    assert touch[0] != 0, "the folder really is read-only"
    assert rep[0] == 0, rep[2]
    scores = json.loads(rep[1])["scores"]
    counts = next(iter(scores.values()))["text/generalizability"]["counts"]
    assert (counts["good"], counts["bad"]) == (15, 5), "report read the read-only store, its WAL included"
    assert rep_clean[0] == 0, rep_clean[2]
    assert "1 model(s), 20 case(s), 20 result(s)" in (tmp_path / "rep-clean" / "report.md").read_text()
    assert ran[0] == 2 and "read-only" in ran[2] and str(db) in ran[2], ran[2]
    assert rep_ro[0] == 2 and "cannot write the report" in rep_ro[2], rep_ro[2]
    assert ran_ro[0] == 2 and "--out" in ran_ro[2], ran_ro[2]
    for r in results[1:]:
        assert "Traceback" not in r[2], r[2]
    assert server.stats()["requests_total"] == sent, "nothing was sent for a run that cannot store"


# ------------------------------------------------------------------ damaged


def test_a_damaged_store_is_an_error_with_recovery_advice(small_store: tuple[Any, Path, Path],
                                                          latency_server: Any, qa_file: Any, tmp_path: Path) -> None:
    server = latency_server("--delay-ms", "1")
    data, db = qa_file(300), tmp_path / "big" / "r.db"
    fourfold(*_run_args(server, data, db, tmp_path / "first-big"))
    sent = server.stats()["requests_total"]
    size = db.stat().st_size
    assert size > 64 * 1024
    with open(db, "r+b") as f:  # 4 KB of random bytes in the middle of the file
        f.seek(size // 2)
        f.write(random.Random(7).randbytes(4096))
    rep = fourfold("report", "--store", str(db), "--out", str(tmp_path / "rep"), check=False)
    js = fourfold("report", "--store", str(db), "--json", check=False)
    ran = fourfold(*_run_args(server, data, db, tmp_path / "again"), check=False)
    for r in (rep, js, ran):
        assert r.returncode == 2, r.stderr
        assert "Traceback" not in r.stderr
        assert f"{db}: the store is damaged" in r.stderr and f'sqlite3 {db} ".recover" | sqlite3' in r.stderr
    assert js.stdout == "", "no numbers from a damaged store"
    assert not (tmp_path / "rep" / "report.md").exists()
    assert server.stats()["requests_total"] == sent, "a run on a damaged store sends nothing"


def test_not_a_store_and_quick_check_cost(tmp_path: Path) -> None:
    """A file that is not SQLite is named as such, not as damaged or read-only."""
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"hello, I am not a database" * 200)
    r = fourfold("report", "--store", str(junk), check=False)
    assert r.returncode == 2 and "not a fourfold store" in r.stderr and "Traceback" not in r.stderr


def test_a_store_whose_write_lock_is_held_says_so(small_store: tuple[Any, Path, Path], tmp_path: Path) -> None:
    """Another process holding the write lock past the busy timeout (a run paused
    with Ctrl-Z inside a commit) is named as such, not SQLite's bare "database is
    locked": in-process with a short timeout, then `fourfold run` on the CLI (its
    real 5 s), which sends nothing and keeps the store's results."""
    import fourfold.store as store_module

    server, data, db = small_store
    before = _count(db)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, held as a paused run holds it
    try:
        saved = store_module.BUSY_TIMEOUT_MS
        store_module.BUSY_TIMEOUT_MS = 200
        try:
            with pytest.raises(store_module.StoreError) as caught:
                Store(db)
        finally:
            store_module.BUSY_TIMEOUT_MS = saved
        assert "another process has held the store's write lock" in str(caught.value)
        assert str(db) in str(caught.value)
        sent = server.stats()["requests_total"]
        proc = fourfold(*_run_args(server, data, db, tmp_path / "second"), check=False, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert "another process has held the store's write lock for 5 s" in proc.stderr
        assert "Ctrl-Z" in proc.stderr and "Traceback" not in proc.stderr
        assert server.stats()["requests_total"] == sent
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _count(db) == before
