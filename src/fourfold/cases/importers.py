"""Importers: map data sets others wrote (BIG-bench tasks, HumanEval problems,
plain JSONL/CSV tables) onto the grid as fourfold case dicts.

Why dicts and not ``Case`` objects: the output is a case *file*, and a dict is
exactly what gets written; every dict is still validated with
``Case.model_validate`` before it is returned, so a file written by
:func:`write_cases` always loads. Errors are collected over the whole input and
raised together as one :class:`CaseFileError`, each naming the file, the line
(for BIG-bench, the line the example starts on in ``task.json``) and the
field *of the source data* (a column, ``examples[3].target_scores``), because
the user fixes the source, not the case we would have made from it.

Entry points (the ``fourfold cases import`` command calls the last three):

- :func:`import_bigbench`, :func:`import_humaneval`, :func:`import_table`
- :func:`import_file` (detects the format), :func:`parse_mapping`, :func:`write_cases`
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import math
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..registry import did_you_mean, with_hint
from .loader import CaseError, CaseFileError, _field_and_message, resolve_media
from .schema import _ID, Case
from .taxonomy import CATEGORIES, CELLS

__all__ = [
    "FORMATS", "MAPPING_FIELDS", "TABLE_KINDS", "ImportedCase", "detect_format", "humaneval_prompt", "import_bigbench",
    "import_file", "import_humaneval", "import_table", "parse_mapping", "write_cases",
]

#: Formats :func:`import_file` knows (the CLI's ``--format`` choices).
FORMATS: tuple[str, ...] = ("bigbench", "humaneval", "jsonl", "csv")
#: Fourfold fields a table column can be mapped to (``--map FIELD=COLUMN``).
MAPPING_FIELDS: tuple[str, ...] = ("id", "input", "target", "options", "category", "image", "source", "license")
#: Reference kinds a table can produce; unit_tests and rubric need more than one column can say.
TABLE_KINDS: tuple[str, ...] = ("exact", "numeric", "choice", "regex", "refuse", "comply", "acknowledge_absent")
_KINDS_WITH_TARGET = ("exact", "numeric", "choice", "regex")

_NOT_ID = re.compile(r"[^A-Za-z0-9._:/-]")
_HUMANEVAL_KEYS = ("task_id", "prompt", "test", "entry_point")
_DEFAULT_LICENSE_BIGBENCH = "see original task"
_DEFAULT_LICENSE = "see original data set"


class ImportedCase(dict):  # type: ignore[type-arg]
    """A case dict that remembers the folder its relative media paths are relative to.

    Why: an image column names files relative to the *data* file, but a case
    file's media paths are relative to the *case* file, which :func:`write_cases`
    may put elsewhere. Carrying the base as an attribute (not a key) keeps the
    dict exactly the case-file shape, keeps local absolute paths out of shared
    suites, and lets ``write_cases(cases, out)`` rebase the paths without the
    caller having to pass the data file's folder along.
    """

    base: Path | None = None

    def __init__(self, *args: Any, base: Path | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base = base


class _Collector:
    """Errors for one source file: every importer reports all problems at once."""

    def __init__(self, path: Path):
        self.file = str(path)
        self.errors: list[CaseError] = []

    def add(self, line: int, field: str, message: str) -> None:
        self.errors.append(CaseError(self.file, line, field, message))

    def fail(self, line: int, field: str, message: str) -> CaseFileError:
        """A file-level error that stops the import at once (nothing else can be checked)."""
        return CaseFileError([*self.errors, CaseError(self.file, line, field, message)])

    def raise_if_any(self) -> None:
        """Raise all errors in file order (parse errors are found before per-record ones)."""
        if self.errors:
            raise CaseFileError(sorted(self.errors, key=lambda e: e.line))


# ------------------------------------------------------------------ shared checks


def _check_cell_category(errs: _Collector, cell: str | None, category: str, *, fmt: str) -> str:
    """Cell and category are the same for every record: check them once, not per record."""
    if cell is None:
        raise errs.fail(0, "--cell", f"{fmt} needs a cell, e.g. --cell text/causality (cells: {', '.join(CELLS)})")
    if cell not in CELLS:
        raise errs.fail(0, "--cell", f"{with_hint(f'unknown cell {cell!r}', cell, CELLS)} (cells: {', '.join(CELLS)})")
    if category not in CATEGORIES[cell]:
        raise errs.fail(0, "--category", _category_message(category, cell))
    return cell


def _category_message(category: str, cell: str) -> str:
    hint = did_you_mean(category, CATEGORIES[cell], end=" ")
    return f"{category!r} is not one of {cell}'s categories: {hint}allowed: {', '.join(CATEGORIES[cell])}"


def _safe_id(raw: str) -> str:
    """Characters the id regex forbids become ``_``; a leading non-alphanumeric is dropped."""
    return _NOT_ID.sub("_", raw).lstrip("._:/-")


def _validate(case: dict[str, Any], errs: _Collector, line: int, where: Mapping[str, str]) -> bool:
    """Validate one produced case; report pydantic errors under the *source* field.

    ``where`` maps a top-level case field (``reference``, ``input``, ``id``...) to
    the source field it was made from. The importers check the source first, so
    this is a safety net; when it fires, the message keeps the case's own path.
    """
    try:
        Case.model_validate(case)
    except ValidationError as e:
        for err in e.errors():
            field, msg = _field_and_message(err)
            top = re.split(r"[.\[]", field, maxsplit=1)[0]
            source = where.get(top)
            if source is not None and field:
                msg = f"{msg} (in the case's {field})"
            errs.add(line, source if source is not None else field, msg)
        return False
    return True


def _sibling_license(folder: Path) -> str | None:
    """The license named by a LICENSE file or a README's ``License: ...`` line next to the data.

    Why both: BIG-bench keeps task provenance in each task's README, most other
    data sets ship a LICENSE file; a LICENSE file is the more authoritative.
    """
    for name in ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE", "COPYING"):
        p = folder / name
        if p.is_file():
            text = _read_text_quietly(p)
            if text:
                return _spdx_guess(text) or next(line.strip() for line in text.splitlines() if line.strip())[:120]
    for name in ("README.md", "README", "README.txt", "README.rst"):
        p = folder / name
        if p.is_file():
            found = _license_in_readme(_read_text_quietly(p))
            if found:
                return found
    return None


def _read_text_quietly(p: Path) -> str:
    try:
        return p.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _spdx_guess(text: str) -> str | None:
    head = text[:2000]
    if "Apache License" in head and "2.0" in head:
        return "Apache-2.0"
    if re.search(r"\bMIT License\b", head) or head.lstrip().startswith("MIT"):
        return "MIT"
    m = re.search(r"\bCC[ -]BY(?:[ -](?:SA|NC|ND))*[ -]\d\.\d\b", head)
    return m.group(0) if m else None


_README_LICENSE = re.compile(r"^[\s*_>#-]*licen[cs]e[\s*_]*[:\-\u2013]\s*(.+?)\s*$", re.I)
_README_HEADING = re.compile(r"^\s*#{1,6}\s*licen[cs]e\s*$", re.I)


def _license_in_readme(text: str) -> str | None:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = _README_LICENSE.match(line)
        if m:
            return m.group(1).strip("*_ ")[:120] or None
        if _README_HEADING.match(line):
            after = next((x.strip() for x in lines[i + 1:] if x.strip()), "")
            if after and not after.startswith("#"):
                return after[:120]
    return None


def _read_text(path: Path, errs: _Collector) -> str:
    """The whole file as text, gunzipped when it is gzip (by suffix or magic bytes)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise errs.fail(0, "", f"cannot read: {e.strerror or e}") from None
    if path.suffix == ".gz" or raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise errs.fail(0, "", f"not a valid gzip file: {e}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise errs.fail(0, "", f"not UTF-8 text (byte {e.start})") from None


def _jsonl_records(path: Path, errs: _Collector) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line; bad lines go to ``errs``."""
    for lineno, raw in enumerate(_read_text(path, errs).splitlines(), 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as e:
            errs.add(lineno, "", f"invalid JSON: {e.msg} (column {e.colno})")
            continue
        if not isinstance(obj, dict):
            errs.add(lineno, "", f"each line must be a JSON object, not {_json_type(obj)}")
            continue
        yield lineno, obj


def _json_type(v: Any) -> str:
    if v is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "an object"}.get(type(v), type(v).__name__)


def _text_input(text: str, images: list[str] | None = None) -> list[dict[str, Any]]:
    if not images:
        return [{"role": "user", "content": text}]
    parts: list[dict[str, Any]] = [{"type": "image", "path": p} for p in images]
    parts.append({"type": "text", "text": text})
    return [{"role": "user", "content": parts}]


# ------------------------------------------------------------------ BIG-bench


def import_bigbench(path: Path, *, cell: str, category: str = "other", id_prefix: str | None = None,
                    literal_choices: bool = False) -> list[dict]:
    """Cases from a BIG-bench JSON task (``task.json``), one per example.

    The prompt is built as BIG-bench builds a zero-shot query, so a model sees
    what BIG-bench showed it: ``task_prefix + example_input_prefix + input``,
    then for multiple choice (``target_scores``, when ``append_choices_to_input``)
    each option after ``choice_prefix``, then ``example_output_prefix``; the
    whole is stripped of surrounding whitespace (a chat turn has no use for a
    trailing ``"A: "`` space). Options keep the file's order (BIG-bench shuffles
    them with a seed; a fixed order keeps the case's identity stable).

    An empty ``input`` is allowed when ``task_prefix`` carries the question
    (``cause_and_effect_two_sentences`` does this for every example); the
    ``example_input_prefix`` is then left out, since it would introduce nothing.

    ``append_choices_to_input: false`` exists for BIG-bench's log-likelihood
    scoring, where the options are scored rather than read. A generative model
    would never see its choices, so by default they are shown anyway, lettered
    (``A) ...``) so an answer can name them; ``literal_choices`` keeps the
    file's literal prompt.

    Errors name the line of ``examples[i]`` in the file (its opening brace).

    ``target_scores`` -> ``choice`` (the answer is the option with the highest
    score; a tie for the highest is an error, since a choice reference has one
    right answer and guessing would mislabel the case); ``target`` string ->
    ``exact``; ``target`` list -> ``exact`` with the rest as aliases.
    Ids are ``<id_prefix or bigbench/<name>>/<example index>``.
    """
    errs = _Collector(path)
    _check_cell_category(errs, cell, category, fmt="a BIG-bench task")
    text = _read_text(path, errs)
    try:
        task = json.loads(text)
    except json.JSONDecodeError as e:
        raise errs.fail(e.lineno, "", f"invalid JSON: {e.msg} (column {e.colno})") from None
    if not isinstance(task, dict):
        raise errs.fail(0, "", f"a BIG-bench task is a JSON object, not {_json_type(task)}")
    examples = task.get("examples")
    if not isinstance(examples, list):
        found = "missing" if examples is None else f"{_json_type(examples)}, not a list"
        raise errs.fail(0, "examples", f"a BIG-bench JSON task needs a list of examples ({found})")

    name = task.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        errs.add(0, "name", "must be a non-empty string")
        name = None
    task_name = name or path.parent.name or path.stem
    prefix = id_prefix if id_prefix is not None else f"bigbench/{_safe_id(task_name)}"
    if not _ID.match(f"{prefix}/0"):
        raise errs.fail(0, "id_prefix" if id_prefix is not None else "name",
                        f"{prefix!r} does not make valid ids (letters, digits and . _ : / -, at most 200)")

    fmt: dict[str, Any] = {}
    for key, default in (("task_prefix", ""), ("example_input_prefix", "\nQ: "),
                         ("example_output_prefix", "\nA: "), ("choice_prefix", "\n  choice: ")):
        value = task.get(key, default)
        if not isinstance(value, str):
            errs.add(0, key, f"must be a string, not {_json_type(value)}")
            value = default
        fmt[key] = value
    append_choices = task.get("append_choices_to_input", True)
    if not isinstance(append_choices, bool):
        errs.add(0, "append_choices_to_input", f"must be true or false, not {_json_type(append_choices)}")
        append_choices = True
    keywords = task.get("keywords", [])
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        errs.add(0, "keywords", "must be a list of strings")
        keywords = []
    license_ = _sibling_license(path.parent) or _DEFAULT_LICENSE_BIGBENCH
    source = f"BIG-bench task {task_name}"

    where = _ExampleLines(text, len(examples))
    out: list[dict] = []
    for i, ex in enumerate(examples):
        line, at = where.line(i), f"examples[{i}]"
        if not isinstance(ex, dict):
            errs.add(line, at, f"must be an object, not {_json_type(ex)}")
            continue
        inp = ex.get("input")
        if not isinstance(inp, str):
            errs.add(where.line(i, "input"), f"{at}.input",
                     "missing" if inp is None else f"must be a string, not {_json_type(inp)}")
            continue
        if not inp.strip() and not fmt["task_prefix"].strip():
            errs.add(where.line(i, "input"), f"{at}.input",
                     "is empty and the task has no task_prefix, so the prompt would have no question")
            continue
        if "target_scores" in ex:
            ref_field, line = f"{at}.target_scores", where.line(i, "target_scores")
            ref, options = _bigbench_choice(ex["target_scores"], errs, line, ref_field)
        elif "target" in ex:
            ref_field, line = f"{at}.target", where.line(i, "target")
            ref, options = _bigbench_exact(ex["target"], errs, line, ref_field), None
        else:
            errs.add(line, at, 'needs "target" or "target_scores"')
            continue
        if ref is None:
            continue
        body = _bigbench_prompt(fmt, inp, options, append=append_choices, literal=literal_choices)
        case = ImportedCase({
            "id": f"{prefix}/{i}", "cell": cell, "category": category,
            "input": _text_input(body), "reference": ref,
            "metadata": {"source": source, "license": license_, "tags": list(keywords), "example_index": i},
        }, base=path.parent)
        if _validate(case, errs, where.line(i), {"reference": ref_field, "input": f"{at}.input", "id": "name"}):
            out.append(case)
    errs.raise_if_any()
    return out


def _bigbench_prompt(fmt: dict[str, str], inp: str, options: list[str] | None, *, append: bool, literal: bool) -> str:
    """One example's zero-shot prompt (see :func:`import_bigbench` for why each part is there)."""
    body = fmt["task_prefix"] + (fmt["example_input_prefix"] + inp if inp.strip() else "")
    if options is not None and append:
        body += fmt["choice_prefix"] + fmt["choice_prefix"].join(options)
    elif options is not None and not literal:
        body += "\nOptions:\n" + "\n".join(f"{chr(ord('A') + j)}) {o}" for j, o in enumerate(options))
    return (body + fmt["example_output_prefix"]).lstrip("\n").rstrip()


