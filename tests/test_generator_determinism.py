"""Same seed, same bytes, for every registered generator (issue 7, section 7).

A case's identity hashes its media, so a generator that writes different bytes
for the same seed re-keys its cases and their results are redone. Each
generator writes one case (seed 7, the seed of the report) twice in this
process, which catches state carried from one call to the next (the H.264
encoder did that), and once in each of two fresh processes with different
PYTHONHASHSEED values, which catches iteration over sets of strings and
``hash()`` of a string.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

SEED = 7

#: Run here and in the subprocesses: {generator name: sha256 over its case file and media}.
DIGESTS = r'''
import hashlib, json, sys, tempfile
from pathlib import Path
from fourfold.cases.generators import generate, generators

def digests(seed):
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for g in generators():
            d = Path(tmp) / g.name
            generate(g.cell, 1, seed, d, only=[g.name])
            h = hashlib.sha256()
            for p in sorted(x for x in d.rglob("*") if x.is_file()):
                h.update(str(p.relative_to(d)).encode() + b"\0" + p.read_bytes())
            out[g.name] = h.hexdigest()
    return out
'''


def _digests_here() -> dict[str, str]:
    scope: dict[str, object] = {}
    exec(DIGESTS, scope)  # noqa: S102 -- our own source, shared with the subprocesses below
    return scope["digests"](SEED)  # type: ignore[operator]


def _digests_in_process(hash_seed: str) -> dict[str, str]:
    src = DIGESTS + f"\nprint(json.dumps(digests({SEED})))\n"
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    r = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True, env=env, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def first() -> dict[str, str]:
    return _digests_here()


def test_every_kind_of_generator_is_covered(first: dict[str, str]) -> None:
    from fourfold.cases.generators import generators

    modules = {g.fn.__module__.removeprefix("fourfold.cases.generators.").split(".")[0] for g in generators()}
    assert modules >= {"images", "text", "video"}
    assert set(first) == {g.name for g in generators()}
    cells = {g.cell.split("/")[0] for g in generators()}
    assert cells >= {"image", "text", "code", "video"}


def test_same_seed_same_bytes_in_one_process(first: dict[str, str]) -> None:
    again = _digests_here()
    assert [n for n in first if first[n] != again[n]] == []


@pytest.mark.parametrize("hash_seed", ["1", "2"])
def test_same_seed_same_bytes_across_processes(first: dict[str, str], hash_seed: str) -> None:
    other = _digests_in_process(hash_seed)
    assert [n for n in first if first[n] != other.get(n)] == []
