"""Run model-written Python against unit tests, treating the code as hostile.

The model's code and the case's tests are joined into one file and run by a
small *driver* script in a separate ``python3 -I`` process. The layers, from
strongest to weakest:

1. **bubblewrap** (``bwrap``), where it works: no network (own, empty network
   namespace), the whole filesystem read-only except a fresh work directory,
   a private read-only ``/tmp`` and ``/run``, the home directories and the
   judge's working directory hidden (they hold API keys and tokens; a verdict's
   output is shown in the report, so anything the code can read it can
   publish), its own PID namespace (killing the sandbox kills every process
   in it, even ones that called ``setsid``), and all capabilities dropped.
   Where bwrap does not work we fall back to ``unshare -n`` (network only, as
   root), and last to a plain process. :func:`sandbox_description` says which.
2. **rlimits** set in the child before ``exec``: address space (``memory_mb``),
   CPU seconds, file size, core dumps, process count.
3. **The driver** installs a ``sys.addaudithook`` hook before the model's code
   runs: no internet sockets or name lookups, no writes outside the work
   directory, no peeking at other processes' ``/proc`` files, and outside
   bwrap no starting of new programs. It is defence in depth only: ``ctypes``
   or a child process are not audited, which is why bwrap is the real wall.
4. **A minimal environment**: only ``PATH``, ``LANG``, ``HOME`` and ``TMPDIR``
   (the last two point at the work directory) reach the child, never the
   judge's secrets such as ``OPENAI_API_KEY``.

Why a driver and not just ``python3 solution.py``: "exit status 0" is not
proof that the tests ran; ``sys.exit(0)`` or ``os._exit(0)`` at the top of the
model's code would pass. The driver executes the file itself and, only when it
ran to the end, writes a verdict carrying a random token (which it read from
stdin, so the token is not in any file the code can read) to a pipe that is
not stdout. No verdict with the right token, no pass. It also lets the detail
name the failing line *of the model's code or of the tests* rather than of a
generated file. This is not proof against code that inspects the driver's own
frames to steal the token; it stops the accidental and the lazy exploits, and
the sandbox keeps the deliberate ones harmless.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import resource
import secrets
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import IO, Literal

__all__ = ["SandboxResult", "Status", "extract_code", "run_python_tests", "sandbox_description"]

Status = Literal["passed", "failed", "timeout", "memory", "error"]

#: Environment variable that forces an isolation level ("bwrap", "unshare" or
#: "none"); the others are still tried after it if it does not work. Meant for
#: tests and for hosts where a probe misjudges.
FORCE_ENV = "FOURFOLD_SANDBOX"

_BWRAP = "/usr/bin/bwrap"
_OUTPUT_CHARS = 2000  # how much of stdout / stderr a result keeps (the tail)
_DETAIL_CHARS = 300
_FSIZE_BYTES = 16 * 1024 * 1024
_NPROC = 256
_REPORT_MAX = 64 * 1024
_MEMORY_HINTS = ("MemoryError", "Cannot allocate memory", "out of memory", "std::bad_alloc")
_DRIVER_NAME = "_fourfold_driver.py"
_SOURCE_NAME = "solution.py"
# Directories never hidden: hiding them would hide the interpreter or the OS.
_SYSTEM_DIRS = frozenset({
    "/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/media", "/mnt",
    "/opt", "/proc", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var",
})


@dataclass(frozen=True)
class SandboxResult:
    """The outcome of one sandboxed run.

    ``detail`` is a single printable line meant for a report reader, e.g.
    ``"AssertionError at tests line 3: assert add(1, 2) == 3"`` or
    ``"killed after 10.0 s"``. ``stdout`` and ``stderr`` are the sanitised
    tails of the child's output, kept for debugging; they are hostile text.
    """

    status: Status
    detail: str
    duration_s: float
    stdout: str = field(default="", repr=False)
    stderr: str = field(default="", repr=False)

    @property
    def passed(self) -> bool:
        """True only when the driver confirmed that every test ran and passed."""
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
    """An isolation level that passed its probe, and how to wrap a command in it."""

    kind: Literal["bwrap", "unshare", "none"]
    description: str
    hide: tuple[str, ...] = ()  # bwrap: directories replaced by an empty read-only tmpfs
    keep: tuple[str, ...] = ()  # bwrap: paths under ``hide`` bound back read-only (the interpreter)

    @property
    def wraps(self) -> bool:
        """Whether the child is a wrapper that reports a signal death as 128+N."""
        return self.kind == "bwrap"

    @property
    def allow_exec(self) -> bool:
        """Whether the code may start other programs: only where nothing it starts can escape."""
        return self.kind == "bwrap"

    def prefix(self, workdir: str) -> list[str]:
        """The argv that goes before ``python3`` to run it isolated in ``workdir``."""
        if self.kind == "unshare":
            return ["unshare", "--net", "--"]
        if self.kind == "none":
            return []
        argv = [
            _BWRAP, "--unshare-all", "--die-with-parent", "--cap-drop", "ALL",
            "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
        ]
        for path in self.hide:
            argv += ["--tmpfs", path]
        for path in self.keep:
            argv += ["--ro-bind", path, path]
        argv += ["--bind", workdir, workdir]
        for path in ("/tmp", *self.hide):
            argv += ["--remount-ro", path]
        return [*argv, "--chdir", workdir]


def _is_under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _hidden_dirs() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Which directories bwrap hides, and which interpreter paths it binds back.

    Hidden: home directories, ``/run`` (sockets such as docker's, and mounted
    secrets) and the judge's working directory (``.env`` files). The
    interpreter may live under one of them (pyenv in ``/root``, a venv in the
    project), so its prefixes and site-packages are bound back read-only.
    """
    candidates = ["/root", "/home", "/run", os.path.expanduser("~")]
    try:
        candidates.append(os.getcwd())
    except OSError:
        pass
    hide: list[str] = []
    for raw in candidates:
        path = os.path.realpath(raw)
        if not os.path.isdir(path) or path in _SYSTEM_DIRS or _is_under(path, "/tmp"):
            continue
        if any(_is_under(system, path) for system in _SYSTEM_DIRS if system != "/"):
            continue
        hide.append(path)
    hide = sorted(set(hide))
    hide = [p for p in hide if not any(q != p and _is_under(p, q) for q in hide)]
    needed = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
              os.path.dirname(sys.executable), *site.getsitepackages()}
    keep: set[str] = set()
    for raw in needed:
        for path in {os.path.abspath(raw), os.path.realpath(raw)}:
            if os.path.exists(path) and any(_is_under(path, h) for h in hide):
                keep.add(path)
    keep_sorted = sorted(keep)
    keep_sorted = [p for p in keep_sorted if not any(q != p and _is_under(p, q) for q in keep_sorted)]
    return tuple(hide), tuple(keep_sorted)


