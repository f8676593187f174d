"""The unit-test sandbox: verdicts, limits and isolation, tested with hostile code.

Most tests run with bubblewrap, which they require (a missing or broken bwrap
FAILS them; see conftest.require_bwrap). The ``mode`` fixture reruns the
security-relevant ones under the opt-in weak modes (``unshare -n``, a plain
process) too; a weak mode this machine cannot provide is skipped, bubblewrap
never is.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import require_bwrap as require_bwrap_installed
from fourfold.judge import sandbox
from fourfold.judge.sandbox import SandboxResult, extract_code, run_python_tests, sandbox_description

REPO_TESTS = Path(__file__).resolve().parent
MODES = ("bwrap", "unshare", "none")


def run(code: str, tests: str = "", **kwargs: object) -> SandboxResult:
    return asyncio.run(run_python_tests(code, tests, **kwargs))  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _default_isolation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from the automatic choice, whatever the shell had set."""
    monkeypatch.delenv(sandbox.FORCE_ENV, raising=False)


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Force one isolation level; skip where this machine does not have it."""
    wanted: str = request.param
    monkeypatch.setenv(sandbox.FORCE_ENV, wanted)
    if wanted == "bwrap":
        require_bwrap()
    elif sandbox.sandbox_kind() != wanted:
        pytest.skip(f"the weak {wanted} mode does not work on this machine")
    return wanted


def require_bwrap() -> None:
    """bubblewrap must be installed and must be what the sandbox uses: a failure, never a skip."""
    require_bwrap_installed()
    assert sandbox.sandbox_kind().startswith("bwrap"), sandbox.sandbox_description()


def processes_with(marker: str) -> list[int]:
    """Live processes whose command line or name (comm) contains ``marker`` (zombies have none)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes() + Path(f"/proc/{entry}/comm").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(int(entry))
    return found


def assert_no_processes_with(marker: str) -> None:
    deadline = time.monotonic() + 30  # the namespace dies asynchronously: a generous margin, not a speed test
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with(marker) == [], f"processes with {marker!r} survived the sandbox"


# --------------------------------------------------------------------------
# Verdicts

ADD = "def add(a, b):\n    return a + b\n"
ADD_TESTS = "assert add(1, 2) == 3\nassert add(-1, 1) == 0\n"


def test_passing_solution() -> None:
    result = run(ADD, ADD_TESTS)
    assert result.status == "passed", result
    assert result.passed
    assert result.duration_s > 0


def test_failing_assert_names_the_test_line() -> None:
    result = run("def add(a, b):\n    return a - b\n", ADD_TESTS)
    assert result.status == "failed"
    assert not result.passed
    assert result.detail == "AssertionError at tests line 1: assert add(1, 2) == 3"


def test_exception_in_code_names_code_and_test_lines() -> None:
    code = "def add(a, b):\n    x = 1\n    return a / 0\n"
    result = run(code, "y = 2\nassert add(1, 2) == 3\n")
    assert result.status == "failed"
    assert result.detail == ("ZeroDivisionError: division by zero at code line 3: return a / 0 "
                             "(from tests line 2: assert add(1, 2) == 3)")


def test_syntax_error_in_code() -> None:
    result = run("def add(a, b:\n    return a + b\n", ADD_TESTS)
    assert result.status == "failed"
    assert result.detail.startswith("syntax error in code line 1")


def test_broken_tests_are_an_error_not_the_models_fault() -> None:
    result = run(ADD, "assert add(1, 2) ==\n")
    assert result.status == "error"
    assert "tests line 1" in result.detail


HUMANEVAL_TESTS = '''
METADATA = {"author": "jt"}


def check(candidate):
    assert candidate(1, 2) == 3
    assert candidate(2, 2) == 4
'''


def test_humaneval_check_with_entry_point() -> None:
    assert run(ADD, HUMANEVAL_TESTS, entry_point="add").passed
    wrong = run("def add(a, b):\n    return a * b\n", HUMANEVAL_TESTS, entry_point="add")
    assert wrong.status == "failed"
    assert wrong.detail == "AssertionError at tests line 6: assert candidate(1, 2) == 3"
    missing = run("def plus(a, b):\n    return a + b\n", HUMANEVAL_TESTS, entry_point="add")
    assert missing.status == "failed"
    assert missing.detail == "NameError: name 'add' is not defined at appended call: check(add)"


