"""One lazy registry for everything fourfold looks up by name: model backends,
perturbations, generators and judge templates.

Why one: each of those used to be a dict plus its own "did you mean" (or an
if-ladder), so adding one meant finding every place that listed them. A
``Registry`` keeps the names in registration order, checks what is registered
against an optional base class, and words an unknown name the same way
everywhere: ``unknown backend 'opnai'; did you mean 'openai'? (known: ...)``.

Why lazy: an entry may be a ``"module.path:attr"`` string, imported on first
use, so listing names or parsing ``fourfold --help`` imports no backend (nor
llama.cpp, the HTTP transport or PIL behind it). This follows lm-evaluation-harness's
``Registry[T]`` (lazy placeholders, base class check, freeze) and inspect_ai's
``@modelapi`` factories (import the provider only when it is asked for).

Plugins: ``FOURFOLD_PLUGINS=mod_a,mod_b`` names modules imported before the
first lookup in any registry; each registers its entries with one line, e.g.
``BACKENDS.register("echo", "echo_plugin:EchoBackend")``.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from difflib import get_close_matches
from types import MappingProxyType
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")

#: Modules named here (comma-separated) are imported before the first lookup.
PLUGINS_ENV = "FOURFOLD_PLUGINS"


class RegistryError(ValueError):
    """An unknown name, a bad registration, or a lazy entry that cannot be
    imported. A ``ValueError`` so command-line callers report it as bad input."""


def did_you_mean(word: str, choices: Iterable[str], n: int = 1, *, end: str = "") -> str:
    """``"did you mean 'x'?"`` (then ``end``) for the closest of ``choices``
    (difflib), or ``""`` when nothing is close.

    The one place fourfold words a suggestion, for registries and for the
    other closed vocabularies (cells, columns, mapping fields, case ids)."""
    near = get_close_matches(word, list(choices), n=n)
    return f"did you mean {', '.join(repr(x) for x in near)}?{end}" if near else ""


def with_hint(message: str, word: str, choices: Iterable[str], n: int = 1) -> str:
    """``message`` followed by ``"; did you mean 'x'?"`` when something is close."""
    hint = did_you_mean(word, choices, n)
    return f"{message}; {hint}" if hint else message


_plugins_loaded = False
_plugins_lock = threading.Lock()


def load_plugins() -> None:
    """Import the modules in ``$FOURFOLD_PLUGINS`` once (they register themselves)."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    with _plugins_lock:
        if _plugins_loaded:
            return
        _plugins_loaded = True
        for name in (m.strip() for m in os.environ.get(PLUGINS_ENV, "").split(",")):
            if not name:
                continue
            try:
                importlib.import_module(name)
            except ImportError as e:
                raise RegistryError(f"{PLUGINS_ENV}: cannot import plugin module {name!r}: {e}") from None


def _import_target(path: str) -> Any:
    module, _, attr = path.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def load_target(path: str) -> Any:
    """The object a lazy ``"module.path:attr"`` names, imported now: what a
    registry does with its lazy entries, for a name kept elsewhere (a reference
    kind names its rule this way). Raises ImportError or AttributeError."""
    return _import_target(path)