def _probe(iso: _Isolation) -> bool:
    """Run a trivial interpreter through ``iso`` and see that it works.

    A probe, not a version check, because bwrap and unshare fail for reasons
    that only show when tried (no user namespaces, seccomp in a container,
    missing mount points).
    """
    workdir = tempfile.mkdtemp(prefix="fourfold-probe-")
    try:
        argv = [*iso.prefix(workdir), sys.executable, "-I", "-c", "import os; print('ok', os.getcwd())"]
        proc = subprocess.run(argv, cwd=workdir, env=_child_env(workdir), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=20)
        return proc.returncode == 0 and proc.stdout.split() == ["ok", workdir]
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _candidates(forced: str) -> list[_Isolation]:
    """Isolation levels to try in order: the forced one first, then strongest first."""
    found: list[_Isolation] = []
    if os.access(_BWRAP, os.X_OK):
        hide, keep = _hidden_dirs()
        shown = ", ".join(hide) or "nothing"
        found.append(_Isolation(
            "bwrap",
            "bubblewrap (no network; filesystem read-only except a private work dir; private read-only /tmp; "
            f"hidden: {shown}; own PID namespace; no capabilities) + rlimits + audit hook",
            hide, keep))
        if hide:
            found.append(_Isolation(
                "bwrap",
                "bubblewrap (no network; filesystem read-only except a private work dir; private read-only /tmp; "
                "own PID namespace; no capabilities; hiding home directories failed) + rlimits + audit hook"))
    if os.geteuid() == 0 and shutil.which("unshare"):
        found.append(_Isolation(
            "unshare",
            "unshare -n (no network; filesystem NOT read-only, guarded only by the audit hook; "
            "no starting of programs) + rlimits + audit hook"))
    found.append(_Isolation(
        "none",
        "plain process + rlimits + audit hook (WEAK: no namespaces; network and filesystem guarded only "
        "by the audit hook; no starting of programs)"))
    return sorted(found, key=lambda iso: iso.kind != forced)