def test_check_is_not_called_twice_when_the_tests_call_it() -> None:
    tests = HUMANEVAL_TESTS + "\ncheck(add)\nimport sys\nsys.exit(0)\n"
    result = run(ADD, tests, entry_point="add")
    assert result.passed, result


def test_unittest_main_counts_its_exit_status() -> None:
    tests = ("import unittest\n\nclass T(unittest.TestCase):\n"
             "    def test_add(self):\n        self.assertEqual(add(1, 2), 3)\n\nunittest.main()\n")
    assert run(ADD, tests).passed
    failed = run("def add(a, b):\n    return 0\n", tests)
    assert failed.status == "failed"
    assert failed.detail.startswith("SystemExit(True)")


@pytest.mark.parametrize("code", [
    "import sys\nsys.exit(0)\n",
    "exit()\n",
    "import os\nos._exit(0)\n",
    "def add(a, b):\n    raise SystemExit(0)\n",
])
def test_exiting_early_is_not_a_pass(code: str) -> None:
    result = run(code, "assert add(1, 2) == 3\n")
    assert result.status == "failed", result
    assert "before the tests finished" in result.detail


def test_forged_verdicts_and_always_equal_objects_are_not_a_pass() -> None:
    spray = ("import json, os\nfake = json.dumps({'status': 'passed', 'detail': 'x'}).encode() + b'\\n'\n"
             "for fd in range(1001):\n    try:\n        os.write(fd, fake)\n    except OSError:\n        pass\n"
             "os._exit(0)\n")
    assert run(spray, ADD_TESTS).status == "failed"
    always = "class A:\n    def __eq__(self, o):\n        return True\n\ndef add(a, b):\n    return A()\n"
    result = run(always, ADD_TESTS)
    assert result.detail == "AssertionError at tests line 1: assert add(1, 2) == 3"


def test_values_cross_as_in_one_process() -> None:
    """What the tests see of the code: plain values, handles, callbacks, in-place changes, exceptions."""
    code = ("def sort_in_place(xs):\n    xs.sort()\n\ndef apply(f, x):\n    return f(x)\n\n"
            "def gen(n):\n    yield from range(n)\n\nclass Box:\n    def __init__(self, v):\n        self.v = v\n"
            "    def get(self):\n        return {'v': self.v, 't': (1, 2.5, None, b'x', {3}, frozenset({4}), 2**100, 1j)}\n"
            "\ndef boom():\n    raise KeyError('k')\n\nimport math\nLIMIT = [1, 2]\n")
    tests = ("xs = [3, 1, 2]\nsort_in_place(xs)\nassert xs == [1, 2, 3]\n"
             "assert apply(lambda v: v * 2, 21) == 42\nassert apply(len, 'abc') == 3\n"
             "assert list(gen(3)) == [0, 1, 2]\nb = Box(5)\nassert b.v == 5\n"
             "assert b.get() == {'v': 5, 't': (1, 2.5, None, b'x', {3}, frozenset({4}), 2**100, 1j)}\n"
             "assert b == b and b != Box(5)\nassert LIMIT == [1, 2] and math.isclose(math.pi, 3.14159, rel_tol=1e-5)\n"
             "try:\n    boom()\nexcept KeyError:\n    pass\nelse:\n    raise AssertionError('no KeyError')\n")
    assert run(code, tests).passed


# --------------------------------------------------------------------------
# Limits

def test_infinite_loop_times_out() -> None:
    started = time.monotonic()
    result = run("while True:\n    pass\n", ADD_TESTS, timeout_s=2)
    assert result.status == "timeout"
    assert result.detail == "killed after 2.0 s"
    assert time.monotonic() - started < 60  # a generous margin: it is killed, not waited out


@pytest.mark.parametrize("code", [
    "x = bytearray(10 * 1024**3)\n",
    "x = []\nwhile True:\n    x.append(' ' * 10**6)\n",
    "def grow():\n    x = []\n    while True:\n        x.append(bytearray(10**6))\ngrow()\n",
])
def test_huge_allocation_is_a_memory_failure(code: str) -> None:
    result = run(code, ADD_TESTS, memory_mb=256, timeout_s=10)
    assert result.status == "memory", result
    assert "MemoryError" in result.detail
    assert run(ADD, ADD_TESTS).passed  # and the judge is fine afterwards


