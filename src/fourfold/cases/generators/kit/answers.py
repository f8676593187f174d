"""Case inputs and references, and the check of a stored reference against the
answer ``verify`` re-derives from a case's ground truth or media.

Both checks compare what a case file *says* with what its generator *computes*,
so a drawing bug, a hand edit or a stale file cannot ship a wrong reference.
"""

from __future__ import annotations

import random
import re
from fractions import Fraction
from typing import Any

NUM_SUFFIX = " End your reply with 'Answer: <number>'."


def text_part(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def image_part(path: str) -> dict[str, Any]:
    """An image part of a message (``path`` is case-relative: ``media/...``)."""
    return {"type": "image", "path": path}


def video_part(path: str) -> dict[str, Any]:
    """A video part of a message (``path`` is case-relative: ``media/...``)."""
    return {"type": "video", "path": path}


def user(*parts: dict[str, Any]) -> list[dict[str, Any]]:
    """A one-message input: the user's turn with ``parts`` in order."""
    return [{"role": "user", "content": list(parts)}]


def media_paths(case: dict[str, Any], kind: str) -> list[str]:
    """Paths of a case dict's ``kind`` (``image``, ``video``) parts, in order,
    in either shape (as written or as dumped); a malformed input has none."""
    out: list[str] = []
    inp = case.get("input")
    if not isinstance(inp, list):
        return out
    for msg in inp:
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, list):
            out.extend(p["path"] for p in content if isinstance(p, dict) and p.get("type") == kind)
    return out


def truth(case: dict[str, Any]) -> dict[str, Any]:
    """The parameters a generated case was built from (``metadata.ground_truth``)."""
    return (case.get("metadata") or {}).get("ground_truth") or {}


def numeric(answer: float, tolerance: float = 0.0) -> dict[str, Any]:
    ref: dict[str, Any] = {"kind": "numeric", "answer": answer}
    if tolerance:
        ref["tolerance"] = tolerance
    return ref


def yes_no(answer: bool) -> dict[str, Any]:
    return {"kind": "choice", "options": ["Yes", "No"], "answer": 0 if answer else 1}


def choice(options: list[str], answer: str) -> dict[str, Any]:
    """A choice reference whose answer is the letter of ``answer`` among ``options``."""
    return {"kind": "choice", "options": options, "answer": chr(ord("A") + options.index(answer))}


def lettered(options: list[str]) -> str:
    return " ".join(f"{chr(ord('A') + i)}) {o}" for i, o in enumerate(options))


def lettered_question(rng: random.Random, options: list[str], stem: str) -> str:
    """Shuffle ``options`` in place (one draw from ``rng``) and ask ``stem`` with
    them as lettered options."""
    rng.shuffle(options)
    return f"{stem} Options: {lettered(options)}. Answer with the letter."


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", str(s)).strip().lower()


def reference_problems(case: dict[str, Any], expected: Any) -> list[str]:
    """Problems with a case's reference given the answer recomputed from its
    ground truth (empty when they agree)."""
    ref = case.get("reference") or {}
    kind = ref.get("kind")
    if expected is None:
        return ["the ground truth gives no answer"]
    if kind == "numeric":
        try:
            ok = abs(float(ref["answer"]) - float(expected)) <= 1e-6
        except (KeyError, TypeError, ValueError):
            return [f"numeric reference without a usable answer: {ref.get('answer')!r}"]
        return [] if ok else [f"reference answer {ref['answer']} but the ground truth gives {expected}"]
    if kind == "exact":
        answers = [ref.get("answer", ""), *ref.get("aliases", [])]
        return [] if _norm(expected) in {_norm(a) for a in answers} else [
            f"reference answer {ref.get('answer')!r} but the ground truth gives {expected!r}"]
    if kind == "choice":
        opts, ans = ref.get("options") or [], ref.get("answer")
        idx = ord(ans.strip().upper()) - ord("A") if isinstance(ans, str) else ans
        if not isinstance(idx, int) or not 0 <= idx < len(opts):
            return [f"choice answer {ans!r} is not an option"]
        return [] if _norm(opts[idx]) == _norm(expected) else [
            f"reference option {opts[idx]!r} but the ground truth gives {expected!r}"]
    if kind == "regex":
        return [] if re.search(ref.get("pattern", "$^"), str(expected), re.I) else [
            f"reference pattern does not accept {expected!r}"]
    return [f"unexpected reference kind {kind!r}"]


def _ref_answer(ref: dict[str, Any]) -> Any:
    kind = ref.get("kind")
    if kind == "choice":
        a = ref["answer"]
        i = ord(a.strip().upper()) - ord("A") if isinstance(a, str) else int(a)
        return ref["options"][i] if 0 <= i < len(ref["options"]) else None
    if kind in ("exact", "numeric"):
        return ref.get("answer")
    return None


def expect(case: dict[str, Any], derived: Any, problems: list[str], what: str = "video") -> None:
    """The stored reference must give the answer re-derived from the ``what``
    (appended to ``problems`` when it does not)."""
    stored = _ref_answer(case.get("reference") or {})
    if isinstance(derived, (int, float)) and not isinstance(derived, bool):
        ok = isinstance(stored, (int, float)) and abs(float(stored) - float(derived)) < 1e-9
    else:
        ok = str(stored).strip().lower() == str(derived).strip().lower()
    if not ok:
        problems.append(f"reference answer {stored!r} but the {what} gives {derived!r}")



def as_number(x: Fraction) -> float | int:
    """An exact fraction as an int when whole, else as a float."""
    return int(x) if x.denominator == 1 else float(x)