class _ExampleLines:
    """Where each top-level ``examples[i]`` (and each of its keys) is in ``task.json``.

    Why a scan of the raw text: ``json.loads`` keeps no positions, and a task
    file is pretty-printed, so "example 3" is far from line 4. The walk uses
    json's own scanner (``raw_decode``), so strings holding braces or escaped
    quotes cannot mislead it; the last ``examples`` key wins, as in
    ``json.loads``. Should the walk fail (it cannot on text ``json.loads``
    accepted, but a wrong line is worse than none), every line is 0: errors
    are then file-level and still name ``examples[i]``.
    """

    def __init__(self, text: str, n: int):
        self.text = text
        self.starts: list[int] = []
        self.keys: list[dict[str, int]] = []
        try:
            top, _ = _members(text, _skip_ws(text, 0))
            if "examples" in top:
                self.starts, self.keys = _elements(text, top["examples"][1])
        except (IndexError, ValueError):
            self.starts = []
        if len(self.starts) != n:
            self.starts, self.keys = [], []

    def line(self, i: int, key: str | None = None) -> int:
        """The line of ``examples[i]``'s ``key`` if it has one, else of the example's start."""
        if i >= len(self.starts):
            return 0
        off = self.keys[i].get(key, self.starts[i]) if key else self.starts[i]
        return self.text.count("\n", 0, off) + 1