def test_output_is_truncated_and_sanitised() -> None:
    code = "print('\\x1b[31m' + 'x' * 100_000)\nimport sys\nprint('boom\\x07', file=sys.stderr)\n"
    result = run(code, "")
    assert result.passed
    assert len(result.stdout) < 2200
    assert "bytes in all" in result.stdout
    assert "\x1b" not in result.stdout and "\x07" not in result.stderr
    assert result.stdout.rstrip().endswith("x")


def test_work_directory_is_private_or_removed(mode: str) -> None:
    code = ("import os\nprint('CWD=' + os.getcwd())\nopen('junk.txt', 'w').write('x')\nos.mkdir('d')\n"
            "open('d/x', 'w').write('x')\nos.chmod('d', 0o500)\n")
    result = run(code, "")
    assert result.passed, result
    workdir = result.stdout.split("CWD=")[1].split()[0]
    if mode == "bwrap":  # a tmpfs inside the sandbox: nothing of it on the host
        assert workdir == sandbox._isolation().workdir
        assert not os.path.exists(os.path.join(workdir, "junk.txt"))
        return
    assert not os.path.exists(workdir)
    timeout = run("import os\nprint('CWD=' + os.getcwd(), flush=True)\nwhile True: pass\n", "", timeout_s=1)
    assert timeout.status == "timeout"
    assert not os.path.exists(timeout.stdout.split("CWD=")[1].split()[0])


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError):
        run(ADD, ADD_TESTS, timeout_s=0)
    with pytest.raises(ValueError):
        run(ADD, ADD_TESTS, entry_point="add); import os; os.system('x'")


# --------------------------------------------------------------------------
# Isolation

@pytest.fixture
def outside_paths() -> Iterator[list[Path]]:
    """Paths the code must not create: in the host's /tmp and in the repository."""
    tag = secrets.token_hex(6)
    paths = [Path(f"/tmp/fourfold_pwned_{tag}"), REPO_TESTS / f"fourfold_pwned_{tag}"]
    yield paths
    for path in paths:
        path.unlink(missing_ok=True)


def test_cannot_write_outside_its_directory(mode: str, outside_paths: list[Path]) -> None:
    for path in outside_paths:
        for code in (f"open({str(path)!r}, 'w').write('pwned')\n",
                     f"import os\nos.symlink({str(path.parent)!r}, 'link')\n"
                     f"open('link/{path.name}', 'w').write('pwned')\n"):
            result = run(code, "")
            if mode != "bwrap":  # bwrap: /tmp is the sandbox's own; the repository is not there at all
                assert not result.passed, (mode, code, result)
            assert not path.exists(), (mode, code)


def test_child_programs_cannot_write_outside_either(outside_paths: list[Path]) -> None:
    require_bwrap()  # the audit hook does not see child processes: this is the filesystem wall
    for path in outside_paths:
        code = f"import subprocess\nsubprocess.run(['sh', '-c', 'echo pwned > {path}'], check=True)\n"
        run(code, "")  # /tmp is the sandbox's own tmpfs; the repository is not in the sandbox
        assert not path.exists()


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


def assert_no_connection(server: socket.socket) -> None:
    with pytest.raises(BlockingIOError):
        conn, _ = server.accept()
        conn.close()


CONNECT = "import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=3)\ns.sendall(b'pwned')\n"
CONNECT_RAW = ("import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
               "s.connect(('127.0.0.1', {port}))\n")


