"""What every rule judge shares: weak verdicts, text normalisation, and
finding the part of an answer that commits to something.

Every pattern here is linear in the text: quantifiers next to each other never
match the same characters unboundedly (``[ \\t]{0,8}``, not ``\\s*\\s*``), and
long answers are clipped to their head and tail, where answers commit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .verdict import Judgement, Verdict

# An answer commits at its start or its end; the middle of a 50 MB answer says nothing more.
CLIP_CHARS = 8_000


def weak(verdict: Verdict, why: str, judge: str) -> Judgement:
    return Judgement(verdict, f"weak: {why}", judge, weak=True)


def short(s: str, n: int = 60) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


# ------------------------------------------------------------------ normalising

_QUOTES = re.compile(r"[*_`\"“”‘’']")
_PUNCT = re.compile(r"[^\w\s.:/+-]")
_SPACE = re.compile(r"\s+")
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")


def normalise(text: str, case_sensitive: bool = False) -> str:
    """Case, quotes, markup, articles and punctuation away; what is left is what
    two answers must share to say the same thing."""
    text = unicodedata.normalize("NFKC", text)
    if not case_sensitive:
        text = text.lower()
    text = _QUOTES.sub("", text)
    text = _PUNCT.sub(" ", text)
    text = _ARTICLES.sub(" ", text) if not case_sensitive else text
    text = _SPACE.sub(" ", text).strip()
    return text.strip(".:;, ")


def clip(text: str, limit: int = CLIP_CHARS) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return text[:half] + "\n…\n" + text[-half:]


# A model that keeps going after its answer writes the next turn of the prompt
# format itself ("Q: ...\nA: ..."): everything from there on is not its answer.
_ECHO = re.compile(
    r"^[ \t]{0,8}(?:#{1,4}[ \t]{0,4})?(?:Q|Question|User|Human|Instruction|Input|Problem)[ \t]{0,4}\d{0,3}[ \t]{0,4}[:：]"
    r"|<\|(?:user|im_start\|>user|start_header_id\|>user)",
    re.M)


def answer_part(text: str) -> str:
    """The answer without the turns a model invents after it."""
    for m in _ECHO.finditer(text):
        if text[: m.start()].strip():
            return text[: m.start()]
    return text


_MARKUP = re.compile(r"\*\*+|__+|`+")


def prepare(text: str) -> str:
    """Clipped, unicode-normalised, echo removed, bold and code markup removed."""
    text = unicodedata.normalize("NFKC", clip(text)).replace("’", "'").replace("−", "-")
    return _MARKUP.sub("", answer_part(text))


# ------------------------------------------------------------------ committing phrases

# "The answer is X", "Answer: X", "Final answer: X", "I think X", "I'd go with X",
# and their French, Spanish, German, Italian and Portuguese forms. Bounded gaps only.
_MARKER = re.compile(
    r"(?P<marker>\bfinal[ \t]{1,4}answer"
    r"|\b(?:correct|right|best)[ \t]{1,4}(?:answer|option|choice|statement)"
    r"|\b(?:the|my)[ \t]{1,4}(?:answer|choice|pick|label)"
    r"|^[ \t>#]{0,8}(?:answer|label|total|result)(?=[ \t]{0,4}[:=])|^[ \t>#]{0,8}(?:answer|label)"
    r"|\b(?:answer|label)(?=[ \t]{0,4}[:=])"
    r"|\bI[ \t]{1,4}(?:would[ \t]{1,4}|'d[ \t]{1,4}|will[ \t]{1,4}|'ll[ \t]{1,4})?(?:choose|pick|select|go[ \t]{1,4}with)"
    r"|\bI[ \t]{1,4}(?:think|believe)"
    r"|\b(?:I|would|I'd)[ \t]{1,4}(?:probably[ \t]{1,4})?say"
    r"|\b(?:so|therefore|thus|hence)\b"
    r"|\b(?:la[ \t]{1,4}respuesta|la[ \t]{1,4}r[ée]ponse|die[ \t]{1,4}antwort|la[ \t]{1,4}risposta|a[ \t]{1,4}resposta"
    r"|respuesta|r[ée]ponse|antwort|risposta|resposta))"
    r"(?P<link>[ \t]{0,4}(?:(?:ist|est|es|is|would[ \t]{1,4}be|è|é)\b)?[ \t]{0,4}(?:[:=：][ \t]{0,4})?[,]?)"
    r"(?=(?P<tail>[^\n]{0,240}))",
    re.I | re.M)
_FINAL_MARKER = re.compile(r"final|^[ \t>#]{0,8}(?:answer|label|total|result)|\b(?:answer|label)$|antwort|r[ée]ponse|respuesta|risposta|resposta", re.I)


@dataclass(frozen=True)
class Marker:
    phrase: str  # the committing phrase as written, e.g. "Answer:"
    tail: str  # what follows it on its line (or the next line when the phrase ends its line)
    final: bool  # "Final answer:" or an "Answer:" line: the answer the model settled on
    start: int  # where the tail starts in the text


def markers(text: str) -> list[Marker]:
    found = []
    for m in _MARKER.finditer(text):
        tail, start = m.group("tail"), m.start("tail")
        if not tail.strip():  # "### Answer\nB": the answer is on the next line
            rest = text[m.end():]
            start = m.end() + len(rest) - len(rest.lstrip("\n \t"))
            tail = rest.lstrip("\n \t").split("\n", 1)[0][:240]
        phrase = (m.group("marker") + m.group("link")).strip(" \t>#")
        marker = m.group("marker").strip(" \t>#")
        final = bool(_FINAL_MARKER.search(marker)) and ":" in m.group("link") or marker.lower().startswith("final")
        found.append(Marker(phrase, tail, final, start))
    return found


_SENTENCE_END = re.compile(r"(?<=[.!?])[ \t]{1,8}(?=[A-Z(\"'*])|\n+")


def first_sentences(text: str, n: int = 2) -> str:
    """The first ``n`` sentences: where an answer states its position."""
    parts = _SENTENCE_END.split(text.strip(), maxsplit=n)
    return " ".join(parts[:n])