_DECODER = json.JSONDecoder()


def _members(text: str, pos: int) -> tuple[dict[str, tuple[int, int]], int]:
    """``{key: (key offset, value offset)}`` of the JSON object at ``pos``, and the offset after it."""
    if text[pos] != "{":
        raise ValueError("not an object")
    out: dict[str, tuple[int, int]] = {}
    pos = _skip_ws(text, pos + 1)
    while text[pos] != "}":
        key, after = _DECODER.raw_decode(text, pos)
        value = _skip_ws(text, _skip_ws(text, after) + 1)  # past the ":"
        out[key] = (pos, value)
        pos = _skip_ws(text, _DECODER.raw_decode(text, value)[1])
        if text[pos] == ",":
            pos = _skip_ws(text, pos + 1)
    return out, pos + 1


def _elements(text: str, pos: int) -> tuple[list[int], list[dict[str, int]]]:
    """Start offsets of the elements of the JSON array at ``pos``, and each object element's key offsets."""
    if text[pos] != "[":
        raise ValueError("not an array")
    starts: list[int] = []
    keys: list[dict[str, int]] = []
    pos = _skip_ws(text, pos + 1)
    while text[pos] != "]":
        starts.append(pos)
        if text[pos] == "{":
            members, end = _members(text, pos)
            keys.append({k: key_at for k, (key_at, _) in members.items()})
        else:
            keys.append({})
            end = _DECODER.raw_decode(text, pos)[1]
        pos = _skip_ws(text, end)
        if text[pos] == ",":
            pos = _skip_ws(text, pos + 1)
    return starts, keys


