"""The multiple-choice rule.

An answer chooses an option by its letter ("B", "(B)", "B) It falls"), by its
text ("It falls", or the start of a long option's text), or both. Where it
chooses is read in this order, and the first that applies decides:

1. the last "Final answer:" / "Answer:" line;
2. every committing statement (the first line, "the answer is ...", "I think
   ...", "I'd go with ...", a line that is only an option): they must agree;
3. otherwise the options named anywhere: exactly one is a *weak* choice (a
   judge model, when given, decides).

A letter whose text names another option ("A) It stays the same" when A is
"It rises") is ``unclear``: the model said two different things, and a judge
model or a person should decide which it meant. The one exception is the
BIG-bench answer prefix: a line "A: No" answers "No" (its prompts end in "A:").
The article "a" and the pronoun "I" are never read as letters, and a model's
invented next turn ("Q: ...\nA: Yes") is cut off before anything is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..cases.schema import ChoiceRef
from .base import Judgement, first_sentences, markers, normalise, prepare, short, weak
from .verdict import Verdict

_JUDGE = "rule:choice"
_CONNECTORS = {"because", "since", "as", "which", "so", "for", "given", "and", "or", "vs", "with", "-", "–", "—", "/"}
_AFFIRM = re.compile(r"(?:is|seems|looks)[ \t]{1,4}(?:the[ \t]{1,4})?(?:correct|right|best|true|most[ \t]{1,4}(?:likely|plausible))\b", re.I)
_FILLER = re.compile(
    r"^(?:(?:the|(?-i:a|an)|my|final|correct|right|best|option|choice|letter|answer|label|is|would|be|say|it's|its|it|"
    r"either|probably|likely|most|definitely|clearly|certainly|surely|simply|clear|firm|definite|obviously|"
    r"maybe|perhaps|possibly|could|might)\b[ \t:,]{0,4})+", re.I)
_HEDGE = re.compile(r"^(?:.*\b)?(?:maybe|perhaps|possibly|could|might)\b", re.I)
_ALT = re.compile(r"^[ \t]{0,4}(?:or|and|/|vs\.?|,)[ \t]{0,4}(?:maybe[ \t]{1,4}|perhaps[ \t]{1,4})?", re.I)
_TRANSLATE = {
    "yes": ("sí", "si", "oui", "ja", "sim", "da", "はい", "是"),
    "no": ("non", "nein", "nee", "não", "nao", "нет", "nej", "いいえ", "否"),
    "true": ("vrai", "verdadero", "wahr", "vero", "verdadeiro"),
    "false": ("faux", "falso", "falsch"),
}
_PRONOUN = {"it", "they", "he", "she", "this", "there"}
_COMMON = {"yes", "no", "true", "false", "none", "neither", "both", "all"}


@dataclass(frozen=True)
class Pick:
    """What one statement chose: option indices, or a letter contradicted by its text."""

    options: frozenset[int]
    conflict: tuple[int, int] | None = None  # (letter's option, text's option)
    hedged: bool = False


class _Options:
    """The options in the forms an answer may name them."""

    def __init__(self, options: list[str]) -> None:
        self.raw = options
        self.norm = [normalise(o) for o in options]
        self.words = [[_bare(w) for w in o.split()] for o in self.norm]
        self.n = len(options)

    def by_text(self, text: str) -> tuple[int, str] | None:
        """The option the normalised ``text`` starts with (the longest wins), or
        the option whose text starts with ``text``'s first sentence (4 words or
        more, one option only): ``(index, the rest of text)``."""
        raw = text.split()
        if not raw:
            return None
        words = [_bare(w) for w in raw]
        words[0] = self._translate(words[0])
        best: tuple[int, int] | None = None
        for i, ow in enumerate(self.words):
            k = len(ow)
            if ow and words[:k] == ow and (best is None or k > best[1]):
                best = (i, k)
        if best is not None:
            return best[0], " ".join(raw[best[1]:])
        end = next((k + 1 for k, w in enumerate(raw) if w.endswith(".")), len(raw))
        head = words[:end]
        if len(head) >= 4:
            starts = [i for i, ow in enumerate(self.words) if len(ow) > len(head) and ow[:len(head)] == head]
            if len(starts) == 1:
                return starts[0], " ".join(raw[end:])
        return None

    def _translate(self, word: str) -> str:
        for target, forms in _TRANSLATE.items():
            if word in forms and target in self.norm:
                return target
        return word

    def phrases(self, i: int) -> list[str]:
        """Forms of option ``i`` that count as naming it in running text."""
        w = self.words[i]
        forms = [" ".join(w)]
        if len(w) >= 2 and w[0] in _PRONOUN and len(" ".join(w[1:])) >= 4:
            forms.append(" ".join(w[1:]))
        return forms


def _bare(word: str) -> str:
    return word.strip(".:")


_LABEL = re.compile(r"[ \t]{0,4}[(\[]?([A-Za-z])([)\]])?")


def _label(s: str, opts: _Options, line_start: bool) -> Pick | None:
    """``s`` starts with an option letter: "B", "(B)", "B)", "B.", "B: text", "B because"."""
    m = _LABEL.match(s)
    if not m:
        return None
    letter, closer, rest = m.group(1), m.group(2), s[m.end():]
    idx = ord(letter.upper()) - ord("A")
    if not 0 <= idx < opts.n:
        return None
    after = rest.lstrip(" \t")
    nxt = after.split(" ", 1)[0].lower().strip(".,;:!?") if after else ""
    punct = rest[:1] in (".", ":", ",", ";", "!", "?", ")", "]")
    if not (closer or not after or punct or rest[:1] == "\n"):
        if not rest[:1].isspace():
            return None
        ok = (nxt in _CONNECTORS or bool(_AFFIRM.match(after))
              or (letter.isupper() and letter not in "AI" and opts.by_text(normalise(after)) is not None)
              or (letter.isupper() and letter not in "AI" and nxt in {"is", "it's"} and bool(_AFFIRM.match(after))))
        if not ok:
            return None
    if letter.islower() and not (closer or not after.strip(" .:)") or rest[:1] in (")", ".", ":")):
        return None
    if re.match(r"[ \t]{0,4}(?:is|seems)[ \t]{1,4}(?:not|wrong|incorrect|false)\b", after, re.I):
        return None
    text_pick = opts.by_text(normalise(after.lstrip(".:)]- \t"))) if after else None
    if text_pick is None or text_pick[0] == idx:
        return Pick(frozenset({idx}))
    if line_start and rest[:1] == ":" and letter == "A":  # BIG-bench "A: <answer>"
        return Pick(frozenset({text_pick[0]}))
    return Pick(frozenset({idx}), conflict=(idx, text_pick[0]))


def _pick_at(s: str, opts: _Options, line_start: bool) -> tuple[Pick | None, str]:
    """A letter or an option's text at the start of ``s``, and what follows it."""
    p = _label(s, opts, line_start)
    if p is not None:
        m = _LABEL.match(s)
        rest = s[m.end():] if m else ""
        found = opts.by_text(normalise(rest.lstrip(".:)]- \t")))
        return p, (found[1] if found else rest)
    found = opts.by_text(normalise(s))
    return (Pick(frozenset({found[0]})), found[1]) if found else (None, "")


