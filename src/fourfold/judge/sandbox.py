"""Run model-written Python against unit tests, treating the code as hostile.

Each case runs as **two** sandboxed processes that fourfold connects with a
socket pair (see :mod:`fourfold.judge.sandbox_driver`):

* the *candidate* runs the model's code and answers requests about what it
  defined; it never sees the tests and has no way to report a verdict;
* the *tests* process runs the case's tests against proxies of those names
  and alone writes the verdict, to a pipe only it holds.

So a pass cannot be forged from inside the code: there is no token to steal
from a frame, ``os._exit(0)`` or an early exit only closes the socket (a
failure), and an object whose ``__eq__`` always says yes reaches the tests as
a handle that equals only itself.

The strong isolation is **bubblewrap**, one instance per process (so the two
have separate PID, mount, network, IPC and UTS namespaces): a minimal root
(``/usr`` and the ``/lib``/``/bin`` links, ``/etc/ld.so.cache``, and the
interpreter's own prefixes and site-packages read-only at their own paths),
private ``/dev`` with a size-capped ``/dev/shm``, size-capped ``/tmp`` and
work dir, no network, a PID namespace that dies with fourfold's process, and
an unprivileged uid/gid of its own (root drops to it with ``setpriv`` inside
bwrap; elsewhere a user namespace maps it) so root-only files stay closed
and the process cap binds. rlimits cap memory, CPU, file size and processes.

Where bubblewrap does not work, unit tests are not judged (``error`` ->
``unjudged``) unless the user opts in to the weak modes (``unshare -n`` or a
plain process, plus an audit hook) with :func:`allow_weak_sandbox` or
``FOURFOLD_SANDBOX=unshare|none``. ``FOURFOLD_SANDBOX=bwrap`` forces
bubblewrap and never falls back.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import os
import re
import resource
import secrets
import shutil
import signal
import site
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

__all__ = ["FORCE_ENV", "SandboxResult", "SandboxUnavailable", "Status", "allow_weak_sandbox", "extract_code",
           "run_python_tests", "sandbox_description", "sandbox_kind"]

Status = Literal["passed", "failed", "timeout", "memory", "error"]

#: Environment variable choosing the isolation: "bwrap" forces bubblewrap (an
#: error if it does not work), "unshare" or "none" choose a weak mode (and so
#: opt in to it). Unset: bubblewrap if it works, else no unit-test verdicts.
FORCE_ENV = "FOURFOLD_SANDBOX"

_BWRAP = "/usr/bin/bwrap"
_OUTPUT_CHARS = 2000  # how much of stdout / stderr a result keeps (the tail)
_DETAIL_CHARS = 300
_FSIZE_BYTES = 16 * 1024 * 1024
_NPROC = 64
_VERDICT_MAX = 64 * 1024
_WORK_BYTES = 64 * 1024 * 1024  # the work dir's tmpfs
_TMP_BYTES = 32 * 1024 * 1024
_SHM_BYTES = 16 * 1024 * 1024
_TESTS_MEMORY_MB = 1024  # the tests process holds what the code returns
_UID_BASE = 1_700_000_000  # sandbox uids: far from any real account
_MEMORY_HINTS = ("MemoryError", "Cannot allocate memory", "out of memory", "std::bad_alloc")
_DRIVER = Path(__file__).with_name("sandbox_driver.py")
_ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime")
_ETC_DIRS = ("/etc/alternatives", "/etc/ld.so.conf.d")
_TOP_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


class SandboxUnavailable(RuntimeError):
    """No isolation that may be used here: bwrap was forced or is required and does not work."""


@dataclass(frozen=True)
class SandboxResult:
    """The outcome of one sandboxed run.

    ``detail`` is a single printable line meant for a report reader, e.g.
    ``"AssertionError at tests line 3: assert add(1, 2) == 3"`` or
    ``"killed after 10.0 s"``. ``stdout`` and ``stderr`` are the sanitised
    tails of the code's output, kept for debugging; they are hostile text.
    """

    status: Status
    detail: str
    duration_s: float
    stdout: str = field(default="", repr=False)
    stderr: str = field(default="", repr=False)

    @property
    def passed(self) -> bool:
        """True only when the tests process confirmed that every test ran and passed."""
        return self.status == "passed"


# --------------------------------------------------------------------------
# Getting the code out of a response

_FENCE = re.compile(r"^[ \t]{0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")
_PYTHON_TAGS = frozenset({"python", "py", "python3", "py3", "pycon", "ipython"})


def extract_code(response: str) -> str:
    """Take the model's code out of its answer.

    All ```` ```python ```` (or ``py``/``python3``) fenced blocks are joined,
    because models often split a solution into a helper block and a main block.
    Without such blocks, untagged ```` ``` ```` blocks are used; without any
    usable block, the whole text (a bare code answer). A fence left open at the
    end, as happens when an answer is cut by the token limit, runs to the end.
    """
    python_blocks: list[str] = []
    plain_blocks: list[str] = []
    lines = response.splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        fence = match["fence"]
        words = match["info"].strip().split()
        tag = words[0].lower().lstrip("{.") if words else ""
        body: list[str] = []
        i += 1
        while i < len(lines):
            stripped = lines[i].strip()
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                break
            body.append(lines[i])
            i += 1
        i += 1  # past the closing fence (or the end)
        if tag in _PYTHON_TAGS:
            python_blocks.append("\n".join(body))
        elif not tag:
            plain_blocks.append("\n".join(body))
    blocks = python_blocks or plain_blocks
    if blocks:
        return "\n\n".join(blocks).strip("\n") + "\n"
    return response


# --------------------------------------------------------------------------
# Choosing the isolation

@dataclass(frozen=True)
class _Isolation:
    """An isolation level that passed its probe, and how to wrap a command in it.

    ``kind``: "bwrap-root" (bwrap run as root, dropping to the sandbox uid with
    setpriv inside), "bwrap-user" (unprivileged bwrap in a user namespace),
    "unshare" or "none" (the weak, opt-in modes).
    """

    kind: Literal["bwrap-root", "bwrap-user", "unshare", "none"]
    description: str
    binds: tuple[str, ...] = ()  # the interpreter's directories, bound read-only at their own paths
    workdir: str = "/work"

    @property
    def strong(self) -> bool:
        return self.kind.startswith("bwrap")

    def prefix(self, uid: int, host_dir: str) -> list[str]:
        """The argv before ``python3`` that runs it isolated as ``uid`` (``host_dir``: weak modes' cwd)."""
        if self.kind == "unshare":
            return ["unshare", "--net", "--"]
        if self.kind == "none":
            return []
        argv = [_BWRAP, "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup",
                "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
        if self.kind == "bwrap-root":
            argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        else:
            argv += ["--unshare-user", "--uid", str(uid), "--gid", str(uid)]
        argv += _root_fs(self.binds, self.workdir)
        if self.kind == "bwrap-root":
            argv += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs"]
        return argv

    def cwd(self, host_dir: str) -> str:
        return self.workdir if self.strong else host_dir


def _root_fs(binds: tuple[str, ...], workdir: str) -> list[str]:
    """bwrap arguments for the minimal root: the OS's programs and libraries, nothing of the host's data."""
    argv = ["--ro-bind", "/usr", "/usr"]
    for top in _TOP_LINKS:
        if os.path.islink(top):
            argv += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            argv += ["--ro-bind", top, top]
    argv += ["--perms", "0755", "--dir", "/etc"]
    for path in _ETC_FILES + _ETC_DIRS:
        if os.path.exists(path):
            argv += ["--ro-bind", path, path]
    argv += ["--dev", "/dev", "--size", str(_SHM_BYTES), "--perms", "1777", "--tmpfs", "/dev/shm",
             "--proc", "/proc",
             "--size", str(_TMP_BYTES), "--perms", "1777", "--tmpfs", "/tmp",
             "--size", str(_WORK_BYTES), "--perms", "1777", "--tmpfs", workdir]
    made = {"/", "/usr", "/etc", "/dev", "/proc", "/tmp", workdir}
    for path in binds:
        parents = [str(p) for p in reversed(Path(path).parents)]
        for parent in parents:
            if parent not in made:
                argv += ["--perms", "0755", "--dir", parent]
                made.add(parent)
        argv += ["--ro-bind", path, path]
    return [*argv, "--chdir", workdir]


def _is_under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _interpreter_dirs() -> tuple[str, ...]:
    """What the interpreter needs, wherever it lives: its prefixes, site-packages and real binary.

    Both the path as given and its real path, because a venv's ``bin/python``
    is a link to the base interpreter and its ``pyvenv.cfg`` is found through
    the path it was started by.
    """
    wanted = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
              os.path.dirname(sys.executable), os.path.dirname(os.path.realpath(sys.executable)),
              *site.getsitepackages()}
    found: set[str] = set()
    for raw in wanted:
        for path in {os.path.abspath(raw), os.path.realpath(raw)}:
            if os.path.isdir(path) and path != "/" and not _is_under(path, "/usr"):
                found.add(path)
    ordered = sorted(found)
    return tuple(p for p in ordered if not any(q != p and _is_under(p, q) for q in ordered))


def _pick_workdir(binds: tuple[str, ...]) -> str:
    """``/work``, unless the interpreter lives there (a checkout under /work): then another name."""
    for name in ("/work", "/sandbox", "/fourfold-sandbox"):
        if not any(_is_under(b, name) or _is_under(name, b) for b in binds):
            return name
    raise SandboxUnavailable("no free path for the work directory")


def _sandbox_uid() -> int:
    """A fresh unprivileged uid per process: one sandbox's forks never count against another's cap."""
    return _UID_BASE + secrets.randbelow(1 << 24)


def _probe(iso: _Isolation) -> str | None:
    """Run a trivial interpreter through ``iso``; None if it works, else why not.

    A probe, not a version check, because bwrap fails for reasons that only
    show when tried (no user namespaces, seccomp in a container, a mode-700
    home directory above the interpreter, missing setpriv).
    """
    uid = _sandbox_uid()
    host_dir = tempfile.mkdtemp(prefix="fourfold-probe-")
    try:
        argv = [*iso.prefix(uid, host_dir), sys.executable, "-I", "-c",
                "import os, sys; print('ok', os.getuid(), os.getcwd(), sys.prefix)"]
        proc = subprocess.run(argv, cwd=host_dir, env=_child_env(iso, host_dir), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=30)
        want_uid = str(uid) if iso.strong else str(os.getuid())
        if proc.stdout.split() == ["ok", want_uid, iso.cwd(host_dir), sys.prefix]:
            return None
        why = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        return _clean_line(f"{iso.kind}: {why}", 200)
    except (OSError, subprocess.SubprocessError) as exc:
        return _clean_line(f"{iso.kind}: {type(exc).__name__}: {exc}", 200)
    finally:
        shutil.rmtree(host_dir, ignore_errors=True)


_STRONG = ("no network; own PID/IPC/mount namespaces; minimal read-only root with the interpreter; "
           "private /dev, /dev/shm and /tmp; size-capped tmpfs work dir; runs as an unprivileged uid; "
           "code and tests in separate sandboxes")


def _strong_candidates() -> list[_Isolation]:
    if not os.access(_BWRAP, os.X_OK):
        return []
    binds = _interpreter_dirs()
    workdir = _pick_workdir(binds)
    found = []
    if os.geteuid() == 0 and shutil.which("setpriv"):
        found.append(_Isolation("bwrap-root", f"bubblewrap as root, setpriv to a sandbox uid ({_STRONG}) + rlimits",
                                binds, workdir))
    found.append(_Isolation("bwrap-user", f"bubblewrap in a user namespace ({_STRONG}) + rlimits", binds, workdir))
    return found


def _weak(kind: Literal["unshare", "none"]) -> _Isolation:
    if kind == "unshare":
        return _Isolation("unshare", "WEAK sandbox: unshare -n (no network; the filesystem, other processes and "
                                     "fourfold itself reachable, guarded only by an audit hook) + rlimits")
    return _Isolation("none", "WEAK sandbox: plain process (network, filesystem, other processes and fourfold "
                              "itself reachable, guarded only by an audit hook) + rlimits")


_allow_weak = False
_cache: dict[tuple[str, bool], _Isolation | SandboxUnavailable] = {}
_cache_lock = threading.Lock()


def allow_weak_sandbox(allowed: bool = True) -> None:
    """Opt in (``fourfold run --allow-weak-sandbox``) to the weak modes where bubblewrap does not work."""
    global _allow_weak
    _allow_weak = allowed


def _choose(forced: str, allow_weak: bool) -> _Isolation:
    if forced not in ("", "bwrap", "unshare", "none"):
        raise SandboxUnavailable(f"{FORCE_ENV}={forced!r}: use bwrap, unshare or none")
    if forced in ("unshare", "none"):
        iso = _weak(forced)  # type: ignore[arg-type]
        why = _probe(iso)
        if why:
            raise SandboxUnavailable(f"{FORCE_ENV}={forced} does not work here ({why})")
        return iso
    reasons = []
    for iso in _strong_candidates():
        why = _probe(iso)
        if why is None:
            return iso
        reasons.append(why)
    if not reasons:
        reasons.append(f"{_BWRAP} is not installed")
    reason = "; ".join(reasons)
    if forced == "bwrap":
        raise SandboxUnavailable(f"{FORCE_ENV}=bwrap but bubblewrap does not work here: {reason}")
    if allow_weak:
        if os.geteuid() == 0 and shutil.which("unshare") and _probe(_weak("unshare")) is None:
            return _weak("unshare")
        return _weak("none")
    raise SandboxUnavailable(f"no strong sandbox (bubblewrap does not work here: {reason}); unit tests are not "
                             "run (fourfold run --allow-weak-sandbox runs them in the weak sandbox)")


def _isolation() -> _Isolation:
    """The isolation to use, probed once per (forced mode, opt-in) and cached; raises SandboxUnavailable."""
    key = (os.environ.get(FORCE_ENV, "").strip().lower(), _allow_weak)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is None:
            try:
                cached = _choose(*key)
            except SandboxUnavailable as exc:
                cached = exc
            _cache[key] = cached
    if isinstance(cached, SandboxUnavailable):
        raise cached
    return cached


def sandbox_kind() -> str:
    """``bwrap-root``, ``bwrap-user``, ``unshare``, ``none``, or ``unavailable``."""
    try:
        return _isolation().kind
    except SandboxUnavailable:
        return "unavailable"


def sandbox_description() -> str:
    """Say what isolation the unit-test sandbox uses here, for the run's first lines and the report.

    Probes on first use (a fraction of a second), then answers from the cache.
    """
    try:
        return _isolation().description
    except SandboxUnavailable as exc:
        return f"NONE: {exc}"


# --------------------------------------------------------------------------
# Running

def _child_env(iso: _Isolation, host_dir: str) -> dict[str, str]:
    """The whole environment a sandboxed process gets: nothing inherited, so no secrets."""
    bindir = os.path.dirname(sys.executable)
    home = iso.cwd(host_dir)
    return {"PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": home,
            "TMPDIR": "/tmp" if iso.strong else host_dir}


def _own_process_count() -> int:
    """Processes of our real uid: a user namespace's process cap counts them too."""
    uid, n = os.getuid(), 0
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and os.stat(f"/proc/{entry}").st_uid == uid:
                n += 1
        except OSError:
            pass
    return n


def _rlimits(iso: _Isolation, timeout_s: float, memory_mb: int) -> list[tuple[int, int, int]]:
    """The limits to set before exec (inherited through bwrap), each capped at the current hard limit.

    CPU gets a second more than the wall clock, so a busy loop is normally
    caught by the wall clock. The process cap binds the sandbox uid (it is
    ignored for root, which is why root drops to that uid inside bwrap).
    """
    cpu = math.ceil(timeout_s) + 1
    nproc = _NPROC if iso.kind == "bwrap-root" else _own_process_count() + _NPROC
    wanted = [
        (resource.RLIMIT_AS, memory_mb * 1024 * 1024, memory_mb * 1024 * 1024),
        (resource.RLIMIT_CPU, cpu, cpu + 2),
        (resource.RLIMIT_FSIZE, _FSIZE_BYTES, _FSIZE_BYTES),
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_NPROC, nproc, nproc),
    ]
    limits: list[tuple[int, int, int]] = []
    for which, soft, hard in wanted:
        _, current_hard = resource.getrlimit(which)
        if current_hard != resource.RLIM_INFINITY:
            hard = min(hard, current_hard)
            soft = min(soft, hard)
        limits.append((which, soft, hard))
    return limits