_cache: dict[str, _Isolation] = {}
_cache_lock = threading.Lock()


def _isolation() -> _Isolation:
    """The strongest isolation that works here, probed once per forced mode and cached."""
    forced = os.environ.get(FORCE_ENV, "").strip().lower()
    with _cache_lock:
        cached = _cache.get(forced)
        if cached is not None:
            return cached
        for iso in _candidates(forced):
            if iso.kind == "none" or _probe(iso):
                _cache[forced] = iso
                return iso
    raise AssertionError("unreachable: the plain process always qualifies")


def sandbox_description() -> str:
    """Say what isolation the sandbox uses on this machine, for logs and the report.

    Probes on first use (a fraction of a second), then answers from the cache.
    """
    return _isolation().description


# --------------------------------------------------------------------------
# The driver: runs inside the sandbox

_DRIVER = r'''
"""fourfold sandbox driver. Runs the joined code + tests file and reports a
verdict with a token to a private pipe; see fourfold.judge.sandbox."""
import builtins, json, os, re, sys, types


def _main():
    report_fd = int(sys.argv[1])
    meta = json.loads(sys.argv[2])
    write, exit_, dumps = os.write, os._exit, json.dumps
    token = sys.stdin.readline().strip()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.stdin = sys.__stdin__ = open(0, closefd=False)
    sys.dont_write_bytecode = True
    ballast = [bytearray(2 * 1024 * 1024)]  # freed to report a MemoryError

    src, root = meta["src"], os.path.realpath(meta["root"])
    tests_start, harness_start = meta["tests_start"], meta["harness_start"]
    with open(src, encoding="utf-8", newline="") as f:
        text = f.read()
    lines = [line.rstrip("\r") for line in text.split("\n")]

    def clean(value, limit=200):
        value = re.sub(r"\s+", " ", value).strip()
        value = "".join(ch if ch.isprintable() else "?" for ch in value)
        return value if len(value) <= limit else value[: limit - 1] + "\u2026"

    def region(lineno):
        if lineno < tests_start:
            return "code", "code line %d" % lineno
        if harness_start and lineno >= harness_start:
            return "harness", "appended call"
        return "tests", "tests line %d" % (lineno - tests_start + 1)

    def place(lineno):
        source = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
        where = region(lineno)[1]
        return "%s: %s" % (where, clean(source, 120)) if source.strip() else where

    def report(status, detail):
        ballast.clear()
        for stream in (sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except BaseException:
                pass
        message = dumps({"token": token, "status": status, "detail": clean(detail, 400)})
        write(report_fd, (message + "\n").encode("ascii", "replace"))
        exit_(0)

    # Compile the model's code alone first, so a syntax error is blamed on it.
    try:
        compile(text[: meta["code_chars"]], src, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        lineno = getattr(exc, "lineno", None) or 0
        report("failed", "syntax error in code line %d: %s" % (lineno, getattr(exc, "msg", exc)))
    except MemoryError:
        report("memory", "MemoryError while compiling the code")
    except RecursionError:
        report("failed", "syntax error: code too deeply nested to compile")
    try:
        program = compile(text, src, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        lineno = getattr(exc, "lineno", None) or 0
        report("error", "tests do not compile with this code (%s): %s"
               % (region(lineno)[1], getattr(exc, "msg", exc)))
    except (MemoryError, RecursionError) as exc:
        report("error", "tests do not compile with this code: %s" % type(exc).__name__)

    _install_guard(root, meta["allow_exec"])
    module = types.ModuleType("__main__")
    module.__file__ = src
    module.__builtins__ = builtins
    sys.modules["__main__"] = module
    sys.argv = [src]
    try:
        exec(program, module.__dict__)
    except BaseException as exc:  # noqa: BLE001 - everything is a verdict here
        ballast.clear()
        ours, tb = [], exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == src:
                ours.append(tb.tb_lineno)
            tb = tb.tb_next
        tb = None
        exc.__traceback__ = None
        is_memory = isinstance(exc, MemoryError)
        if is_memory:
            module.__dict__.clear()
        inner = ours[-1] if ours else 0
        callers = [n for n in ours if region(n)[0] != "code"]
        where = place(inner) if inner else "unknown line"
        if inner and region(inner)[0] == "code" and callers:
            where += " (from %s)" % place(callers[-1])
        if isinstance(exc, SystemExit):
            code = exc.code
            if code is None or (type(code) in (int, bool) and code == 0):
                if inner and region(inner)[0] != "code":
                    report("passed", "tests ran and exited with status 0 at " + where)
                report("failed", "the code exited before the tests finished, at " + where)
            try:
                shown = clean(repr(code), 80)
            except BaseException:
                shown = "?"
            report("failed", "SystemExit(%s) at %s" % (shown, where))
        try:
            message = str(exc)
        except BaseException:
            message = "<unprintable message>"
        if not isinstance(message, str):
            message = "<unprintable message>"
        message = clean(message.split("\n")[0] if message else "", 150)
        name = clean(type(exc).__name__, 60)
        head = name + (": " + message if message else "")
        report("memory" if is_memory else "failed", "%s at %s" % (head, where))
    report("passed", "all tests passed")


def _install_guard(root, allow_exec):
    """Audit hook: defence in depth against writes, the network and snooping."""
    import socket

    net_families = {socket.AF_INET, socket.AF_INET6}
    for name in ("AF_PACKET", "AF_NETLINK"):
        if hasattr(socket, name):
            net_families.add(getattr(socket, name))
    unix = getattr(socket, "AF_UNIX", None)
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
    devices = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/full", "/dev/zero"})
    proc_pid = re.compile(r"/proc/(\d+)(/|$)")
    own_pid = str(os.getpid())
    realpath, join, isabs, fsdecode = os.path.realpath, os.path.join, os.path.isabs, os.fsdecode
    getcwd, readlink, getpid = os.getcwd, os.readlink, os.getpid
    prefix = root.rstrip("/") + "/"

    def resolve(path, dir_fd=None):
        if isinstance(path, int):
            return None
        p = fsdecode(path)
        if p in devices:
            return p
        if not isabs(p):
            # dir_fd is None or -1 (or AT_FDCWD) when not given, depending on the event
            relative_to_fd = isinstance(dir_fd, int) and dir_fd >= 0
            base = readlink("/proc/self/fd/%d" % dir_fd) if relative_to_fd else getcwd()
            p = join(base, p)
        return realpath(p)

    def inside(path, dir_fd=None):
        try:
            p = resolve(path, dir_fd)
        except Exception:
            return False
        return p is None or p in devices or p == root or p.startswith(prefix) or p.startswith("/dev/shm/")

    def deny(what):
        raise PermissionError("sandbox: %s is not allowed" % what)

    def check_write(path, dir_fd=None):
        if not inside(path, dir_fd):
            deny("writing outside the work directory (%r)" % (path,))

    def hook(event, args):
        if event not in watched:
            return
        if event == "open":
            path, mode, flags = args
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & write_flags)
            if writing:
                check_write(path)
            elif not isinstance(path, int):
                try:
                    p = resolve(path)
                except Exception:
                    return
                m = proc_pid.match(p or "") if not allow_exec else None  # bwrap: its /proc is its own
                if m and m.group(1) not in (own_pid, str(getpid())):
                    deny("reading another process's /proc files")
        elif event in ("os.remove", "os.rmdir"):
            check_write(args[0], args[1])
        elif event in ("os.mkdir", "os.chmod", "os.chown", "os.utime"):
            check_write(args[0], args[-1])
        elif event == "os.rename":
            check_write(args[0], args[2])
            check_write(args[1], args[3])
        elif event == "os.link":
            check_write(args[1], args[3])
        elif event == "os.symlink":
            check_write(args[1], args[2])
        elif event in ("os.truncate", "os.setxattr", "os.removexattr", "os.chflags", "os.lchflags"):
            check_write(args[0])
        elif event == "socket.__new__":
            if args[1] in net_families:
                deny("network access")
        elif event in ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"):
            sock, address = args[0], args[1] if len(args) > 1 else None
            family = getattr(sock, "family", None)
            if family == unix and address is None:
                return  # sendmsg on a connected socket (e.g. passing fds): no new destination
            if family == unix and isinstance(address, (str, bytes)) and address and address[:1] not in ("\0", b"\0"):
                if not inside(address):
                    deny("connecting to sockets outside the work directory")
            elif family == unix and event == "socket.bind" and not address:
                return
            else:
                deny("network access")
        elif event.startswith("socket."):
            deny("network access (%s)" % event)
        elif not allow_exec:
            deny("starting programs outside bubblewrap (%s)" % event)

    watched = {
        "open", "os.remove", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.utime", "os.rename",
        "os.link", "os.symlink", "os.truncate", "os.setxattr", "os.removexattr", "os.chflags",
        "os.lchflags", "socket.__new__", "socket.connect", "socket.bind", "socket.sendto",
        "socket.sendmsg", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
        "socket.getnameinfo", "socket.sethostname",
    }
    if not allow_exec:
        watched |= {"os.exec", "os.posix_spawn", "os.spawn", "os.system", "subprocess.Popen", "os.forkpty"}
    watched = frozenset(watched)
    sys.addaudithook(hook)


_main()
'''


