"""Procedural case generators: fresh, contamination-free cases with exact answers.

A generator is a function ``(rng, index, media_dir) -> GeneratedCase`` registered
for one cell. ``generate`` draws ``n`` cases for a cell round-robin over its
generators, each from its own ``random.Random`` seeded by (seed, generator, index),
so the same seed gives byte-identical case files and media, and adding a
generator does not change what the others produce.

Each generator may also register a ``verify`` function that re-derives the
answer from the rendered media (counting the drawn shapes again, ...);
``fourfold cases validate`` runs them.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...registry import Registry, load_plugins
from ..taxonomy import CELLS


@dataclass
class GeneratedCase:
    """A case without id and cell (``generate`` adds them). ``input`` and
    ``reference`` use the case-file JSON shapes; media paths are relative to the
    output folder (``media/...``)."""

    category: str
    input: list[dict[str, Any]] | str
    reference: dict[str, Any]
    tags: list[str] = field(default_factory=list)
    #: Ground truth kept for ``verify`` (goes into metadata.ground_truth).
    truth: dict[str, Any] = field(default_factory=dict)


GeneratorFn = Callable[[random.Random, int, Path], GeneratedCase]
VerifyFn = Callable[[dict[str, Any], Path], list[str]]


@dataclass(frozen=True)
class Generator:
    name: str
    cell: str
    fn: GeneratorFn
    verify: VerifyFn | None = None


#: Every generator by name (the one registry); ``REGISTRY`` keeps each cell's in registration order.
GENERATORS: Registry[Generator] = Registry("generator", base=Generator)
REGISTRY: dict[str, list[Generator]] = {c: [] for c in CELLS}
_BY_NAME = GENERATORS  # the name the generator packages use


def register(cell: str, name: str, verify: VerifyFn | None = None) -> Callable[[GeneratorFn], GeneratorFn]:
    """Decorator: ``fn`` generates cases of ``cell`` as ``name`` (``verify`` re-derives their answers)."""
    if cell not in REGISTRY:
        raise ValueError(f"unknown cell {cell!r}")

    def deco(fn: GeneratorFn) -> GeneratorFn:
        g = Generator(name, cell, fn, verify)
        GENERATORS.register(name, g)
        REGISTRY[cell].append(g)
        return fn
    return deco


def _load_all() -> None:
    """Import the generator modules (they register themselves), and any plugins."""
    import importlib
    import pkgutil

    for mod in pkgutil.iter_modules(__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")
    load_plugins()


def generators(cell: str | None = None) -> list[Generator]:
    _load_all()
    if cell is None:
        return [g for gs in REGISTRY.values() for g in gs]
    return list(REGISTRY[cell])


def _rng(seed: int, name: str, index: int) -> random.Random:
    digest = hashlib.sha256(f"{seed}:{name}:{index}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def generate(cell: str, n: int, seed: int, out_dir: Path, *, only: list[str] | None = None,
             progress: Callable[[int], None] | None = None) -> Path:
    """Write ``n`` cases of ``cell`` to ``out_dir/cases.jsonl`` (media under
    ``out_dir/media``). Returns the JSONL path."""
    gens = [g for g in generators(cell) if only is None or g.name in only]
    if not gens:
        have = ", ".join(c for c in CELLS if REGISTRY[c]) or "none"
        raise ValueError(f"no generator for {cell} (cells with generators: {have})")
    out_dir.mkdir(parents=True, exist_ok=True)
    media = out_dir / "media"
    lines = []
    for i in range(n):
        g = gens[i % len(gens)]
        k = i // len(gens)
        gc = g.fn(_rng(seed, g.name, k), k, media)
        case = {
            "id": f"gen/{cell.replace('/', '-')}/{g.name}/s{seed}-{k:05d}",
            "cell": cell,
            "category": gc.category,
            "input": gc.input,
            "reference": gc.reference,
            "metadata": {"source": f"fourfold generator {g.name} (seed {seed})", "license": "Apache-2.0",
                         "tags": ["generated", g.name, *gc.tags], "generator": g.name, "seed": seed,
                         "ground_truth": gc.truth},
        }
        lines.append(json.dumps(case, sort_keys=True, ensure_ascii=False))
        if progress:
            progress(i + 1)
    path = out_dir / "cases.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def verify_case(case: dict[str, Any], base: Path) -> list[str]:
    """Problems found re-deriving a generated case's answer from its media.

    A perturbed variant keeps its original's answer by design (the report
    measures what the perturbation costs), and its pixels may no longer show it;
    so its answer is re-derived from its original's media, which ``fourfold
    cases perturb`` copies next to it (``metadata.original_media``). A case that
    claims a perturbation without them is a problem, not a pass."""
    meta = case.get("metadata") or {}
    name = meta.get("generator")
    if not name:
        return []
    _load_all()
    if name not in GENERATORS:
        return [f"unknown generator {name!r}"]
    g = GENERATORS.get(name)
    if not g.verify:
        return []
    if "perturbation" in meta:
        original, problems = _as_original(case, base)
        if problems:
            return problems
        return [f"on the original's media: {p}" for p in _run_verify(g, original, base)]
    return _run_verify(g, case, base)


def _run_verify(g: Generator, case: dict[str, Any], base: Path) -> list[str]:
    assert g.verify is not None
    try:
        return g.verify(case, base)
    except ValueError as e:  # MediaPathError: a path that leaves the case's folder
        return [str(e)]


def _as_original(case: dict[str, Any], base: Path) -> tuple[dict[str, Any], list[str]]:
    """The variant with its original's media in place of the perturbed ones, or
    the problems that prevent it (no original named, media missing or changed)."""
    from ..boundary import resolve_media

    meta = case.get("metadata") or {}
    orig_id, originals = meta.get("original"), meta.get("original_media")
    if not isinstance(orig_id, str) or not orig_id:
        return case, [f"claims perturbation {meta.get('perturbation')!r} but names no original (metadata.original)"]
    data = json.loads(json.dumps(case))
    parts = [p for m in data.get("input") or [] if isinstance(m, dict) and isinstance(m.get("content"), list)
             for p in m["content"] if isinstance(p, dict) and p.get("type") in ("image", "video")]
    if not isinstance(originals, list) or len(originals) != len(parts) or not all(
            isinstance(o, dict) and isinstance(o.get("path"), str) for o in originals):
        return case, [f"perturbed variant of {orig_id!r} without its original's media (metadata.original_media, "
                      "one per media part): derive it with `fourfold cases perturb`"]
    for part, orig in zip(parts, originals, strict=True):
        if orig.get("type") != part["type"]:
            return case, [f"metadata.original_media: a {orig.get('type')!r} for a {part['type']} part"]
        try:
            path = resolve_media(base, orig["path"])
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except (OSError, ValueError) as e:
            return case, [f"original media {orig['path']} of {orig_id!r}: {e}"]
        if orig.get("sha256") != digest:
            return case, [f"original media {orig['path']} of {orig_id!r} does not match its sha256"]
        part["path"] = orig["path"]
        part.pop("sha256", None)
    for key in ("perturbation", "perturbation_seed", "original", "original_media"):
        data["metadata"].pop(key, None)
    return data, []


__all__ = ["GENERATORS", "REGISTRY", "GeneratedCase", "Generator", "generate", "generators", "register", "verify_case"]