def _apply_rlimits(limits: list[tuple[int, int, int]]) -> None:
    """preexec_fn: runs in the forked child before exec, so keep it to syscalls."""
    for which, soft, hard in limits:
        resource.setrlimit(which, (soft, hard))


def _harness(tests: str, entry_point: str | None) -> str:
    """HumanEval style: call ``check(entry_point)`` when the tests define ``check`` but never call it."""
    if (entry_point and re.search(r"^def\s+check\s*\(", tests, re.M)
            and not re.search(r"^check\s*\(", tests, re.M)):
        return f"check({entry_point})\n"
    return ""


def _clean_line(text: str, limit: int = _DETAIL_CHARS) -> str:
    """One printable line: hostile output must not carry escapes into a terminal or a report."""
    text = re.sub(r"\s+", " ", text).strip()
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _tail(stream: IO[bytes]) -> str:
    """The last characters a process wrote, with control characters replaced."""
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    start = max(0, size - 4 * _OUTPUT_CHARS)
    stream.seek(start)
    text = stream.read().decode("utf-8", "replace")
    truncated = start > 0 or len(text) > _OUTPUT_CHARS
    text = text[-_OUTPUT_CHARS:]
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else "?" for ch in text)
    return f"[... {size} bytes in all, only the end kept ...]\n{text}" if truncated else text


