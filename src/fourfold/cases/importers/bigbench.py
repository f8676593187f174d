"""BIG-bench JSON tasks (``task.json``) as cases, one per example; errors name the
line an example starts on in the task file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..schema import _ID
from .common import (
    _DEFAULT_LICENSE_BIGBENCH,
    ImportedCase,
    _check_cell_category,
    _Collector,
    _json_type,
    _read_text,
    _safe_id,
    _sibling_license,
    _text_input,
    _validate,
)


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
    task, examples = _load_task(text, errs)
    task_name, prefix = _task_ids(task, path, id_prefix, errs)
    fmt, append_choices, keywords = _task_settings(task, errs)
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


def _load_task(text: str, errs: _Collector) -> tuple[dict[str, Any], list[Any]]:
    """The task object and its examples; anything else stops the import (nothing else can be checked)."""
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
    return task, examples


def _task_ids(task: dict[str, Any], path: Path, id_prefix: str | None, errs: _Collector) -> tuple[str, str]:
    """``(task name, id prefix)``: the name from the task, else its folder; ids that
    would be invalid stop the import, since every case would fail the same way."""
    name = task.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        errs.add(0, "name", "must be a non-empty string")
        name = None
    task_name = name or path.parent.name or path.stem
    prefix = id_prefix if id_prefix is not None else f"bigbench/{_safe_id(task_name)}"
    if not _ID.match(f"{prefix}/0"):
        raise errs.fail(0, "id_prefix" if id_prefix is not None else "name",
                        f"{prefix!r} does not make valid ids (letters, digits and . _ : / -, at most 200)")
    return task_name, prefix


def _task_settings(task: dict[str, Any], errs: _Collector) -> tuple[dict[str, str], bool, list[str]]:
    """``(prompt prefixes, append_choices_to_input, keywords)`` with BIG-bench's defaults;
    a mistyped one is reported and its default used, so the examples are still checked."""
    fmt: dict[str, str] = {}
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
    return fmt, append_choices, keywords


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