def head_pick(s: str, opts: _Options, line_start: bool = False) -> Pick | None:
    """The option(s) ``s`` starts by naming, possibly after filler words ("a
    clear", "option", "probably"); alternatives ("B or C") are all collected."""
    s = s.strip().lstrip(">#-•*· \t")
    pick, rest = _pick_at(s, opts, line_start)
    hedged = False
    if pick is None:
        m = _FILLER.match(s)
        if not (m and m.end()):
            return None
        hedged = bool(_HEDGE.match(m.group(0)))
        pick, rest = _pick_at(s[m.end():], opts, False)
        if pick is None:
            return None
    alt = _ALT.match(rest)
    if alt and pick.conflict is None:
        more = _alternative(rest[alt.end():], opts)
        if more is not None and more.conflict is None:
            pick = Pick(pick.options | more.options)
    return Pick(pick.options, pick.conflict, True) if hedged else pick


_ALT_LETTER = re.compile(r"[ \t]{0,4}[(\[]?([A-Z])[)\]]?(?![\w'])")


def _alternative(s: str, opts: _Options) -> Pick | None:
    """The option after "or" in "B or C could be right": a bare capital letter counts here."""
    m = _ALT_LETTER.match(s)
    if m and ord(m.group(1)) - 65 < opts.n:
        return Pick(frozenset({ord(m.group(1)) - 65}))
    return head_pick(s, opts)