def _read_verdict(fd: int) -> dict | None:
    """The tests process's verdict: one JSON line on the pipe only it had."""
    data = b""
    while len(data) < _VERDICT_MAX:
        chunk = os.read(fd, _VERDICT_MAX)
        if not chunk:
            break
        data += chunk
    try:
        item = json.loads(data.split(b"\n", 1)[0])
    except ValueError:
        return None
    if (isinstance(item, dict) and item.get("status") in ("passed", "failed", "memory", "error")
            and isinstance(item.get("detail"), str)):
        return item
    return None


def _kill_tree(proc: asyncio.subprocess.Process) -> None:
    """SIGKILL bwrap's children (the sandbox's PID 1: its namespace dies with it), then bwrap and its group."""
    pid = proc.pid
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for child in children:
        try:
            os.kill(int(child), signal.SIGKILL)
        except (ProcessLookupError, PermissionError, ValueError):
            pass
    if proc.returncode is not None:
        return  # already reaped: its pid may belong to someone else now
    # os.kill, not proc.kill(): Popen.kill() polls first and would steal the exit status from asyncio's watcher
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _signal_of(returncode: int, wraps: bool) -> int:
    """The signal that killed the process, or 0; bwrap reports a signal death as 128+N."""
    if returncode < 0:
        return -returncode
    if wraps and 128 < returncode < 128 + 65:
        return returncode - 128
    return 0