def _skip_ws(text: str, pos: int) -> int:
    """The first offset at or after ``pos`` that is not JSON whitespace."""
    while pos < len(text) and text[pos] in " \t\n\r":
        pos += 1
    return pos


def _bigbench_choice(scores: Any, errs: _Collector, line: int, field: str) -> tuple[dict | None, list[str] | None]:
    if not isinstance(scores, dict):
        errs.add(line, field, f"must be an object mapping each option to its score, not {_json_type(scores)}")
        return None, None
    bad = [k for k, v in scores.items()
           if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)]
    if bad:
        errs.add(line, field, f"scores must be numbers; not for {', '.join(repr(k) for k in bad[:3])}")
        return None, None
    options = list(scores)
    if not 2 <= len(options) <= 26:
        errs.add(line, field, f"needs 2 to 26 options, has {len(options)}")
        return None, None
    if any(not o.strip() for o in options):
        errs.add(line, field, "an option is empty")
        return None, None
    best = max(scores.values())
    top = [k for k, v in scores.items() if v == best]
    if len(top) > 1:
        errs.add(line, field, f"several options share the highest score {best:g} ({', '.join(map(repr, top))}); "
                              "a choice case needs exactly one right answer")
        return None, None
    return {"kind": "choice", "options": options, "answer": options.index(top[0])}, options


def _bigbench_exact(target: Any, errs: _Collector, line: int, field: str) -> dict | None:
    targets = [target] if isinstance(target, str) else target
    if not isinstance(targets, list) or not targets:
        errs.add(line, field, "must be a string or a non-empty list of strings")
        return None
    for j, t in enumerate(targets):
        where = field if isinstance(target, str) else f"{field}[{j}]"
        if not isinstance(t, str):
            errs.add(line, where, f"must be a string, not {_json_type(t)}")
            return None
        if not t.strip():
            errs.add(line, where, "is empty")
            return None
    return {"kind": "exact", "answer": targets[0], "aliases": list(dict.fromkeys(targets[1:]))}


# ------------------------------------------------------------------ HumanEval


# The reply must repeat the prompt's imports and helpers: some tests call a helper the
# prompt defines (HumanEval/38 encodes with encode_cyclic to test decode_cyclic), and the
# sandbox runs only the answer's code, not the prompt.
_HUMANEVAL_PROMPT = (
    "Complete the Python function `{entry_point}` below.\n\n"
    "{fence}python\n{prompt}{fence}\n\n"
    "Reply with the complete code in a single ```python code block: the imports and any helper "
    "functions above, and the full `{entry_point}` function (signature, docstring optional, and body)."
)


def _humaneval_prompt_pattern() -> re.Pattern[str]:
    head, tail = _HUMANEVAL_PROMPT.split("{fence}python\n{prompt}{fence}")
    name = re.escape("{entry_point}")
    return re.compile(re.escape(head).replace(name, r"(?P<entry_point>[^`\n]+)", 1)
                      + r"(?P<fence>`{3,4})python\n(?P<prompt>.*)(?P=fence)"
                      + re.escape(tail).replace(name, "(?P=entry_point)"), re.S)


_HUMANEVAL_PROMPT_RE = _humaneval_prompt_pattern()


def humaneval_prompt(text: str) -> str | None:
    """The original HumanEval prompt inside a case input :func:`import_humaneval` wrote, or None.

    Why: samples in the standard completion format (``{"task_id", "completion"}``,
    from human-eval, lm-eval, bigcode-harness) hold only the function body, and
    are judged as ``prompt + completion``, as human-eval does. A replayed body
    needs the prompt back; the template and its inverse live together here so
    they cannot drift apart.
    """
    m = _HUMANEVAL_PROMPT_RE.fullmatch(text)
    return m["prompt"] if m else None