# --------------------------------------------------------------------------
# Running

def _child_env(workdir: str) -> dict[str, str]:
    """The whole environment the child gets: nothing inherited, so no secrets.

    ``TMPDIR`` is the work directory so that ``tempfile`` works under the
    audit hook and the read-only ``/tmp``.
    """
    bindir = os.path.dirname(sys.executable)
    return {"PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
            "HOME": workdir, "TMPDIR": workdir}


def _rlimits(timeout_s: float, memory_mb: int) -> list[tuple[int, int, int]]:
    """The limits to set in the child, each capped at the current hard limit.

    CPU gets a second more than the wall clock, so a busy loop is normally
    caught by the wall clock; the CPU limit catches work spread over child
    processes that each stay under the wall clock (each has its own budget).
    RLIMIT_NPROC does not bind root; it is set anyway for non-root hosts.
    """
    cpu = math.ceil(timeout_s) + 1
    wanted = [
        (resource.RLIMIT_AS, memory_mb * 1024 * 1024, memory_mb * 1024 * 1024),
        (resource.RLIMIT_CPU, cpu, cpu + 2),
        (resource.RLIMIT_FSIZE, _FSIZE_BYTES, _FSIZE_BYTES),
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_NPROC, _NPROC, _NPROC),
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


def _assemble(code: str, tests: str, entry_point: str | None) -> tuple[str, int, int | None]:
    """Join code and tests; return the source, the tests' first line and the harness line.

    The ``check(entry_point)`` call is added HumanEval style when the tests
    define ``check`` but never call it.
    """
    source = code + "\n\n" + tests
    tests_start = code.count("\n") + 3
    harness_start: int | None = None
    if (entry_point and re.search(r"^def\s+check\s*\(", tests, re.M)
            and not re.search(r"^check\s*\(", tests, re.M)):
        source += ("" if source.endswith("\n") else "\n") + "\n"
        harness_start = source.count("\n") + 1
        source += f"check({entry_point})\n"
    return source, tests_start, harness_start