def _why_gone(returncode: int | None, wraps: bool, stderr: str) -> tuple[Status, str] | None:
    """A better verdict for a candidate that vanished, from how it ended (memory, CPU, file size)."""
    if returncode is None:
        return None
    sig = _signal_of(returncode, wraps)
    if sig == signal.SIGXCPU:
        return "timeout", "the code was killed by the CPU-time limit"
    if any(hint in stderr for hint in _MEMORY_HINTS):
        return "memory", "the code ran out of memory"
    if sig == signal.SIGKILL:
        return "memory", "the code was killed by SIGKILL (most likely out of memory)"
    if sig == signal.SIGXFSZ:
        return "failed", "the code was killed for writing a file over the size limit"
    if sig:
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return "failed", f"the code crashed with {name} before the tests finished"
    return None


async def run_python_tests(code: str, tests: str, *, entry_point: str | None = None,
                           timeout_s: float = 10.0, memory_mb: int = 512) -> SandboxResult:
    """Run ``tests`` against ``code`` in the sandbox and say whether the tests passed.

    Statuses: ``passed`` (the tests process ran every test), ``failed`` (an
    exception, a syntax error in the code, the code exiting early, a crash),
    ``timeout`` (wall clock or CPU limit), ``memory`` (MemoryError or killed
    for memory), ``error`` (the judge could not run the tests: broken tests,
    tests that pass a function to the code, no usable sandbox).

    Never raises because of what the code does; raises ``ValueError`` only for
    a bad argument from the caller. Every process the run started is killed
    when it ends, and the weak modes' work directories are removed.
    """
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be positive, not {timeout_s!r}")
    if memory_mb <= 0:
        raise ValueError(f"memory_mb must be positive, not {memory_mb!r}")
    if entry_point is not None and not entry_point.isidentifier():
        raise ValueError(f"entry_point must be a Python identifier, not {entry_point!r}")
    started = time.monotonic()
    dirs: list[str] = []
    try:
        iso = await asyncio.to_thread(_isolation)
        if not iso.strong:
            dirs = [tempfile.mkdtemp(prefix="fourfold-sbx-") for _ in range(2)]
        return await _run_case(iso, dirs or ["", ""], code, tests, entry_point, timeout_s, memory_mb)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the judge's own failure (or no sandbox), reported as such
        text = str(exc) if isinstance(exc, SandboxUnavailable) else f"sandbox failure: {type(exc).__name__}: {exc}"
        return SandboxResult("error", _clean_line(text), time.monotonic() - started)
    finally:
        for path in dirs:
            _remove_tree(path)