def import_humaneval(path: Path, *, cell: str = "code/generalizability", category: str = "generation") -> list[dict]:
    """Cases from HumanEval-style JSONL (``.jsonl`` or ``.jsonl.gz``): one per problem.

    The model sees the original prompt (signature + docstring) in a code block
    and is asked for the full function, because the sandbox runs the answer's
    code on its own: a bare body would not define the entry point. The
    reference runs the record's ``test`` (which defines ``check(candidate)``;
    the sandbox calls ``check(entry_point)``); ``prompt + canonical_solution``
    is kept as the known-good ``solution`` so the tests can be validated.
    """
    errs = _Collector(path)
    _check_cell_category(errs, cell, category, fmt="HumanEval")
    sibling = _sibling_license(path.parent)
    out: list[dict] = []
    seen: dict[str, int] = {}
    for lineno, rec in _jsonl_records(path, errs):
        bad = False
        for key in _HUMANEVAL_KEYS:
            v = rec.get(key)
            if not isinstance(v, str) or not v.strip():
                errs.add(lineno, key, "missing" if v is None else "must be a non-empty string")
                bad = True
        solution = rec.get("canonical_solution")
        if solution is not None and not isinstance(solution, str):
            errs.add(lineno, "canonical_solution", "must be a string")
            bad = True
        if bad:
            continue
        task_id, prompt, entry_point = rec["task_id"], rec["prompt"], rec["entry_point"].strip()
        if not entry_point.isidentifier():
            errs.add(lineno, "entry_point", f"{entry_point!r} is not a Python identifier")
            continue
        cid = _safe_id(task_id)
        if not _ID.match(cid):
            errs.add(lineno, "task_id", f"{task_id!r} cannot be made into an id (1-200 letters, digits, . _ : / -)")
            continue
        if cid in seen:
            errs.add(lineno, "task_id", f"duplicate id {cid!r} (first on line {seen[cid]})")
            continue
        seen[cid] = lineno
        if not prompt.endswith("\n"):
            prompt += "\n"
        fence = "````" if "```" in prompt else "```"  # a fence inside the prompt must not close ours
        ref: dict[str, Any] = {"kind": "unit_tests", "tests": rec["test"], "entry_point": entry_point}
        if solution:
            ref["solution"] = prompt + solution
        official = task_id.startswith("HumanEval/")
        license_ = sibling or ("MIT (openai/human-eval)" if official else _DEFAULT_LICENSE)
        source = f"OpenAI HumanEval {task_id}" if official else f"HumanEval-style {path.name} {task_id}"
        text = _HUMANEVAL_PROMPT.format(prompt=prompt, entry_point=entry_point, fence=fence)
        case = ImportedCase({
            "id": cid, "cell": cell, "category": category, "input": _text_input(text), "reference": ref,
            "metadata": {"source": source, "license": license_, "tags": ["python"], "task_id": task_id},
        }, base=path.parent)
        if _validate(case, errs, lineno, {"reference": "test", "input": "prompt", "id": "task_id"}):
            out.append(case)
    errs.raise_if_any()
    return out


# ------------------------------------------------------------------ tables


def _table_rows(path: Path, errs: _Collector, delimiter: str | None
                ) -> tuple[str, list[str], Iterator[tuple[int, dict[str, Any]]]]:
    """``(format, columns, rows)`` for a JSONL or CSV table; rows are ``(line, record)``.

    CSV columns come from the header row; JSONL columns are the union of the
    records' keys (records may leave optional ones out). A CSV row's line is
    the line it *starts* on, so a quoted multi-line cell does not shift it.
    """
    fmt = _table_format(path)
    if fmt is None:
        raise errs.fail(0, "", f"cannot tell whether {path.name} is JSONL or CSV from its name "
                               "(expected .jsonl, .jsonl.gz, .ndjson, .csv or .tsv)")
    if fmt == "jsonl":
        records = list(_jsonl_records(path, errs))
        columns = list(dict.fromkeys(k for _, rec in records for k in rec))
        return fmt, columns, iter(records)
    text = _read_text(path, errs)
    sep = delimiter or ("\t" if path.name.lower().endswith((".tsv", ".tsv.gz")) else ",")
    reader = csv.reader(text.splitlines(keepends=True), delimiter=sep)
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, Any]]] = []
    prev = 0
    try:
        for cells in reader:
            start, prev = prev + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip() for c in cells]
                dup = sorted({c for c in header if header.count(c) > 1})
                if dup:
                    raise errs.fail(start, "", f"the header repeats column(s) {', '.join(map(repr, dup))}")
                continue
            if len(cells) != len(header):
                hint = f" (an unquoted {sep!r} in a value?)" if len(cells) > len(header) else ""
                errs.add(start, "", f"row has {len(cells)} cells but the header has {len(header)}{hint}")
                continue
            rows.append((start, dict(zip(header, cells, strict=True))))
    except csv.Error as e:
        raise errs.fail(reader.line_num, "", f"CSV error: {e}") from None
    if header is None:
        raise errs.fail(0, "", "the CSV file is empty (expected a header row)")
    return fmt, header, iter(rows)


def _table_format(path: Path) -> str | None:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith((".csv", ".tsv")):
        return "csv"
    return None