def _clean_line(text: str, limit: int = _DETAIL_CHARS) -> str:
    """One printable line: hostile output must not carry escapes into a terminal or a report."""
    text = re.sub(r"\s+", " ", text).strip()
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _tail(stream: IO[bytes]) -> str:
    """The last characters the child wrote, with control characters replaced."""
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    start = max(0, size - 4 * _OUTPUT_CHARS)
    stream.seek(start)
    text = stream.read().decode("utf-8", "replace")
    truncated = start > 0 or len(text) > _OUTPUT_CHARS
    text = text[-_OUTPUT_CHARS:]
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else "?" for ch in text)
    return f"[... {size} bytes in all, only the end kept ...]\n{text}" if truncated else text


def _read_reports(fd: int, token: str) -> list[tuple[str, str]]:
    """The verdicts on the report pipe that carry our token (a forked child may add its own)."""
    os.set_blocking(fd, False)
    data = b""
    while len(data) < _REPORT_MAX:
        try:
            chunk = os.read(fd, _REPORT_MAX)
        except BlockingIOError:
            break
        if not chunk:
            break
        data += chunk
    reports: list[tuple[str, str]] = []
    for line in data.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if (isinstance(item, dict) and item.get("token") == token
                and item.get("status") in ("passed", "failed", "memory", "error")
                and isinstance(item.get("detail"), str)):
            reports.append((item["status"], item["detail"]))
    return reports