@dataclass
class _Proc:
    """One sandboxed process and the files that catch its output."""

    proc: asyncio.subprocess.Process
    out: IO[bytes]
    err: IO[bytes]


async def _spawn(iso: _Isolation, host_dir: str, role_args: list[str], meta: dict, fds: tuple[int, ...],
                 limits: list[tuple[int, int, int]]) -> _Proc:
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    argv = [*iso.prefix(_sandbox_uid(), host_dir), sys.executable, "-I", "-c", _driver_source(), *role_args]
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=subprocess.PIPE, stdout=out, stderr=err, cwd=host_dir or "/", env=_child_env(iso, host_dir),
        preexec_fn=lambda: _apply_rlimits(limits), start_new_session=True, pass_fds=fds, close_fds=True)
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(meta).encode("utf-8", "surrogatepass"))
    try:
        await proc.stdin.drain()
        proc.stdin.close()
    except (BrokenPipeError, ConnectionResetError):
        pass
    return _Proc(proc, out, err)


@functools.cache
def _driver_source() -> str:
    return _DRIVER.read_text(encoding="utf-8")


async def _run_case(iso: _Isolation, host_dirs: list[str], code: str, tests: str, entry_point: str | None,
                    timeout_s: float, memory_mb: int) -> SandboxResult:
    """Start the candidate and the tests sandboxes, wait for the verdict, kill both, classify."""
    cand_sock, tests_sock = socket.socketpair()
    verdict_r, verdict_w = os.pipe()
    procs: list[_Proc] = []
    started = time.monotonic()
    try:
        cand_meta = {"code": code, "guard": not iso.strong, "root": host_dirs[0]}
        tests_meta = {"code": code, "tests": tests, "harness": _harness(tests, entry_point)}
        procs.append(await _spawn(iso, host_dirs[0], ["candidate", str(cand_sock.fileno())], cand_meta,
                                  (cand_sock.fileno(),), _rlimits(iso, timeout_s, memory_mb)))
        cand_sock.close()
        procs.append(await _spawn(iso, host_dirs[1], ["tests", str(tests_sock.fileno()), str(verdict_w)],
                                  tests_meta, (tests_sock.fileno(), verdict_w),
                                  _rlimits(iso, timeout_s, max(memory_mb, _TESTS_MEMORY_MB))))
        tests_sock.close()
        os.close(verdict_w)
        verdict_w = -1
        candidate, tester = procs
        timed_out = False
        try:
            await asyncio.wait_for(tester.proc.wait(), timeout_s)
        except TimeoutError:
            timed_out = True
        verdict = None if timed_out else _read_verdict(verdict_r)
        if verdict is not None and verdict.get("candidate_gone"):
            try:  # it closed the socket: let it finish dying, to see how it ended
                await asyncio.wait_for(candidate.proc.wait(), 5)
            except TimeoutError:
                pass
        for p in procs:
            _kill_tree(p.proc)
        for p in procs:
            await p.proc.wait()
        elapsed = time.monotonic() - started
        return _result(iso, verdict, timed_out, timeout_s, elapsed, candidate, tester)
    finally:
        cand_sock.close()
        tests_sock.close()
        for fd in (verdict_r, verdict_w):
            if fd >= 0:
                os.close(fd)
        for p in procs:
            if p.proc.returncode is None:
                _kill_tree(p.proc)
            p.out.close()
            p.err.close()


