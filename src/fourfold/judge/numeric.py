"""Reading the number an answer gives: digits with separators and units, number
words ("twenty-one", "1.2 million"), and which of several numbers is the answer.

The rule says which number it used and why, so a reader can check it: the
number on the last "Answer:" line, else the number right after "the answer is"
(or "so", "therefore"), else the number the first sentence states, else the
last number (list numbering such as "2." at a line start is skipped).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..cases.schema import NumericRef
from .base import Judgement, first_sentences, markers, prepare
from .verdict import Verdict

_JUDGE = "rule:numeric"

_DIGITS = re.compile(
    r"(?<![\w.,])-?(?:\d{1,3}(?:,\d{3})+(?![\d])|\d{1,3}(?:[ \u202f\u00a0]\d{3})+(?![\d,.])|\d+)"
    r"(?:\.\d+|,\d{1,2}(?![\d,]))?(?:[eE][-+]?\d{1,3})?(?:/\d+)?"
    r"(?:[ \t]{1,2}(?P<scale>thousand|million|billion)\b)?")
_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if w != "_"}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_WORD = "|".join(sorted([*_UNITS, *_TENS, *_SCALES], key=len, reverse=True))
_WORDS = re.compile(rf"\b(?:{_WORD})(?:(?:[ \t]{{1,2}}|-|[ \t]and[ \t])(?:{_WORD}))*\b", re.I)
_ENUMERATOR = re.compile(r"^[ \t]{0,8}(?:\d{1,3}[.)][ \t]|step[ \t]\d{1,3}\b)", re.I | re.M)
_RANGE = re.compile(
    r"\bbetween[ \t]{1,3}(?P<a>\S{1,40})[ \t]{1,3}and[ \t]{1,3}\S"
    r"|\beither[ \t]{1,3}\S{1,40}[ \t]{1,3}or[ \t]{1,3}\S"
    r"|\d[ \t]{0,2}(?:–|—|to|or)[ \t]{0,2}-?\d|\d-\d", re.I)
_LEAD_IN = re.compile(r"^[ \t]{0,4}(?:(?:about|approximately|around|roughly|exactly|only|just|is|equals|be|=|:)[ \t]{1,3})?"
                      r"[$€£¥~≈]?[ \t]{0,2}(?=[-\d]|(?:" + _WORD + r")\b)", re.I)
_COPULA_NUM = re.compile(r"\b(?:is|are|was|were|equals|'s)[ \t]{1,3}(?:about[ \t]|approximately[ \t]|around[ \t])?"
                         r"[ \t]{0,2}[$€£]?[ \t]{0,1}(?=-?\d)", re.I)


@dataclass(frozen=True)
class Num:
    value: float
    text: str
    start: int
    end: int


def _digit_value(m: re.Match[str]) -> float | None:
    tok = m.group(0)
    scale = m.group("scale")
    if scale:
        tok = tok[: tok.lower().rindex(scale.lower())].strip()
    if re.fullmatch(r"-?\d+,\d{1,2}", tok):  # decimal comma: "3,5"
        tok = tok.replace(",", ".")
    tok = tok.replace(",", "").replace(" ", "").replace("\u202f", "").replace("\u00a0", "")
    try:
        if "/" in tok:
            a, b = tok.split("/", 1)
            value = float(a) / float(b)
        else:
            value = float(tok)
    except (ValueError, ZeroDivisionError):
        return None
    return value * _SCALES[scale.lower()] if scale else value


def _word_value(text: str) -> float | None:
    total, current = 0, 0
    seen = False
    for w in re.split(r"[ \t-]+", text.lower()):
        if w in ("", "and"):
            continue
        if w in _UNITS:
            current += _UNITS[w]
        elif w in _TENS:
            current += _TENS[w]
        elif w == "hundred":
            current = max(current, 1) * 100
        elif w in _SCALES:
            total += max(current, 1) * _SCALES[w]
            current = 0
        else:
            return None
        seen = True
    return float(total + current) if seen else None


def numbers(text: str) -> list[Num]:
    """Every number in ``text``, in order, digits and words alike."""
    found = []
    for m in _DIGITS.finditer(text):
        v = _digit_value(m)
        if v is not None and math.isfinite(v):
            found.append(Num(v, m.group(0).strip(), m.start(), m.end()))
    for m in _WORDS.finditer(text):
        v = _word_value(m.group(0))
        if v is not None and not any(n.start <= m.start() < n.end for n in found):
            found.append(Num(v, m.group(0), m.start(), m.end()))
    return sorted(found, key=lambda n: n.start)


def numbers_in(text: str) -> list[float]:
    return [n.value for n in numbers(text)]


def _choose(text: str) -> tuple[Num, str] | None:
    """The number the answer gives, and why that one."""
    marks = markers(text)
    for mk in reversed([m for m in marks if m.final]):
        found = numbers(mk.tail)
        result = mk.tail.rfind("=")  # "Answer: 3 x 8 = 24": the working's result
        after = [n for n in found if n.start > result] if result >= 0 else found
        if after:
            why = "the result on" if result >= 0 else "the number on"
            return _shift(after[0], mk.start), f"{why} the {mk.phrase!r} line"
    for mk in reversed([m for m in marks if not m.final]):
        lead = _LEAD_IN.match(mk.tail)
        found = numbers(mk.tail)
        if lead and found and found[0].start <= lead.end() + 1 and _ends_clause(mk.tail, found[0]):
            return _shift(found[0], mk.start), f"the number right after {mk.phrase!r}"
    first = first_sentences(text, 1)
    found = numbers(first)
    offset = text.find(first)
    if len(found) == 1:
        return _shift(found[0], offset), "the only number in the first sentence"
    cop = _COPULA_NUM.search(first)
    if found and cop:
        after = [n for n in found if n.start >= cop.end() - 1]
        if after:
            return _shift(after[0], offset), "the number the first sentence states"
    listed = {m.end() for m in _ENUMERATOR.finditer(text)}
    rest = [n for n in numbers(text) if not any(n.start < e <= n.end + 2 for e in listed)]
    return (rest[-1], "the last number") if rest else None


def _ends_clause(tail: str, n: Num) -> bool:
    """"so 4 in total." states a result; "so 3 spiders have 24 legs" does not."""
    rest = re.split(r"[.,;:!?\n(]", tail[n.end:], maxsplit=1)[0]
    return len(rest.split()) <= 3


def _shift(n: Num, by: int) -> Num:
    return Num(n.value, n.text, n.start + by, n.end + by) if by >= 0 else n


def _in_range(text: str, n: Num) -> str | None:
    """The range or alternatives ("between 4 and 6", "4 or 5") around the chosen number."""
    lo, hi = max(0, n.start - 60), min(len(text), n.end + 60)
    for m in _RANGE.finditer(text, lo, hi):
        if m.start() <= n.end and n.start <= m.end() + 40:
            return text[m.start(): m.end() + 20].strip()
    return None


def judge_numeric(ref: NumericRef, response: str) -> Judgement:
    def close(x: float) -> bool:
        return math.isclose(x, ref.answer, abs_tol=ref.tolerance, rel_tol=ref.rel_tolerance)

    text = prepare(response)
    want = f"{ref.answer:g}"
    chosen = _choose(text)
    if chosen is None:
        return Judgement(Verdict.BAD, f"no number in the answer (expected {want})", _JUDGE)
    num, why = chosen
    used = f"used {num.value:g} ({num.text!r}): {why}"
    spread = _in_range(text, num)
    if spread:
        return Judgement(Verdict.UNCLEAR, f"gives a range or alternatives ({spread!r}), not one number; expected {want}",
                         _JUDGE)
    if close(num.value):
        return Judgement(Verdict.GOOD, f"{used}; expected {want}", _JUDGE)
    committed = why.startswith(("the number on the", "the result on the"))
    if not committed and any(close(n.value) for n in numbers(text)):
        return Judgement(Verdict.UNCLEAR, f"{used}, though {want} appears elsewhere in the answer", _JUDGE)
    return Judgement(Verdict.BAD, f"{used}; expected {want}", _JUDGE)
