"""Writing imported cases as a case file: validated first, media paths rebased to the
file's folder, and media that would lie outside it copied into its ``media/``."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..loader import CaseError, CaseFileError, _field_and_message
from ..schema import Case


def write_cases(cases: list[dict], out: Path, *, overwrite: bool = False, media_base: Path | None = None) -> Path:
    """Write cases as JSONL (sorted keys, UTF-8, one per line); return the path.

    Refuses to replace an existing file unless ``overwrite`` (FileExistsError),
    because an import is easy to rerun and a hand-curated suite is not.
    Relative media paths are rebased from ``media_base`` (or, for an
    :class:`ImportedCase`, the folder of the file it came from) to ``out``'s
    folder, so images keep resolving wherever the case file goes; a file that
    would lie outside that folder is copied into its ``media/`` (a case may only
    read media in its own folder: :mod:`..boundary`). Every case is validated
    first and nothing is written if one is invalid.
    """
    out = Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True (--overwrite) to replace it")
    errors: list[CaseError] = []
    seen: dict[str, int] = {}
    lines: list[str] = []
    target_dir = out.parent.resolve()
    copies: dict[Path, str] = {}
    for n, case in enumerate(cases, 1):
        base = media_base if media_base is not None else getattr(case, "base", None)
        data = _rebased(case, Path(base).resolve(), target_dir, copies) if base is not None else dict(case)
        try:
            Case.model_validate(data)
        except ValidationError as e:
            for err in e.errors():
                field, msg = _field_and_message(err)
                errors.append(CaseError(str(out), n, field, msg))
            continue
        cid = data.get("id")
        if cid in seen:
            errors.append(CaseError(str(out), n, "id", f"duplicate id {cid!r} (also case {seen[cid]})"))
            continue
        seen[cid] = n
        lines.append(json.dumps(data, sort_keys=True, ensure_ascii=False, allow_nan=False))
    if errors:
        raise CaseFileError(errors)
    out.parent.mkdir(parents=True, exist_ok=True)
    for src, rel in copies.items():
        dst = target_dir / rel
        if src.is_file() and not (dst.is_file() and dst.stat().st_size == src.stat().st_size):
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
    payload = "".join(line + "\n" for line in lines)
    if overwrite:
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        tmp.write_text(payload, encoding="utf-8")
        os.replace(tmp, out)
    else:
        with open(out, "x", encoding="utf-8", newline="\n") as f:  # "x": a file created meanwhile is not replaced
            f.write(payload)
    return out


def _rebased(case: Mapping[str, Any], base: Path, target_dir: Path, copies: dict[Path, str]) -> dict[str, Any]:
    """A copy of ``case`` whose relative media paths are relative to ``target_dir``;
    a file outside it is entered in ``copies`` (source -> path under ``media/``)."""
    data = json.loads(json.dumps(case))
    if base == target_dir:
        return data
    for msg in data.get("input") or []:
        content = msg.get("content") if isinstance(msg, dict) else None
        if not isinstance(content, list):
            continue
        for part in content:
            p = part.get("path") if isinstance(part, dict) else None
            if isinstance(p, str) and not p.startswith("pkg:") and not os.path.isabs(p):
                src = (base / p).resolve()
                rel = Path(os.path.relpath(src, target_dir)).as_posix()
                if rel.startswith("../"):
                    tag = hashlib.sha256(str(src).encode()).hexdigest()[:8]
                    rel = copies.setdefault(src, f"media/{tag}-{src.name}")
                part["path"] = rel
    return data