def _result(iso: _Isolation, verdict: dict | None, timed_out: bool, timeout_s: float, elapsed: float,
            candidate: _Proc, tester: _Proc) -> SandboxResult:
    stdout, stderr = _tail(candidate.out), _tail(candidate.err)
    tests_out = (_tail(tester.out) + _tail(tester.err)).strip()
    if tests_out:
        stderr = f"{stderr}\n[tests process]\n{tests_out}" if stderr else f"[tests process]\n{tests_out}"
    status: Status
    if timed_out:
        status, detail = "timeout", f"killed after {timeout_s:.1f} s"
    elif verdict is None:
        status, detail = "failed", f"the tests ended without a verdict (exit status {tester.proc.returncode})"
    else:
        status, detail = verdict["status"], verdict["detail"]
        if verdict.get("candidate_gone"):
            better = _why_gone(candidate.proc.returncode, iso.strong, stderr)
            status, detail = better if better else (status, f"{detail} (exit status {candidate.proc.returncode})")
    return SandboxResult(status, _clean_line(detail), elapsed, stdout, stderr)


def _remove_tree(path: str) -> None:
    """Remove a weak mode's work directory even if the code made parts of it unwritable."""

    def fix(func: object, target: str, _exc: object) -> None:
        try:
            os.chmod(os.path.dirname(target), 0o700)
            os.chmod(target, 0o700)
        except OSError:
            pass

    shutil.rmtree(path, onerror=fix)
    shutil.rmtree(path, ignore_errors=True)
