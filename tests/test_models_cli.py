"""``fourfold models`` says what each backend needs, and a model that cannot run
here (its extra missing, a GGUF llama.cpp will not load) is one line naming the
fix, exit 1, with nothing recorded."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path

import pytest

from conftest import fourfold
from fourfold.models import embedded_model_path

# A backend whose library is not installed. from_spec fails the test if reached:
# the extra is checked before a backend is built (by name, nothing imported).
PLUGIN = '''
from fourfold.models import BACKENDS, ModelBackend


class Needy(ModelBackend):
    syntax = "needy/NAME"
    description = "needs a library nobody has"
    requires = ("fourfold_test_no_such_module",)
    extra = "needy"

    @classmethod
    def from_spec(cls, spec):
        raise AssertionError("built although its extra is missing")

    async def identity(self):
        return {}

    async def generate(self, messages, settings):
        raise AssertionError("asked")


BACKENDS.register("needy", "needy_plugin:Needy")
'''


@pytest.fixture
def needy_env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "needy_plugin.py").write_text(PLUGIN)
    return {"PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
            "FOURFOLD_PLUGINS": "needy_plugin"}


def _by_prefix(listing: dict) -> dict[str, dict]:
    return {b["prefix"]: b for b in listing["backends"]}


def test_models_json_says_what_each_backend_needs(needy_env: dict[str, str]) -> None:
    listed = _by_prefix(json.loads(fourfold("models", "--json", env=needy_env).stdout))
    for b in listed.values():
        assert {"extra", "installed", "install"} <= b.keys()
        assert (b["install"] is None) == b["installed"]
    assert listed["llamacpp"]["extra"] == "embedded" and listed["llamacpp"]["installed"] is True
    assert listed["openai"] == {**listed["openai"], "extra": "", "installed": True, "install": None}
    assert listed["needy"] == {"prefix": "needy", "syntax": "needy/NAME", "accepts": "text",
                               "description": "needs a library nobody has", "extra": "needy", "installed": False,
                               "install": "pip install 'fourfold[needy]'"}
    table = fourfold("models", env=needy_env).stdout
    lines = table.splitlines()
    needy = next(i for i, line in enumerate(lines) if "needy/NAME" in line)
    assert "pip install" in lines[needy] and "'fourfold[needy]'" in lines[needy + 1]
    assert "│ installed " in next(line for line in lines if "llamacpp/PATH.gguf" in line)
    assert "│ built in " in next(line for line in lines if "│ replay/" in line)
    assert "[@BASE_URL]" in table  # rich markup must not eat the specs' brackets


def test_missing_extra_is_one_line_exit_1_nothing_recorded(needy_env: dict[str, str], tmp_path: Path) -> None:
    store = tmp_path / "r.db"
    r = fourfold("run", "--model", "needy/x", "--cells", "text/causality", "--limit", "1", "--store", str(store),
                 "--no-report", "--no-progress", env=needy_env, check=False)
    assert r.returncode == 1, r.stderr
    assert r.stderr == ("fourfold: error: model spec 'needy/x' needs fourfold_test_no_such_module, not installed "
                        "here: pip install 'fourfold[needy]'\n")
    assert not store.exists()


@pytest.mark.slow
def test_gguf_llama_cpp_cannot_load_is_one_line_exit_1_nothing_recorded(tmp_path: Path) -> None:
    """A cut download (the first MiB of the embedded model): llama.cpp's own
    error, the file, and the fixes, in one line; no result stored."""
    cut = tmp_path / "cut.gguf"
    with open(embedded_model_path(), "rb") as f:
        cut.write_bytes(f.read(1 << 20))
    store = tmp_path / "r.db"
    r = fourfold("run", "--model", f"llamacpp/{cut}", "--cells", "text/causality", "--limit", "2", "--store",
                 str(store), "--no-report", "--no-progress", check=False)
    assert r.returncode == 1, r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("fourfold: error:")]
    assert len(errors) == 1, r.stderr
    assert re.search(rf"stopped, no case can succeed: cannot load {re.escape(str(cut))} \(1\.0 MiB, [0-9.]+ GiB of "
                     r"memory free\): use a smaller quantisation \(e\.g\. Q4_K_M\) if it does not fit in memory; "
                     r"else check the path and that the download is complete \(sha256\)$", errors[0]), errors[0]
    with sqlite3.connect(store) as con:
        assert con.execute("SELECT count(*) FROM results").fetchone() == (0,)