def _statements(text: str, opts: _Options) -> tuple[list[tuple[Pick, str]], list[tuple[Pick, str]]]:
    """(final-answer picks, other committing picks), each with where it was found."""
    finals: list[tuple[Pick, str]] = []
    others: list[tuple[Pick, str]] = []
    lines = [ln for ln in text.split("\n") if ln.strip()]
    if lines:
        lead = first_sentences(lines[0], 1)
        if not lead.rstrip().endswith("?"):
            p = head_pick(lines[0], opts, line_start=True)
            if p is not None:
                others.append((p, "the first line"))
    for line in lines[1:]:
        p = head_pick(line, opts, line_start=True)
        if p is not None and _is_whole(line, opts):
            others.append((p, f"the line {short(line, 30)!r}"))
    for mk in markers(text):
        p = head_pick(mk.tail, opts)
        if p is None:
            continue
        (finals if mk.final else others).append((p, f"{short(mk.phrase, 20)!r}"))
    cop = _copula_final(first_sentences(text, 1), opts)
    if cop is not None:
        others.append((cop, "the first sentence"))
    return finals, others


def _is_whole(line: str, opts: _Options) -> bool:
    """A line that is nothing but an option: "No.", "B", "(C) 4"."""
    s = normalise(line)
    return bool(re.fullmatch(r"[a-z]", s)) or s in opts.norm or any(
        s == f"{chr(97 + i)} {o}" for i, o in enumerate(opts.norm))


_COPULA = re.compile(r"\b(?:is|are|was|were)[ \t]{1,4}(?:(?:in|at|on)[ \t]{1,4})?(?P<tail>[^.!?\n]{1,120})[.!]?[ \t]*$", re.I)


def _copula_final(sentence: str, opts: _Options) -> Pick | None:
    """"The year with the largest value is 2016." "That statement is false.":
    a sentence that ends by naming an option."""
    s = sentence.strip()
    if len(s) > 300:
        return None
    m = _COPULA.search(s)
    if not m:
        return None
    tail = m.group("tail")
    p = _label(tail, opts, False)
    if p is not None and p.conflict is None and re.match(r"[ \t]{0,4}[(\[]?[A-Z][)\]]?(?:[.:,;!)]|[ \t]*$)", tail):
        return p
    found = opts.by_text(normalise(tail))
    return Pick(frozenset({found[0]})) if found and not found[1] else None


_STRONG_LABEL = re.compile(
    r"\(([A-Z])\)|\b(?:option|choice|letter)[ \t]{1,4}\(?([A-Z])\b|(?<![\w'-])([B-HJ-Z])(?=[.,;!?)]|$)",
    re.M)


def _mentions(text: str, opts: _Options) -> set[int]:
    """Every option the text names anywhere: strong letter forms and option texts
    (one-word options such as "no" only when they stand alone: ", so no.")."""
    found: set[int] = set()
    for m in _STRONG_LABEL.finditer(text):
        idx = ord(m.group(1) or m.group(2) or m.group(3)) - ord("A")
        if 0 <= idx < opts.n:
            found.add(idx)
    spaced = " " + " ".join(_bare(w) for w in normalise(text).split()) + " "
    for i in range(opts.n):
        if opts.norm[i] in _COMMON:
            pat = rf"(?:^|[.!?;:,—–]|\n)[ \t]{{0,3}}{re.escape(opts.raw[i].strip())}[ \t]{{0,3}}(?=[.!?;,]|$)"
            if re.search(pat, text, re.I | re.M):
                found.add(i)
            continue
        if any(f" {form} " in spaced for form in opts.phrases(i) if form):
            found.add(i)
    return found


def _named_twice(text: str, opts: _Options) -> set[int]:
    """Options written as their text followed by their letter: "carbon dioxide (B)"."""
    spaced = " ".join(_bare(w) for w in normalise(text).split())
    found = set()
    for m in re.finditer(r"\(([A-Z])\)", text):
        i = ord(m.group(1)) - 65
        if i < opts.n:
            before = " ".join(_bare(w) for w in normalise(text[max(0, m.start() - 120):m.start()]).split())
            if before.endswith(" ".join(opts.words[i])) and " ".join(opts.words[i]) in spaced:
                found.add(i)
    return found