def _check_mapping(mapping: Mapping[str, str], reference_kind: str, columns: list[str], errs: _Collector,
                   header_line: int) -> None:
    """Mapping errors are file-level: with a wrong column no record could be read."""
    unknown = [k for k in mapping if k not in MAPPING_FIELDS]
    if unknown:
        raise errs.fail(0, "--map", f"unknown field(s) {', '.join(map(repr, unknown))}; "
                                    f"fields are {', '.join(MAPPING_FIELDS)}")
    if reference_kind not in TABLE_KINDS:
        raise errs.fail(0, "--kind", f"a table cannot make {reference_kind!r} references; "
                                     f"kinds: {', '.join(TABLE_KINDS)}")
    needed = ["input"] + (["target"] if reference_kind in _KINDS_WITH_TARGET else [])
    needed += ["options"] if reference_kind == "choice" else []
    missing = [f for f in needed if f not in mapping]
    if missing:
        raise errs.fail(0, "--map", f"{reference_kind} references need {', '.join(needed)} mapped; missing "
                                    f"{', '.join(missing)} (columns: {', '.join(columns)})")
    if reference_kind == "refuse" and "target" in mapping:
        raise errs.fail(0, "--map", "refuse references take no target; drop target= from the mapping")
    if "options" in mapping and reference_kind != "choice":
        raise errs.fail(0, "--map", f"options= only applies to --kind choice, not {reference_kind}")
    for field, column in mapping.items():
        if column not in columns:
            hint = did_you_mean(column, columns, end=" ")
            raise errs.fail(header_line, "--map", f"column {column!r} (for {field}) is not in the file; {hint}"
                                                  f"columns: {', '.join(columns) or '(none)'}")


def import_table(path: Path, *, cell: str, mapping: dict[str, str], reference_kind: str = "exact",
                 category: str = "other", delimiter: str | None = None) -> list[dict]:
    """Cases from a JSONL or CSV table (chosen by suffix), one per row, through a column mapping.

    ``mapping`` maps fourfold fields (:data:`MAPPING_FIELDS`) to column names.
    Per ``reference_kind``: ``exact`` (target; a JSON list gives aliases),
    ``numeric`` (target parsed as a number), ``choice`` (options as a list, a
    JSON list string or ``a|b|c``; target as the option's text, a letter or a
    0-based index, tried in that order because option texts like ``"2"`` would
    otherwise be read as indexes), ``regex`` (target is the pattern),
    ``comply`` (optional target: a pattern a good answer must match),
    ``acknowledge_absent`` (optional target: keywords, list or ``a|b``),
    ``refuse`` (no target). An image column (paths relative to the data file;
    ``a.png|b.png`` or a list for several) puts images before the text.
    Ids come from the id column or ``<file stem>/<row number>``.
    """
    errs = _Collector(path)
    _check_cell_category(errs, cell, category, fmt="a JSONL/CSV table")
    fmt, columns, rows = _table_rows(path, errs, delimiter)
    _check_mapping(mapping, reference_kind, columns, errs, 1 if fmt == "csv" else 0)
    col = mapping.get
    sibling = _sibling_license(path.parent)
    stem = _safe_id(path.name.split(".")[0]) or "table"
    out: list[dict] = []
    seen: dict[str, int] = {}
    for n, (line, rec) in enumerate(rows, 1):
        n_errors = len(errs.errors)

        def get(field: str, rec: dict[str, Any] = rec) -> Any:
            """The mapped column's value; empty CSV cells and JSON nulls count as absent."""
            column = mapping.get(field)
            if column is None:
                return None
            v = rec.get(column)
            return None if v is None or (isinstance(v, str) and not v.strip()) else v

        def bad(field: str, message: str, line: int = line) -> None:
            errs.add(line, mapping[field], message)

        raw_id = get("id")
        if raw_id is None:
            cid = f"{stem}/{n}"
            if "id" in mapping:
                bad("id", "is empty")
        elif isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)):
            bad("id", f"must be a string or an integer, not {_json_type(raw_id)}")
            cid = ""
        else:
            cid = str(raw_id).strip()
            if not _ID.match(cid):
                bad("id", f"{cid!r} is not a valid id (1-200 letters, digits and . _ : / -, starting with a "
                          "letter or digit)")
        if cid and cid in seen:
            bad("id", f"duplicate id {cid!r} (first on line {seen[cid]})")
        elif cid:
            seen[cid] = line

        text = get("input")
        if text is None:
            bad("input", "missing or empty")
        elif not isinstance(text, str):
            bad("input", f"must be a string, not {_json_type(text)}")

        cat = get("category")
        if cat is None:
            cat = category
        elif not isinstance(cat, str) or cat.strip() not in CATEGORIES[cell]:
            bad("category", _category_message(cat if isinstance(cat, str) else str(cat), cell))
        else:
            cat = cat.strip()

        ref = _table_reference(reference_kind, get, bad)

        images: list[str] = []
        raw_images = get("image")
        if raw_images is not None:
            items = raw_images if isinstance(raw_images, list) else _split_list(raw_images)
            for item in items:
                if not isinstance(item, str) or not item.strip():
                    bad("image", "image paths must be non-empty strings")
                    break
                try:
                    found = resolve_media(path.parent, item.strip()).is_file()
                except ValueError:  # MediaPathError: outside the file's folder (the loader says so in full)
                    found = False
                if not found:
                    bad("image", f"image file not found: {item.strip()} (paths are relative to {path.name})")
                images.append(item.strip())

        meta: dict[str, Any] = {}
        for field, default in (("source", f"{path.name} line {line}"), ("license", sibling or _DEFAULT_LICENSE)):
            v = get(field)
            if v is not None and not isinstance(v, str):
                bad(field, f"must be a string, not {_json_type(v)}")
            meta[field] = v.strip() if isinstance(v, str) else default
        meta["tags"] = []

        if len(errs.errors) > n_errors or ref is None:
            continue
        case = ImportedCase({"id": cid, "cell": cell, "category": cat, "input": _text_input(text, images),
                             "reference": ref, "metadata": meta}, base=path.parent)
        where = {k: v for k, v in (("reference", col("target") or col("options") or "--kind"), ("input", col("input")),
                                   ("id", col("id") or "id"), ("category", col("category") or "--category"))
                 if v is not None}
        if _validate(case, errs, line, where):
            out.append(case)
    errs.raise_if_any()
    return out


