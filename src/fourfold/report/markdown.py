"""Markdown for report.md: untrusted text (prompts, responses, rationales)
escaped so a renderer shows it as text, and code kept under fences no backtick
run inside can close.

``Md`` marks a string already made safe; report.md's environment escapes every
other value it prints (``md_finalize``), so a field a template forgets is escaped
all the same.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"```[^\n`]*\n(.*?)(?:\n?```|\Z)", re.S)
_BACKTICKS = re.compile(r"`{3,}")


def segments(text: str, code_cell: bool) -> list[tuple[str, str]]:
    """Split a response into prose and fenced code, so code shows in <pre>."""
    if "```" not in text:
        return [("code" if code_cell else "text", text)]
    out: list[tuple[str, str]] = []
    pos = 0
    for m in _FENCE.finditer(text):
        if m.start() > pos and text[pos:m.start()].strip():
            out.append(("text", text[pos:m.start()].strip("\n")))
        out.append(("code", m.group(1)))
        pos = m.end()
    if text[pos:].strip():
        out.append(("text", text[pos:].strip("\n")))
    return out or [("text", text)]


def fence_for(text: str) -> str:
    """A Markdown fence longer than any backtick run inside ``text``."""
    longest = max((len(m.group(0)) for m in _BACKTICKS.finditer(text)), default=0)
    return "`" * max(3, longest + 1)


class Md(str):
    """Markdown already made safe (escaped, or fenced): report.md prints it as is."""


# Escaped in every untrusted string report.md prints: HTML (<, >, &: no raw HTML,
# no entity tricks), link and image brackets and the backslash that could undo
# them, backticks (no code span swallowing the page's own markup), and table pipes.
# Replaced one character at a time, backslash first and ``&`` before ``<``/``>`` so
# no replacement is escaped twice: each ``str.replace`` is one C scan, several times
# faster than ``str.translate`` with a dict (a Python lookup per character), and
# report.md escapes every field of every result.
_MD_ESCAPES = (("\\", "\\\\"), ("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("[", "\\["), ("]", "\\]"),
               ("`", "\\`"), ("|", "\\|"))


def md_line(text: str) -> str:
    """One line of untrusted text, escaped so a Markdown renderer shows it as text."""
    for char, escaped in _MD_ESCAPES:
        if char in text:
            text = text.replace(char, escaped)
    return text


def md_inline(text: object) -> Md:
    """Text safe on one Markdown line: no raw HTML, no links, no line breaks."""
    if isinstance(text, Md):
        return text
    return Md(" ".join(md_line(str(text)).split()))


def md_code(text: object) -> Md:
    """A code span holding ``text`` verbatim: longer backtick fences than any run inside."""
    t = " ".join(str(text).split())
    fence = "`" * (max((len(m) for m in re.findall(r"`+", t)), default=0) + 1)
    pad = " " if t.startswith("`") or t.endswith("`") else ""
    return Md(f"{fence}{pad}{t}{pad}{fence}")


def md_verbatim(text: object) -> Md:
    """For what a template already fences (a response between ``r.fence`` lines)."""
    return Md(str(text))


def md_quote(parts: str | list[str]) -> Md:
    """A block quote of untrusted text: prose escaped line by line, fenced code
    kept as code under a fence no backtick run inside can close; parts that are
    already ``Md`` (the media placeholders) go in as they are."""
    lines: list[str] = []
    for text in [parts] if isinstance(parts, str) else parts:
        if isinstance(text, Md):
            lines += text.splitlines()
            continue
        for kind, seg in segments(text, False):
            if kind == "code":
                fence = fence_for(seg)
                lines += [fence, *seg.splitlines(), fence]
            else:
                lines += [md_line(line) for line in seg.splitlines()]
    return Md("\n".join("> " + line if line else ">" for line in lines or [""]))


def md_finalize(value: object) -> object:
    """Every ``{{ }}`` in report.md passes here: strings are escaped unless marked safe."""
    if isinstance(value, Md) or not isinstance(value, str):
        return value
    return md_inline(value)


__all__ = ["Md", "fence_for", "md_code", "md_finalize", "md_inline", "md_line", "md_quote", "md_verbatim", "segments"]