class Registry(Generic[T]):
    """Named entries of one kind, in registration order.

    ``kind`` words the messages (``"backend"``); ``base``, when given, is what
    every entry must be (a subclass of it, or an instance of it), checked when
    the entry is registered or, for a lazy one, when it is first resolved;
    ``error`` is the exception a stage's callers already catch (a subclass of
    ``ValueError`` is best); ``describe`` names an entry in suggestions (a
    backend is suggested by its spec syntax, not its bare name).
    """

    def __init__(self, kind: str, *, base: type | None = None, error: type[Exception] = RegistryError,
                 describe: Callable[[str, T], str] | None = None):
        self.kind = kind
        self._base = base
        self._error = error
        self._describe = describe
        self._entries: dict[str, T | str] = {}
        self._aliases: dict[str, str] = {}
        self._lock = threading.RLock()
        self._frozen = False

    # ------------------------------------------------------------ registering

    @overload
    def register(self, name: str) -> Callable[[T], T]: ...
    @overload
    def register(self, name: str, target: T | str, *, aliases: Iterable[str] = (), replace: bool = False) -> T | str: ...

    def register(self, name: str, target: Any = None, *, aliases: Iterable[str] = (),
                 replace: bool = False) -> Any:
        """Register ``target`` (an object, or a lazy ``"module:attr"`` string) as
        ``name``; without a target, a decorator. ``aliases`` resolve to ``name``
        but are not listed. A name registered twice is an error unless
        ``replace`` (or the lazy string names the very object registered)."""
        if target is None:
            def deco(obj: T) -> T:
                self.register(name, obj, aliases=aliases, replace=replace)
                return obj
            return deco
        with self._lock:
            if self._frozen:
                raise RegistryError(f"the {self.kind} registry is frozen: {name!r} cannot be registered")
            if not name or not isinstance(name, str):
                raise RegistryError(f"a {self.kind} needs a non-empty name, got {name!r}")
            if isinstance(target, str):
                if ":" not in target or target.startswith(":") or target.endswith(":"):
                    raise RegistryError(f"{self.kind} {name!r}: lazy entry {target!r} is not 'module.path:attr'")
            else:
                self._check(name, target)
            current = self._entries.get(name)
            if current is not None and not replace and not _same(current, target):
                raise RegistryError(f"{self.kind} {name!r} is registered twice ({_show(current)} and {_show(target)})")
            self._entries[name] = target
            for alias in aliases:
                self._aliases[alias] = name
        return target

    def unregister(self, name: str) -> None:
        """Remove ``name`` and its aliases (a test's temporary plugin, say)."""
        with self._lock:
            if self._frozen:
                raise RegistryError(f"the {self.kind} registry is frozen: {name!r} cannot be removed")
            if self._entries.pop(name, None) is None:
                raise self.unknown(name)
            self._aliases = {a: n for a, n in self._aliases.items() if n != name}

    def freeze(self) -> None:
        """No more registrations (entries still resolve lazily)."""
        with self._lock:
            self._frozen = True
            self._entries = MappingProxyType(self._entries)  # type: ignore[assignment]

    @property
    def frozen(self) -> bool:
        return self._frozen

    def _check(self, name: str, obj: object) -> None:
        base = self._base
        if base is None:
            return
        ok = issubclass(obj, base) if isinstance(obj, type) else isinstance(obj, base)
        if not ok:
            raise RegistryError(f"{self.kind} {name!r}: {_show(obj)} is not a {base.__name__}")

    # ----------------------------------------------------------------- lookup

    def canonical(self, name: str) -> str:
        """``name`` itself, or the name an alias stands for (unknown: unchanged)."""
        return self._aliases.get(name, name)

    def __contains__(self, name: object) -> bool:
        load_plugins()
        return isinstance(name, str) and self.canonical(name) in self._entries

    def names(self) -> list[str]:
        """Registered names (not aliases), in registration order; imports nothing."""
        load_plugins()
        return list(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def get(self, name: str) -> T:
        """The entry for ``name`` (or an alias), imported now if it was lazy; an
        unknown name raises ``error`` with a suggestion and the known names."""
        load_plugins()
        key = self.canonical(name)
        if key not in self._entries:
            raise self.unknown(name)
        target = self._entries[key]
        if not isinstance(target, str):
            return target
        with self._lock:
            target = self._entries[key]
            if isinstance(target, str):
                target = self._resolve(key, target)
        return target  # type: ignore[return-value]

    def _resolve(self, name: str, path: str) -> T:
        try:
            obj = _import_target(path)
        except (ImportError, AttributeError) as e:
            raise self._error(f"{self.kind} {name!r} ({path}) cannot be loaded: {e}") from None
        self._check(name, obj)
        if not self._frozen:
            self._entries[name] = obj
        return obj  # type: ignore[no-any-return]

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def items(self) -> list[tuple[str, T]]:
        """Every entry, resolved (imports the lazy ones: for listings, not start-up)."""
        return [(name, self.get(name)) for name in self.names()]

    def unknown(self, name: str, *, what: str = "") -> Exception:
        """The error for an unknown ``name``: the closest name (aliases count,
        and suggest what they stand for) and the known ones. ``what`` replaces
        the default ``unknown KIND 'NAME'`` opening."""
        choices = [*self._entries, *self._aliases]
        near = get_close_matches(name, choices, n=1)
        opening = what or f"unknown {self.kind} {name!r}"
        hint = f"; did you mean {self._shown(self.canonical(near[0]))!r}?" if near else ""
        known = ", ".join(self._shown(n) for n in self._entries) or "none"
        return self._error(f"{opening}{hint} (known: {known})")

    def _shown(self, name: str) -> str:
        """How ``name`` is written in messages; a lazy entry that cannot be
        loaded is shown by its name rather than hiding the real error."""
        if self._describe is None:
            return name
        try:
            return self._describe(name, self.get(name))
        except Exception:
            return name


def _same(current: object, new: object) -> bool:
    """The lazy path of an object and the object itself are the same entry
    (a module that registers itself lazily and then imports itself)."""
    if current is new or current == new:
        return True
    for path, obj in ((current, new), (new, current)):
        if isinstance(path, str) and not isinstance(obj, str):
            if path == f"{getattr(obj, '__module__', '')}:{getattr(obj, '__qualname__', '')}":
                return True
    return False


def _show(obj: object) -> str:
    if isinstance(obj, str):
        return obj
    return f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', type(obj).__name__)}"


__all__ = ["PLUGINS_ENV", "Registry", "RegistryError", "did_you_mean", "load_plugins", "load_target", "with_hint"]
