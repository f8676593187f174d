"""The one registry: lazy entries, base class check, aliases, freezing, and the
single wording of an unknown name."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fourfold import registry as reg
from fourfold.registry import Registry, RegistryError, did_you_mean, with_hint


class Shape:
    pass


class Square(Shape):
    pass


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_lazy_entry_is_imported_on_first_use_only(plugin_dir: Path) -> None:
    (plugin_dir / "lazy_shapes_a.py").write_text(textwrap.dedent("""
        class Circle(ValueError):
            pass
    """))
    shapes: Registry[type[ValueError]] = Registry("shape", base=ValueError)
    shapes.register("circle", "lazy_shapes_a:Circle")
    assert shapes.names() == ["circle"] and "circle" in shapes
    assert "lazy_shapes_a" not in sys.modules  # listing and membership import nothing
    cls = shapes.get("circle")
    assert cls.__name__ == "Circle" and issubclass(cls, ValueError)
    assert "lazy_shapes_a" in sys.modules
    assert shapes["circle"] is cls  # resolved once, kept


def test_base_class_is_enforced_eagerly_and_lazily(plugin_dir: Path) -> None:
    shapes: Registry[type[Shape]] = Registry("shape", base=Shape)
    with pytest.raises(RegistryError, match="number.*builtins:int is not a Shape"):
        shapes.register("number", int)
    (plugin_dir / "lazy_shapes_b.py").write_text("class NotAShape:\n    pass\n")
    shapes.register("odd", "lazy_shapes_b:NotAShape")
    with pytest.raises(RegistryError, match="odd.*is not a Shape"):
        shapes.get("odd")
    instances: Registry[Shape] = Registry("shape instance", base=Shape)
    instances.register("sq", Square())
    instances.register("word", "fourfold.registry:PLUGINS_ENV")
    with pytest.raises(RegistryError, match="word.*is not a Shape"):
        instances.get("word")


def test_lazy_entry_that_cannot_be_imported_says_which() -> None:
    r: Registry[object] = Registry("widget", error=LookupError)
    r.register("ghost", "no_such_module_here:Thing")
    with pytest.raises(LookupError, match=r"widget 'ghost' \(no_such_module_here:Thing\) cannot be loaded"):
        r.get("ghost")
    with pytest.raises(RegistryError, match="not 'module.path:attr'"):
        r.register("bad", "no_colon")


def test_decorator_duplicates_and_replace() -> None:
    r: Registry[type[Shape]] = Registry("shape", base=Shape)

    @r.register("square")
    class Sq(Shape):
        pass

    assert r.get("square") is Sq
    with pytest.raises(RegistryError, match="registered twice"):
        r.register("square", Square)
    r.register("square", Square, replace=True)
    assert r.get("square") is Square
    # the lazy path of the very object registered is the same entry, not a duplicate
    r.register("square", f"{Square.__module__}:Square")
    r.register("cube", Square, aliases=["box"])
    r.unregister("cube")
    assert "cube" not in r and "box" not in r and r.names() == ["square"]
    with pytest.raises(RegistryError, match="unknown shape 'cube'"):
        r.unregister("cube")


def test_unknown_name_suggests_and_lists_in_one_wording() -> None:
    r: Registry[type[Shape]] = Registry("shape", error=KeyError, describe=lambda name, cls: f"{name}/SIZE")
    r.register("square", Square)
    r.register("circle", Square, aliases=["round"])
    with pytest.raises(KeyError) as e:
        r.get("sqare")
    assert e.value.args[0] == "unknown shape 'sqare'; did you mean 'square/SIZE'? (known: square/SIZE, circle/SIZE)"
    with pytest.raises(KeyError, match="did you mean 'circle/SIZE'"):
        r.get("roud")  # close to an alias: the name it stands for is suggested
    assert r.get("round") is Square and r.canonical("round") == "circle"
    with pytest.raises(KeyError, match=r"^.unknown shape 'zzz' \(known"):
        r.get("zzz")


def test_freeze_stops_registration_but_not_lookup() -> None:
    r: Registry[object] = Registry("thing")
    r.register("a", "fourfold.registry:did_you_mean")
    r.freeze()
    assert r.frozen
    with pytest.raises(RegistryError, match="frozen"):
        r.register("b", object())
    assert r.get("a") is did_you_mean


def test_did_you_mean_helpers() -> None:
    assert did_you_mean("rian", ["rain", "fog"]) == "did you mean 'rain'?"
    assert did_you_mean("xyzzy", ["rain", "fog"]) == ""
    assert with_hint("unknown cell 'text/causal'", "text/causal", ["text/causality"]) == (
        "unknown cell 'text/causal'; did you mean 'text/causality'?")
    assert with_hint("nothing close", "q", ["rain"]) == "nothing close"


def test_plugins_env_imports_modules_before_first_lookup(tmp_path: Path) -> None:
    (tmp_path / "my_plugin_mod.py").write_text(textwrap.dedent("""
        from fourfold.registry import Registry
        import fourfold.registry as r
        r.EXTRA = Registry("extra")
        r.EXTRA.register("hello", "builtins:print")
    """))
    code = "import fourfold.registry as r; r.load_plugins(); print(r.EXTRA.names())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path), reg.PLUGINS_ENV: "my_plugin_mod"})
    assert out.stdout.strip() == "['hello']"
    bad = subprocess.run([sys.executable, "-c", "import fourfold.registry as r; r.load_plugins()"],
                         capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", reg.PLUGINS_ENV: "nope_not_here"})
    assert bad.returncode != 0 and "FOURFOLD_PLUGINS: cannot import plugin module 'nope_not_here'" in bad.stderr


# ------------------------------------------------------------- model backends


def test_each_backend_parses_its_own_spec(tmp_path: Path) -> None:
    from fourfold.models import BACKENDS, ModelSpecError, create_backend
    from fourfold.models.openai import OpenAIBackend
    from fourfold.models.replay import ReplayBackend

    b = create_backend("openai/gpt@http://127.0.0.1:9/v1#image")
    assert isinstance(b, OpenAIBackend) and (b.name, b.base_url) == ("gpt", "http://127.0.0.1:9/v1")
    assert b.capabilities.image and not b.capabilities.multi_image
    (tmp_path / "a.jsonl").write_text('{"id": "c1", "response": "x", "model": "gpt-4"}\n')
    r = create_backend(f"replay/{tmp_path / 'a.jsonl'}#gpt-4")  # here '#' picks a model, not capabilities
    assert isinstance(r, ReplayBackend) and r.model == "gpt-4"
    for spec, message in [("openai", "has no model name (openai/NAME[@BASE_URL][#CAPS])"),
                          ("llamacpp/", "has no file (llamacpp/PATH.gguf)"),
                          ("smollm2/x", "takes no name"),
                          ("openai/x#imag", "unknown capability 'imag'"),
                          ("opnai/x", "unknown model spec 'opnai/x'; did you mean 'openai/NAME[@BASE_URL][#CAPS]'?")]:
        with pytest.raises(ModelSpecError, match=re.escape(message)):
            create_backend(spec)
    assert BACKENDS.names() == ["smollm2", "llamacpp", "replay", "openai", "anthropic", "gemini", "hf"]


def test_an_openai_run_imports_no_other_backend() -> None:
    code = ("import sys; from fourfold.models import create_backend; create_backend('openai/m@http://127.0.0.1:9/v1'); "
            "print(sorted(m for m in sys.modules if m.startswith(('fourfold.models.', 'llama_cpp', 'aiohttp'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # models.http and models.transport: the HTTP plumbing the openai, anthropic and gemini backends share
    # (no backend, and no aiohttp)
    assert out.stdout.strip() == ("['fourfold.models.base', 'fourfold.models.http', 'fourfold.models.openai', "
                                  "'fourfold.models.transport']")
