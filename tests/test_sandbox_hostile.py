"""The hostile corpus (tests/hostile/*.py) against the real sandbox, and through `fourfold run`.

Each program is a model's answer for ``add(a, b)`` that does not add, and
attacks instead: it reads secrets, writes outside, kills, forks, fills disks,
forges verdicts. Each must be judged not passed and leave the host unharmed:
the canary file, the canary store and the unix socket untouched, no process of
a sandbox uid left behind, the API key from the parent's environment in no
form in what the judge returns.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import socket
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import fourfold, require_bwrap
from fourfold.judge import sandbox
from fourfold.judge.sandbox import run_python_tests

HOSTILE = Path(__file__).resolve().parent / "hostile"
PROGRAMS = sorted(HOSTILE.glob("*.py"))
CANARY_DIR = Path("/tmp/fourfold-hostile-canary")
SOCKET_PATH = Path("/var/tmp/fourfold-hostile.sock")
ADD_TESTS = "assert add(1, 2) == 3\nassert add(2, 5) == 7\nassert add(-4, 4) == 0\n"


@dataclass
class Host:
    """What the attacks aim at, and how it looked before."""

    secret: Path
    store: Path
    server: socket.socket
    key: str
    rows: list[tuple]

    def forms_of_key(self) -> list[str]:
        raw = self.key.encode()
        return [self.key, self.key[::-1], raw.hex(), raw[::-1].hex(), base64.b64encode(raw).decode()]


def store_rows(path: Path) -> list[tuple]:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT id, verdict FROM results ORDER BY id").fetchall()
    finally:
        db.close()


def sandbox_uid_processes() -> list[int]:
    """Live processes running as a sandbox uid (zombies excluded)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        uid = int(status.split("\nUid:", 1)[1].split()[0])
        if uid >= sandbox._UID_BASE and "\nState:\tZ" not in status:
            found.append(int(entry))
    return found


def wait_no_sandbox_processes() -> list[int]:
    """The namespace dies asynchronously after its PID 1: give it a generous while."""
    deadline = time.monotonic() + 30
    while sandbox_uid_processes() and time.monotonic() < deadline:
        time.sleep(0.1)
    return sandbox_uid_processes()


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> Iterator[Host]:
    require_bwrap()
    monkeypatch.delenv(sandbox.FORCE_ENV, raising=False)
    CANARY_DIR.mkdir(exist_ok=True)
    secret = CANARY_DIR / "secret.txt"
    secret.write_text("canary " + secrets.token_hex(8))
    (CANARY_DIR / "pwned").unlink(missing_ok=True)
    store = CANARY_DIR / "results.db"
    store.unlink(missing_ok=True)
    db = sqlite3.connect(store)
    db.execute("CREATE TABLE results (id INTEGER PRIMARY KEY, verdict TEXT)")
    db.executemany("INSERT INTO results (verdict) VALUES (?)", [("bad",)] * 11)
    db.commit()
    db.close()
    SOCKET_PATH.unlink(missing_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(SOCKET_PATH))
    server.listen(4)
    server.setblocking(False)
    key = "sk-canary-" + secrets.token_hex(12)
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.chdir(CANARY_DIR)  # so /proc/<fourfold>/cwd would lead to the store
    yield Host(secret, store, server, key, store_rows(store))
    server.close()
    SOCKET_PATH.unlink(missing_ok=True)


def assert_unharmed(host: Host, before_secret: str, text: str) -> None:
    assert host.secret.read_text() == before_secret
    assert not (CANARY_DIR / "pwned").exists()
    assert store_rows(host.store) == host.rows
    with pytest.raises(BlockingIOError):
        host.server.accept()
    for form in host.forms_of_key():
        assert form not in text, "the API key leaked"
    assert wait_no_sandbox_processes() == [], "a sandboxed process outlived its case"


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_attack_is_contained(program: Path, host: Host) -> None:
    assert sandbox.sandbox_kind().startswith("bwrap"), sandbox.sandbox_description()
    before = host.secret.read_text()
    result = asyncio.run(run_python_tests(program.read_text(), ADD_TESTS, timeout_s=8, memory_mb=256))
    text = result.detail + result.stdout + result.stderr
    assert result.status != "passed", (result, result.stdout[-500:])
    assert result.status != "error", result  # the code's fault, never "could not judge"
    assert "PWNED" not in text, text[-1500:]
    assert_unharmed(host, before, text)
    assert os.getpid() > 0 and Path(f"/proc/{os.getpid()}").exists()  # and we are still here