def _split_list(v: Any) -> list[Any]:
    """A list cell: a real list (JSONL), a JSON list string, or ``a|b|c``."""
    if isinstance(v, list):
        return v
    s = str(v).strip()
    if s.startswith("["):
        try:
            parsed = json.loads(s)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list):
            return parsed
    return [p.strip() for p in s.split("|")]


_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d*)?$")


def _parse_number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        x = float(v)
    else:
        s = str(v).strip().replace("\u2212", "-")
        if _THOUSANDS.match(s):
            s = s.replace(",", "")
        try:
            x = float(s)
        except ValueError:
            return None
    return x if math.isfinite(x) else None


def _table_reference(kind: str, get: Any, bad: Any) -> dict[str, Any] | None:
    """The reference for one row, or None after reporting why it cannot be made."""
    target = get("target")
    if kind in _KINDS_WITH_TARGET and target is None:
        bad("target", "missing or empty")
        return None
    if kind == "exact":
        answers = target if isinstance(target, list) else [target]
        if not answers or any(isinstance(a, (bool, dict, list)) or a is None or not str(a).strip() for a in answers):
            bad("target", "must be a non-empty string or number (or a list of them)")
            return None
        answers = [str(a) for a in answers]
        return {"kind": "exact", "answer": answers[0], "aliases": list(dict.fromkeys(answers[1:]))}
    if kind == "numeric":
        x = _parse_number(target)
        if x is None:
            bad("target", f"not a number: {target!r}")
            return None
        return {"kind": "numeric", "answer": x}
    if kind == "choice":
        raw = get("options")
        if raw is None:
            bad("options", "missing or empty")
            return None
        options = _split_list(raw)
        if any(isinstance(o, (bool, dict, list)) or o is None or not str(o).strip() for o in options):
            bad("options", "every option must be a non-empty string")
            return None
        options = [str(o).strip() for o in options]
        if not 2 <= len(options) <= 26:
            bad("options", f"needs 2 to 26 options, has {len(options)}")
            return None
        index = _choice_index(target, options)
        if index is None:
            letters = f"A-{chr(ord('A') + len(options) - 1)}"
            bad("target", f"{target!r} is neither an option, a letter {letters} nor an index 0-{len(options) - 1} "
                          f"(options: {', '.join(options)})")
            return None
        return {"kind": "choice", "options": options, "answer": index}
    if kind == "regex":
        if not isinstance(target, str):
            bad("target", f"a pattern must be a string, not {_json_type(target)}")
            return None
        try:
            re.compile(target)
        except re.error as e:
            bad("target", f"invalid regular expression: {e}")
            return None
        return {"kind": "regex", "pattern": target}
    if kind == "comply":
        if target is None:
            return {"kind": "comply"}
        try:
            re.compile(str(target))
        except re.error as e:
            bad("target", f"invalid regular expression: {e}")
            return None
        return {"kind": "comply", "pattern": str(target)}
    if kind == "acknowledge_absent":
        keywords = [] if target is None else [str(k).strip() for k in _split_list(target) if str(k).strip()]
        return {"kind": "acknowledge_absent", "keywords": keywords}
    return {"kind": "refuse"}


def _choice_index(target: Any, options: list[str]) -> int | None:
    if isinstance(target, bool) or target is None:
        return None
    if isinstance(target, int):
        return target if 0 <= target < len(options) else None
    t = str(target).strip()
    for exact in (True, False):
        for i, o in enumerate(options):
            if (o == t) if exact else (o.casefold() == t.casefold()):
                return i
    if len(t) == 1 and t.isalpha():
        i = ord(t.upper()) - ord("A")
        return i if 0 <= i < len(options) else None
    if t.isdigit():
        i = int(t)
        return i if i < len(options) else None
    return None


# ------------------------------------------------------------------ one entry point


def parse_mapping(text: str) -> dict[str, str]:
    """``"input=question,target=answer"`` -> ``{"input": "question", "target": "answer"}``.

    Raises ValueError naming the bad item, so ``--map`` typos are caught before
    any file is read.
    """
    mapping: dict[str, str] = {}
    items = [item.strip() for item in text.split(",")]
    if not any(items):
        raise ValueError("--map is empty; expected FIELD=COLUMN pairs, e.g. input=question,target=answer")
    for item in items:
        if not item:
            raise ValueError(f"--map {text!r} has an empty item (a stray comma?)")
        field, eq, column = (s.strip() for s in item.partition("="))
        if not eq:
            raise ValueError(f"--map item {item!r} is not FIELD=COLUMN, e.g. input=question")
        if not field or not column:
            raise ValueError(f"--map item {item!r} needs both a field and a column name")
        if field not in MAPPING_FIELDS:
            hint = did_you_mean(field, MAPPING_FIELDS, end=" ")
            raise ValueError(f"--map: unknown field {field!r}; {hint}fields are {', '.join(MAPPING_FIELDS)}")
        if field in mapping:
            raise ValueError(f"--map maps {field!r} twice ({mapping[field]!r} and {column!r})")
        mapping[field] = column
    return mapping


