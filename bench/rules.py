"""Speed of the rule judges: the labelled corpus, and the hostile answers of issue 7
(30 KB of newlines, 200,000 digits against a case author's ``\\d+\\s*apples``,
a catastrophic pattern that only the time budget stops).

    python bench/rules.py [--repeat 3]

Prints one line per measurement (best of --repeat). The stdlib ``re`` figure for
the author's pattern runs in a child process with a 60 s cap, since it may not end.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time

from fourfold.cases import ChoiceRef, RegexRef
from fourfold.judge import check
from fourfold.judge.rules import judge_choice, judge_regex


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def stdlib_re_seconds(pattern: str, text_expr: str, cap: float = 60.0) -> str:
    code = f"import re, time; t = time.perf_counter(); re.search({pattern!r}, {text_expr}); print(time.perf_counter() - t)"
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=cap)
        return f"{float(out.stdout):.2f} s"
    except subprocess.TimeoutExpired:
        return f"> {cap:g} s (stopped)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    triples = [t for t in check.load_corpus() if t.kind != "unit_tests"]
    secs = best(lambda: asyncio.run(check.check(triples)), args.repeat)
    print(f"corpus, rules only ({len(triples)} triples, unit tests left out): {secs:.3f} s, "
          f"{1e3 * secs / len(triples):.2f} ms per verdict")
    rises = ChoiceRef(options=["It rises", "It falls", "It stays the same"], answer="A")
    for label, text in (("30 KB of newlines", "\n" * 30_000), ("1 MB of spaces", " " * 1_000_000),
                        ("1 MB of 'A) '", "A) " * 333_333)):
        print(f"choice rule, {label}: {best(lambda t=text: judge_choice(rises, t), args.repeat) * 1e3:.1f} ms")
    pattern = r"\d+\s*apples"
    apples = RegexRef(pattern=pattern)
    ms = best(lambda: judge_regex(apples, "1" * 200_000), args.repeat) * 1e3
    plain = stdlib_re_seconds(pattern, '"1" * 200_000')
    print(f"regex rule, {pattern} on 200,000 digits: {ms:.1f} ms (stdlib re: {plain})")
    bomb = RegexRef(pattern=r"(a|aa)+$")
    t0 = time.perf_counter()
    j = judge_regex(bomb, "a" * 40 + "b")
    print(f"regex rule, (a|aa)+$ on 41 characters: {j.verdict} after {time.perf_counter() - t0:.2f} s ({j.rationale})")


if __name__ == "__main__":
    main()