_OPTION_LINE = re.compile(r"^[ \t]{0,4}[(\[]?([A-Z])[)\].:][ \t]{0,4}(.+)$", re.M)


def _drop_option_echo(text: str, opts: _Options) -> str:
    """Remove a restated list of the options ("A) It rises\\nB) It falls\\n..."):
    listing them is not choosing one."""
    lines = text.split("\n")
    listed = []
    for k, line in enumerate(lines):
        m = _OPTION_LINE.match(line)
        if m:
            idx = ord(m.group(1)) - ord("A")
            if 0 <= idx < opts.n and normalise(m.group(2)) == opts.norm[idx]:
                listed.append((k, idx))
    run = [k for j, (k, idx) in enumerate(listed) if any(abs(k - k2) == 1 and idx2 != idx for k2, idx2 in listed)]
    if len(run) < 2:
        return text
    drop = set(run)
    return "\n".join(line for k, line in enumerate(lines) if k not in drop)


def _name(opts: _Options, i: int) -> str:
    return f"{chr(65 + i)}: {short(opts.raw[i], 30)!r}"


def _verdict(ref: ChoiceRef, opts: _Options, pick: Pick, where: str, weak_evidence: bool = False) -> Judgement:
    right = ref.index
    if pick.conflict is not None:
        a, b = pick.conflict
        if right not in (a, b):  # wrong whichever of the two it meant
            return Judgement(Verdict.BAD, f"the letter {chr(65 + a)} and the text of {_name(opts, b)} are both wrong "
                             f"({where}); expected {_name(opts, right)}", _JUDGE)
        return Judgement(Verdict.UNCLEAR, f"the letter {chr(65 + a)} names {short(opts.raw[a], 30)!r} but the text is "
                         f"{_name(opts, b)} ({where}); expected {_name(opts, right)}", _JUDGE)
    chosen = sorted(pick.options)
    if len(chosen) > 1:
        names = ", ".join(chr(65 + i) for i in chosen)
        if right in chosen:
            return Judgement(Verdict.UNCLEAR, f"names several options ({names}) including the right one "
                             f"{_name(opts, right)} ({where})", _JUDGE)
        return Judgement(Verdict.BAD, f"names {names} ({where}); expected {_name(opts, right)}", _JUDGE)
    got = chosen[0]
    if pick.hedged:
        return Judgement(Verdict.UNCLEAR, f"only hedges towards {_name(opts, got)} ({where}); expected "
                         f"{_name(opts, right)}", _JUDGE)
    verdict = Verdict.GOOD if got == right else Verdict.BAD
    why = f"chose {_name(opts, got)} ({where})" + ("" if got == right else f"; expected {_name(opts, right)}")
    return weak(verdict, why, _JUDGE) if weak_evidence else Judgement(verdict, why, _JUDGE)


def judge_choice(ref: ChoiceRef, response: str) -> Judgement:
    opts = _Options(ref.options)
    text = _drop_option_echo(prepare(response), opts)
    finals, others = _statements(text, opts)
    if finals:
        pick, where = finals[-1]
        return _verdict(ref, opts, pick, f"from {where}")
    if others:
        conflicts = [(p, w) for p, w in others if p.conflict is not None]
        if conflicts:
            return _verdict(ref, opts, *conflicts[0])
        union = frozenset().union(*(p.options for p, _ in others))
        if len(union) == 1:
            return _verdict(ref, opts, Pick(union, hedged=all(p.hedged for p, _ in others)), f"from {others[0][1]}")
        return _verdict(ref, opts, Pick(union), "in different statements")
    named = _mentions(text, opts)
    both = _named_twice(text, opts) if len(named) > 1 else set()
    if len(both) == 1:  # "carbon dioxide (B), not oxygen": the option named by text and letter together
        return _verdict(ref, opts, Pick(frozenset(both)), "the only option named by text and letter",
                        weak_evidence=True)
    if len(named) == 1:
        return _verdict(ref, opts, Pick(frozenset(named)), "the only option named", weak_evidence=True)
    if named:
        return _verdict(ref, opts, Pick(frozenset(named)), "named in the text")
    return Judgement(Verdict.UNCLEAR, f"no option chosen (expected {_name(opts, ref.index)})", _JUDGE)