def test_the_corpus_covers_the_issue() -> None:
    names = {p.stem for p in PROGRAMS}
    assert {"read_shadow", "list_root", "parent_environ_dirfd", "parent_environ_ctypes", "write_outside_dirfd",
            "write_outside_sqlite", "store_via_proc_cwd", "posixsubprocess", "kill_parent", "kill_all",
            "setsid_daemon", "fork_bomb", "fill_shm", "fill_workdir", "unix_socket", "network", "frame_forgery",
            "settrace_jump", "os_exit", "sys_exit", "eq_always_true", "monkeypatch_builtins", "fake_verdict_fds",
            "ptrace_vm_readv", "proc1_environ", "huge_output"} <= names


def test_limits_bind_inside(host: Host) -> None:
    """The caps themselves, measured from inside: processes, /dev/shm, work dir, uid, capabilities."""
    code = (HOSTILE / "fork_bomb.py").read_text().replace("def add", "def unused")
    code += ("import os\nprint('UID', os.getuid(), os.getgid())\n"
             "print('CAP', open('/proc/self/status').read().split('CapEff:')[1].split()[0])\n"
             "def add(a, b):\n    return a + b\n")
    result = asyncio.run(run_python_tests(code, ADD_TESTS, timeout_s=30))
    assert result.passed, result
    forked = int(result.stdout.split("forked ")[1].split()[0])
    assert forked < sandbox._NPROC
    uid = int(result.stdout.split("UID ")[1].split()[0])
    assert uid >= sandbox._UID_BASE
    assert result.stdout.split("CAP ")[1].split()[0] == "0000000000000000"
    for name, cap in (("fill_shm", sandbox._SHM_BYTES), ("fill_workdir", sandbox._WORK_BYTES)):
        r = asyncio.run(run_python_tests((HOSTILE / f"{name}.py").read_text(), ADD_TESTS, timeout_s=30))
        written = int(r.stdout.split()[-1])
        assert 0 < written <= cap, (name, r.stdout[-300:])
    assert_unharmed(host, host.secret.read_text(), result.stdout + result.stderr)


# --------------------------------------------------------------------------
# End to end: `fourfold run` with a replay model whose answers are the attacks

def write_cases(path: Path, n: int) -> None:
    lines = []
    for i in range(n):
        lines.append(json.dumps({
            "id": f"hostile-{i:02d}", "cell": "code/generalizability", "category": "generation",
            "input": "Write a Python function add(a, b) that returns a + b.",
            "reference": {"kind": "unit_tests", "tests": ADD_TESTS, "entry_point": "add", "timeout_s": 8,
                          "memory_mb": 256}}))
    path.write_text("\n".join(lines) + "\n")


def test_fourfold_run_with_hostile_answers(tmp_path: Path, host: Host) -> None:
    cases = tmp_path / "cases.jsonl"
    write_cases(cases, len(PROGRAMS))
    out = tmp_path / "out"
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"id": "hostile-00", "response": "```python\ndef add(a, b):\n    return a + b\n```"})
                    + "\n")
    env = {"OPENAI_API_KEY": host.key}
    first = fourfold("run", "--model", f"replay/{good}", "--cases", str(cases), "--out", str(out),
                     "--no-progress", "--no-report", env=env, cwd=out.parent)
    assert "bubblewrap" in first.stdout + first.stderr  # the sandbox in use is printed
    db = out / "results.db"
    con = sqlite3.connect(db)
    earlier = con.execute("SELECT key, verdict, rationale FROM results ORDER BY key").fetchall()
    con.close()
    assert [row[1] for row in earlier if row[1] == "good"] == ["good"]
    evil = tmp_path / "evil.jsonl"
    evil.write_text("".join(json.dumps({"id": f"hostile-{i:02d}", "response": f"```python\n{p.read_text()}```"})
                            + "\n" for i, p in enumerate(PROGRAMS)))
    before = host.secret.read_text()
    second = fourfold("run", "--model", f"replay/{evil}", "--cases", str(cases), "--out", str(out),
                      "--no-progress", env=env, cwd=out)
    assert second.returncode == 0
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT key, verdict, rationale, model FROM results ORDER BY key").fetchall()
    finally:
        con.close()
    assert [r for r in rows if r[0] in {e[0] for e in earlier}] == [(*e, r[3]) for e, r in zip(
        earlier, [r for r in rows if r[0] in {e[0] for e in earlier}], strict=True)]
    evil_rows = [r for r in rows if r[0] not in {e[0] for e in earlier}]
    assert len(evil_rows) == len(PROGRAMS)
    assert not [r for r in evil_rows if r[1] == "good"], evil_rows
    report = "".join(p.read_text(errors="replace") for p in out.glob("report.*"))
    assert_unharmed(host, before, second.stdout + second.stderr + report + repr(rows))
