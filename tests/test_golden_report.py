"""Golden outputs: the reports of a fixed store must not change by accident.

The store in ``tests/data/golden/`` (two replay models over 3 landscape cases per
cell; see ``make_store.py`` there) is rendered with ``fourfold report`` and
``fourfold report --json``; the outputs must equal the committed ones byte for
byte, apart from the generation timestamp. Embedded media (base64 data URLs)
are compared by their sha256 so that the expected HTML stays readable.

A deliberate change of the report regenerates them:
``FOURFOLD_GOLDEN_UPDATE=1 pytest tests/test_golden_report.py``, and the diff
of ``tests/data/golden/expected/`` goes into the same commit, for review.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import fourfold

GOLDEN = Path(__file__).parent / "data" / "golden"
EXPECTED = GOLDEN / "expected"
_STAMP = re.compile(r"generated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z+\-0-9]*")
_DATA_URL = re.compile(r"data:([a-z]+/[a-z0-9.+-]+);base64,([A-Za-z0-9+/=]+)")


def normalise(text: str) -> str:
    """Drop the timestamp; replace each embedded file by its type and sha256."""
    text = _STAMP.sub("generated <time>", text)
    return _DATA_URL.sub(lambda m: f"data:{m[1]};sha256,{hashlib.sha256(m[2].encode()).hexdigest()}", text)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    work = tmp_path_factory.mktemp("golden")
    store = work / "store.db"
    shutil.copyfile(GOLDEN / "store.db", store)
    out = work / "out"
    proc = fourfold("report", "--store", str(store), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    json_proc = fourfold("report", "--store", str(store), "--json")
    assert json_proc.returncode == 0, json_proc.stderr
    return {"report.md": normalise((out / "report.md").read_text()),
            "report.html": normalise((out / "report.html").read_text()),
            "report.json": json_proc.stdout}


@pytest.mark.parametrize("name", ["report.json", "report.md", "report.html"])
def test_report_is_byte_identical_to_the_golden_one(rendered: dict[str, str], name: str) -> None:
    actual = rendered[name]
    path = EXPECTED / name
    if os.environ.get("FOURFOLD_GOLDEN_UPDATE") == "1":
        EXPECTED.mkdir(exist_ok=True)
        path.write_text(actual)
    expected = path.read_text()
    if actual != expected:
        diff = "".join(list(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                                 f"expected/{name}", f"actual/{name}"))[:80])
        pytest.fail(f"{name} differs from the golden output:\n{diff}", pytrace=False)


def test_normalise_keeps_everything_but_the_stamp_and_media_bytes() -> None:
    a = normalise('generated 2026-12-02 06:51:46 UTC <img src="data:image/png;base64,AAAA">')
    b = normalise('generated 2027-01-01 00:00:00 UTC <img src="data:image/png;base64,AAAB">')
    assert a.startswith("generated <time> <img")
    assert a != b  # different media bytes are still a difference