def detect_format(path: Path) -> str:
    """``bigbench``, ``humaneval``, ``jsonl`` or ``csv``, from the name and, where needed, the contents.

    A ``.json`` file must be a BIG-bench task (an object with ``examples``); a
    JSONL file whose first record has task_id/prompt/test/entry_point is
    HumanEval; other JSONL and CSV files are tables that need a mapping.
    """
    errs = _Collector(path)
    if not path.is_file():
        raise errs.fail(0, "", "no such file")
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".csv", ".tsv")):
        return "csv"
    text = _read_text(path, errs)
    if name.endswith(".json") or not name.endswith((".jsonl", ".ndjson")):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict) and isinstance(obj.get("examples"), list):
            return "bigbench"
        if name.endswith(".json"):
            raise errs.fail(0, "--format", 'a .json file is imported only as a BIG-bench task (an object with '
                                           '"examples"); JSON lines should be named .jsonl')
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        rec = json.loads(first)
    except json.JSONDecodeError:
        rec = None
    if isinstance(rec, dict):
        return "humaneval" if all(k in rec for k in _HUMANEVAL_KEYS) else "jsonl"
    raise errs.fail(0, "--format", f"cannot tell the format of {path.name}; pass --format {'|'.join(FORMATS)}")


def import_file(path: Path, *, fmt: str | None = None, cell: str | None = None,
                mapping: dict[str, str] | None = None, reference_kind: str | None = "exact",
                category: str | None = None, delimiter: str | None = None,
                literal_choices: bool = False) -> list[dict]:
    """Import any supported file; what ``fourfold cases import`` calls.

    ``fmt`` None detects the format (:func:`detect_format`). ``cell`` is needed
    for everything but HumanEval (default code/generalizability); ``mapping``
    only for jsonl/csv; ``reference_kind`` (None or "exact" = the default)
    only applies to jsonl/csv. ``category`` defaults per format ("other",
    HumanEval "generation"). Every problem is a :class:`CaseFileError`; for
    options the field is the command-line flag (``--cell``, ``--map``...).
    ``literal_choices`` (BIG-bench only) keeps a task's ``append_choices_to_input:
    false`` literally instead of showing the options lettered.
    """
    errs = _Collector(path)
    if fmt is not None and fmt not in FORMATS:
        raise errs.fail(0, "--format", f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    if not path.is_file():
        raise errs.fail(0, "", "no such file" if not path.exists() else "not a file")
    fmt = fmt or detect_format(path)
    if literal_choices and fmt != "bigbench":
        raise errs.fail(0, "--literal-choices", f"--literal-choices applies only to BIG-bench tasks, not to {fmt}")
    if fmt in ("bigbench", "humaneval"):
        if mapping:
            raise errs.fail(0, "--map", f"--map applies only to jsonl/csv tables, not to {fmt}")
        if reference_kind not in (None, "exact"):
            raise errs.fail(0, "--kind", f"--kind applies only to jsonl/csv tables; {fmt} sets the reference itself")
        if fmt == "bigbench":
            return import_bigbench(path, cell=_need_cell(errs, cell, "a BIG-bench task"), category=category or "other",
                                   literal_choices=literal_choices)
        return import_humaneval(path, cell=cell or "code/generalizability", category=category or "generation")
    cell = _need_cell(errs, cell, f"a {fmt} table")
    kind = reference_kind or "exact"
    if not mapping:
        _check_cell_category(errs, cell, category or "other", fmt=f"a {fmt} table")
        columns = _table_rows(path, errs, delimiter)[1] if _table_format(path) else []
        cols = f" (columns: {', '.join(columns)})" if columns else ""
        raise errs.fail(0, "--map", f"a {fmt} table needs --map FIELD=COLUMN,..., e.g. --map input=question,"
                                    f"target=answer{cols}")
    if _table_format(path) != fmt:
        raise errs.fail(0, "--format", f"--format {fmt} needs a file named .{'jsonl' if fmt == 'jsonl' else 'csv'} "
                                       f"(or .tsv); {path.name} is not")
    return import_table(path, cell=cell, mapping=mapping, reference_kind=kind, category=category or "other",
                        delimiter=delimiter)


def _need_cell(errs: _Collector, cell: str | None, what: str) -> str:
    if cell is None:
        raise errs.fail(0, "--cell", f"{what} needs --cell, e.g. --cell text/causality (cells: {', '.join(CELLS)})")
    return cell


# ------------------------------------------------------------------ writing


def write_cases(cases: list[dict], out: Path, *, overwrite: bool = False, media_base: Path | None = None) -> Path:
    """Write cases as JSONL (sorted keys, UTF-8, one per line); return the path.

    Refuses to replace an existing file unless ``overwrite`` (FileExistsError),
    because an import is easy to rerun and a hand-curated suite is not.
    Relative media paths are rebased from ``media_base`` (or, for an
    :class:`ImportedCase`, the folder of the file it came from) to ``out``'s
    folder, so images keep resolving wherever the case file goes; a file that
    would lie outside that folder is copied into its ``media/`` (a case may only
    read media in its own folder: :mod:`.boundary`). Every case is validated
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