def test_cannot_connect_to_localhost(mode: str, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    for template in (CONNECT, CONNECT_RAW):
        result = run(template.format(port=port), "")
        assert not result.passed, (mode, result)
    assert_no_connection(listener)


def test_child_programs_cannot_connect_either(listener: socket.socket) -> None:
    require_bwrap()  # a child process has no audit hook: this is the network namespace
    port = listener.getsockname()[1]
    code = ("import subprocess, sys\n"
            f"subprocess.run([sys.executable, '-c', {CONNECT_RAW.format(port=port)!r}], check=True)\n")
    result = run(code, "")
    assert not result.passed, result
    assert "Connection refused" in result.stderr or "Network is unreachable" in result.stderr
    assert_no_connection(listener)


def test_secrets_in_the_environment_do_not_leak(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-test")
    code = ("import os\nprint(dict(os.environ))\n"
            "for pid in (os.getppid(), 1):\n"
            "    try:\n        print(open(f'/proc/{pid}/environ', 'rb').read())\n"
            "    except OSError as e:\n        print('blocked', e)\n")
    result = run(code, "")
    assert result.passed, result
    assert "PATH" in result.stdout and "HOME" in result.stdout
    assert "sk-secret-test" not in result.stdout + result.stderr
    assert "OPENAI_API_KEY" not in result.stdout


def test_forked_child_is_killed_on_timeout(mode: str) -> None:
    marker = f"ff{secrets.token_hex(6)}"  # the fork names itself (comm, 15 bytes at most)
    code = ("import ctypes, os, time\n"
            "if os.fork() == 0:\n"
            f"    ctypes.CDLL(None).prctl(15, {marker.encode()!r}, 0, 0, 0)\n"
            "    while True:\n        time.sleep(1)\n"
            "print('CHILD_UP', flush=True)\ntime.sleep(1000)\n")
    result = run(code, "", timeout_s=2)
    assert result.status == "timeout"
    assert "CHILD_UP" in result.stdout
    assert_no_processes_with(marker)


@pytest.mark.parametrize("escape", [False, True], ids=["same-group", "setsid"])
def test_exec_child_with_marker_is_killed(escape: bool) -> None:
    require_bwrap()  # outside bwrap, starting programs is refused outright
    marker = f"fourfold-marker-{secrets.token_hex(6)}"
    code = (
        "import os, sys, time\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        + ("    os.setsid()\n" if escape else "")
        + f"    os.execv(sys.executable, [sys.executable, '-c', 'import time\\nwhile True: time.sleep(1)', {marker!r}])\n"
        "while {marker!r} not in open(f'/proc/{{pid}}/cmdline').read():\n".format(marker=marker)
        + "    time.sleep(0.01)\n"
        "print('CHILD_UP', flush=True)\n"
        "time.sleep(1000)\n"
    )
    result = run(code, "", timeout_s=2)
    assert result.status == "timeout", result
    assert "CHILD_UP" in result.stdout
    assert_no_processes_with(marker)


def test_child_left_behind_by_a_passing_run_is_killed() -> None:
    require_bwrap()
    marker = f"fourfold-marker-{secrets.token_hex(6)}"
    code = ("import subprocess, sys\n"
            f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(1000)', {marker!r}],"
            " start_new_session=True)\n")
    result = run(code, "")
    assert result.passed, result
    assert_no_processes_with(marker)


def test_fallbacks_refuse_to_start_programs(mode: str) -> None:
    result = run("import os\nos.system('true')\n", "")
    if mode == "bwrap":
        assert result.passed, result
    else:
        assert result.status == "failed"
        assert "starting programs" in result.detail


def test_basic_verdicts_in_every_mode(mode: str) -> None:
    assert run(ADD, ADD_TESTS).passed
    assert run("def add(a, b):\n    return 0\n", ADD_TESTS).status == "failed"
    assert run("while True:\n    pass\n", "", timeout_s=1).status == "timeout"
    assert run("x = bytearray(10 * 1024**3)\n", "").status == "memory"


def test_legitimate_code_still_works_under_the_guard() -> None:
    code = '''
import asyncio, json, logging, multiprocessing, os, shutil, subprocess, tempfile, threading

def square(x):
    return x * x

def work():
    d = tempfile.mkdtemp()
    with open(os.path.join(d, "a.json"), "w") as f:
        json.dump({"a": 1}, f)
    os.rename(os.path.join(d, "a.json"), os.path.join(d, "b.json"))
    shutil.rmtree(d)
    with tempfile.TemporaryDirectory() as t:
        open(os.path.join(t, "x"), "w").write("y")
    logging.getLogger("x").warning("hello")
    asyncio.run(asyncio.sleep(0))
    with multiprocessing.Pool(2) as pool:
        assert pool.map(square, [1, 2, 3]) == [1, 4, 9]
    t = threading.Thread(target=square, args=(2,))
    t.start(); t.join()
    return True
'''
    assert run(code, "assert work()\n").passed


def test_description_names_the_isolation() -> None:
    require_bwrap()
    assert "bubblewrap" in sandbox_description()
    assert sandbox.sandbox_kind() == ("bwrap-root" if os.geteuid() == 0 else "bwrap-user")


def test_forced_bwrap_never_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sandbox.FORCE_ENV, "bwrap")
    monkeypatch.setattr(sandbox, "_BWRAP", "/nonexistent/bwrap")
    monkeypatch.setattr(sandbox, "_cache", {})
    sandbox.allow_weak_sandbox(True)
    try:
        assert sandbox.sandbox_kind() == "unavailable"
        assert "FOURFOLD_SANDBOX=bwrap but bubblewrap does not work" in sandbox_description()
        result = run(ADD, ADD_TESTS)
        assert result.status == "error" and "FOURFOLD_SANDBOX=bwrap" in result.detail
    finally:
        sandbox.allow_weak_sandbox(False)


def test_without_bwrap_unit_tests_are_unjudged_unless_opted_in(monkeypatch: pytest.MonkeyPatch) -> None:
    from fourfold.cases.schema import UnitTestsRef
    from fourfold.judge import judge_unit_tests

    monkeypatch.setattr(sandbox, "_BWRAP", "/nonexistent/bwrap")
    monkeypatch.setattr(sandbox, "_cache", {})
    ref = UnitTestsRef(tests=ADD_TESTS, entry_point="add")
    verdict = asyncio.run(judge_unit_tests(ref, ADD))
    assert verdict.verdict == "unjudged"
    assert "no strong sandbox" in verdict.rationale and "--allow-weak-sandbox" in verdict.rationale
    sandbox.allow_weak_sandbox(True)
    try:
        assert sandbox.sandbox_kind() in ("unshare", "none")
        assert "WEAK" in sandbox_description()
        assert asyncio.run(judge_unit_tests(ref, ADD)).verdict == "good"
    finally:
        sandbox.allow_weak_sandbox(False)


def test_interpreter_in_a_venv_under_tmp(tmp_path: Path) -> None:
    """The strong mode works with the interpreter wherever it lives: here a venv in /tmp."""
    require_bwrap()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    script = ("import asyncio, sys\nfrom fourfold.judge import sandbox\n"
              "print(sys.prefix)\nprint(sandbox.sandbox_kind())\n"
              f"ok = asyncio.run(sandbox.run_python_tests({ADD!r}, {ADD_TESTS!r}))\n"
              f"bad = asyncio.run(sandbox.run_python_tests('def add(a, b):\\n    return 0\\n', {ADD_TESTS!r}))\n"
              "print(ok.status, bad.status, bad.detail)\n")
    env = {**os.environ, sandbox.FORCE_ENV: "bwrap"}
    proc = subprocess.run([str(venv / "bin" / "python"), "-c", script], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    prefix, kind, verdicts = proc.stdout.splitlines()[:3]
    assert prefix == str(venv)
    assert kind.startswith("bwrap")
    assert verdicts == "passed failed AssertionError at tests line 1: assert add(1, 2) == 3"


# --------------------------------------------------------------------------
# extract_code

def test_extract_code_joins_python_blocks() -> None:
    response = ("Here is a helper:\n\n```python\ndef a():\n    return 1\n```\n\nRun it like so:\n\n"
                "```bash\npython x.py\n```\n\nand the main part:\n```py\ndef b():\n    return a()\n```\n")
    assert extract_code(response) == "def a():\n    return 1\n\ndef b():\n    return a()\n"


def test_extract_code_untagged_and_unfenced() -> None:
    assert extract_code("Sure.\n```\nx = 1\n```\nDone.") == "x = 1\n"
    assert extract_code("```python\ny = 2\n```\n```\nx = 1\n```") == "y = 2\n"
    bare = "def f():\n    return 1\n"
    assert extract_code(bare) == bare


def test_extract_code_unclosed_fence_runs_to_the_end() -> None:
    assert extract_code("```python\ndef f():\n    return 1") == "def f():\n    return 1\n"


def test_extract_code_keeps_inner_backticks() -> None:
    response = '````python\ns = """\n```\n"""\n````\n'
    assert extract_code(response) == 's = """\n```\n"""\n'