def _kill_group(pid: int) -> None:
    """SIGKILL the child's whole process group (it is the group leader: start_new_session)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _signal_of(returncode: int, wraps: bool) -> int:
    """The signal that killed the child, or 0; bwrap reports a signal death as 128+N."""
    if returncode < 0:
        return -returncode
    if wraps and 128 < returncode < 128 + 65:
        return returncode - 128
    return 0


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _classify(*, reports: list[tuple[str, str]], timed_out: bool, returncode: int, wraps: bool,
              stderr: str, timeout_s: float, elapsed: float) -> tuple[Status, str]:
    """Turn what was observed into a status and a one-line detail.

    A verdict from the driver wins: it knows what happened. Several verdicts
    come from a forked copy of the driver; all of them must pass.
    """
    if reports:
        for status, detail in reports:
            if status != "passed":
                return status, detail  # type: ignore[return-value]
        return "passed", reports[0][1]
    if timed_out:
        return "timeout", f"killed after {timeout_s:.1f} s"
    sig = _signal_of(returncode, wraps)
    last = next((line for line in reversed(stderr.splitlines()) if line.strip()), "")
    if sig == signal.SIGXCPU:
        return "timeout", f"killed by the CPU-time limit after {elapsed:.1f} s"
    if any(hint in stderr for hint in _MEMORY_HINTS):
        return "memory", f"out of memory: {last}" if last else "out of memory"
    if sig == signal.SIGKILL:
        return "memory", "killed by SIGKILL (most likely out of memory)"
    if sig == signal.SIGXFSZ:
        return "failed", "killed for writing a file over the size limit"
    if sig:
        return "failed", f"crashed with {_signal_name(sig)}"
    if returncode == 0:
        return "failed", "the process exited with status 0 before the tests finished"
    tail = f": {last}" if last else ""
    return "failed", f"the process exited with status {returncode} before the tests finished{tail}"


async def run_python_tests(code: str, tests: str, *, entry_point: str | None = None,
                           timeout_s: float = 10.0, memory_mb: int = 512) -> SandboxResult:
    """Run ``code`` followed by ``tests`` in the sandbox and say whether the tests passed.

    Statuses: ``passed`` (the driver saw the file run to its end, or the tests
    exit with status 0), ``failed`` (an exception, a syntax error in the code,
    the code exiting early, a crash), ``timeout`` (wall clock or CPU limit),
    ``memory`` (MemoryError or killed for memory), ``error`` (the judge could
    not run the tests: broken tests, the sandbox itself failing).

    Never raises because of what the code does; raises ``ValueError`` only for
    a bad argument from the caller. The work directory is always removed, and
    every process the run started is killed when it ends (all of them, under
    bwrap; outside it, those still in its process group).
    """
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be positive, not {timeout_s!r}")
    if memory_mb <= 0:
        raise ValueError(f"memory_mb must be positive, not {memory_mb!r}")
    if entry_point is not None and not entry_point.isidentifier():
        raise ValueError(f"entry_point must be a Python identifier, not {entry_point!r}")
    started = time.monotonic()
    workdir: str | None = None
    try:
        iso = await asyncio.to_thread(_isolation)
        workdir = tempfile.mkdtemp(prefix="fourfold-sbx-")
        return await _run_in(workdir, iso, code, tests, entry_point, timeout_s, memory_mb)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the judge's own failure, reported as such
        detail = _clean_line(f"sandbox failure: {type(exc).__name__}: {exc}")
        return SandboxResult("error", detail, time.monotonic() - started)
    finally:
        if workdir is not None:
            _remove_tree(workdir)


async def _run_in(workdir: str, iso: _Isolation, code: str, tests: str, entry_point: str | None,
                  timeout_s: float, memory_mb: int) -> SandboxResult:
    """Write the files, run the driver in ``workdir`` under ``iso``, classify the outcome."""
    source, tests_start, harness_start = _assemble(code, tests, entry_point)
    src_path = os.path.join(workdir, _SOURCE_NAME)
    driver_path = os.path.join(workdir, _DRIVER_NAME)
    with open(src_path, "w", encoding="utf-8", errors="replace", newline="") as f:
        f.write(source)
    with open(driver_path, "w", encoding="utf-8") as f:
        f.write(_DRIVER)
    token = secrets.token_hex(16)
    meta = {"src": src_path, "root": workdir, "code_chars": len(code), "tests_start": tests_start,
            "harness_start": harness_start, "allow_exec": iso.allow_exec}
    limits = _rlimits(timeout_s, memory_mb)
    stdin_r, stdin_w = os.pipe()
    report_r, report_w = os.pipe()
    try:
        os.write(stdin_w, (token + "\n").encode())
        os.close(stdin_w)
        stdin_w = -1
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            argv = [*iso.prefix(workdir), sys.executable, "-I", driver_path, str(report_w), json.dumps(meta)]
            started = time.monotonic()
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=stdin_r, stdout=out, stderr=err, cwd=workdir, env=_child_env(workdir),
                preexec_fn=lambda: _apply_rlimits(limits), start_new_session=True,
                pass_fds=(report_w,), close_fds=True)
            os.close(report_w)
            report_w = -1
            timed_out = False
            try:
                await asyncio.wait_for(proc.wait(), timeout_s)
            except TimeoutError:
                timed_out = True
            finally:
                # Also after a normal exit: children left behind in the group die too.
                _kill_group(proc.pid)
                if proc.returncode is None:
                    try:
                        proc.kill()
                    except ProcessLookupError:
                        pass
            returncode = await proc.wait()
            elapsed = time.monotonic() - started
            stdout, stderr = _tail(out), _tail(err)
        reports = _read_reports(report_r, token)
    finally:
        for fd in (stdin_r, stdin_w, report_r, report_w):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
    status, detail = _classify(reports=reports, timed_out=timed_out, returncode=returncode, wraps=iso.wraps,
                               stderr=stderr, timeout_s=timeout_s, elapsed=elapsed)
    return SandboxResult(status, _clean_line(detail), elapsed, stdout, stderr)


def _remove_tree(path: str) -> None:
    """Remove the work directory even if the code made parts of it unwritable."""

    def fix(func: object, target: str, _exc: object) -> None:
        try:
            os.chmod(os.path.dirname(target), 0o700)
            os.chmod(target, 0o700)
        except OSError:
            pass

    shutil.rmtree(path, onerror=fix)
    shutil.rmtree(path, ignore_errors=True)
