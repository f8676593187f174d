"""Code cases whose answers come from running template code: "what does this print"
and small functions with hidden unit tests.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from .. import GeneratedCase, register
from ..kit.answers import reference_problems, truth

_WORDS = ("apple", "banana", "cherry", "avocado", "blueberry", "cranberry", "date", "durian", "elder", "fig")


def _render_program(t: dict[str, Any]) -> str:
    """The program for template ``t['template']`` with parameters ``t``. Only
    these templates are ever executed, with a restricted set of builtins."""
    k = t["template"]
    if k == "loop":
        return (f"total = {t['start']}\n"
                f"for i in range({t['n']}):\n"
                f"    if i % {t['k']} == 0:\n"
                f"        total += i * {t['m']}\n"
                f"    else:\n"
                f"        total -= {t['d']}\n"
                f"print(total)\n")
    if k == "listcomp":
        return (f"xs = {t['xs']!r}\n"
                f"ys = [x * {t['m']} for x in xs if x % {t['k']} != 0]\n"
                f"print(ys[{t['s']}:{t['e']}], len(ys))\n")
    if k == "strings":
        return (f"s = {t['word']!r}\n"
                f"t = s[::-1].upper()\n"
                f"print(t[{t['i']}:] + s[:{t['j']}])\n")
    if k == "dict":
        return (f"words = {t['words']!r}\n"
                f"counts = {{}}\n"
                f"for w in words:\n"
                f"    counts[w[0]] = counts.get(w[0], 0) + len(w)\n"
                f"print(sorted(counts.items())[:{t['k']}])\n")
    if k == "collatz":
        return (f"n = {t['n']}\n"
                f"steps = 0\n"
                f"while n != 1:\n"
                f"    n = n // 2 if n % 2 == 0 else 3 * n + 1\n"
                f"    steps += 1\n"
                f"print(steps)\n")
    if k == "recursion":
        return (f"def f(n):\n"
                f"    if n < {t['b']}:\n"
                f"        return n\n"
                f"    return f(n - 1) + f(n - {t['k']})\n"
                f"\n"
                f"print(f({t['n']}))\n")
    raise ValueError(f"unknown program template {k!r}")


_SAFE_BUILTINS = {"range": range, "len": len, "sorted": sorted, "sum": sum, "min": min, "max": max, "abs": abs,
                  "str": str, "int": int, "list": list, "set": set, "enumerate": enumerate, "zip": zip}
_PARAM_TYPES = {"start": int, "n": int, "k": int, "m": int, "d": int, "s": int, "e": int, "i": int, "j": int, "b": int}


def _params_ok(t: dict[str, Any]) -> bool:
    """Template parameters from a case file are only ever small ints, the fixed
    words, or short lists of those: anything else is refused before rendering, so
    ``verify`` never executes code a file could smuggle in."""
    for key, value in t.items():
        if key in _PARAM_TYPES and not (type(value) is int and abs(value) <= 1000):
            return False
    if "xs" in t and not (isinstance(t["xs"], list) and len(t["xs"]) <= 20
                          and all(type(v) is int and abs(v) <= 1000 for v in t["xs"])):
        return False
    if "word" in t and t["word"] not in _WORDS:
        return False
    return not ("words" in t and not (isinstance(t["words"], list) and all(w in _WORDS for w in t["words"])))


def _run_program(code: str) -> str:
    """Run trusted template code in-process with only harmless builtins and a
    print that collects output; returns what it printed."""
    out: list[str] = []

    def _print(*args: Any, sep: str = " ", end: str = "\n") -> None:
        out.append(sep.join(str(a) for a in args) + end)

    exec(compile(code, "<template>", "exec"), {"__builtins__": {**_SAFE_BUILTINS, "print": _print}})  # noqa: S102
    return "".join(out).strip()


def _verify_program(case: dict[str, Any], base: Path) -> list[str]:
    t = truth(case)
    if not _params_ok(t):
        return ["program parameters are not plain small values"]
    code = _render_program(t)
    if code != t.get("code"):
        return ["stored program does not match its template parameters"]
    text = case["input"] if isinstance(case["input"], str) else "\n".join(
        p.get("text", "") for msg in case["input"] for p in (msg["content"] if isinstance(msg["content"], list)
                                                             else [{"text": msg["content"]}]))
    probs = [] if code in text else ["the prompt does not show the program"]
    return probs + reference_problems(case, _run_program(code))


@register("code/generalizability", "code_output", verify=_verify_program)
def code_output(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """"What does this print?" for small random programs; the answer is what the
    program printed when run (restricted builtins, template code only)."""
    kind = ("loop", "listcomp", "strings", "dict", "collatz", "recursion")[(index + rng.randrange(6)) % 6]
    t: dict[str, Any] = {"template": kind}
    if kind == "loop":
        t.update(start=rng.randint(-5, 20), n=rng.randint(5, 12), k=rng.randint(2, 4), m=rng.randint(1, 5),
                 d=rng.randint(1, 4))
    elif kind == "listcomp":
        t.update(xs=[rng.randint(1, 30) for _ in range(rng.randint(6, 9))], m=rng.randint(2, 5), k=rng.randint(2, 4),
                 s=rng.randint(0, 2), e=rng.randint(3, 5))
    elif kind == "strings":
        word = rng.choice(_WORDS)
        t.update(word=word, i=rng.randint(1, 3), j=rng.randint(1, 4))
    elif kind == "dict":
        t.update(words=rng.sample(_WORDS, rng.randint(4, 7)), k=rng.randint(2, 3))
    elif kind == "collatz":
        t.update(n=rng.randint(6, 40))
    else:
        t.update(b=rng.randint(2, 3), k=rng.randint(2, 3), n=rng.randint(6, 11))
    code = _render_program(t)
    t["code"] = code
    out = _run_program(code)
    text = ("What does this Python program print? Reply with the exact output only.\n\n"
            f"```python\n{code}```")
    return GeneratedCase(category="understanding", input=text, reference={"kind": "exact", "answer": out},
                         tags=["code-output", kind], truth=t)


#: Function-writing tasks: (entry point, description, reference solution).
_TASKS: dict[str, tuple[str, str]] = {
    "kth_smallest": (
        "Write a Python function `kth_smallest(xs, k)` that returns the k-th smallest element of the list `xs` "
        "(k is 1-based; duplicates count separately, so kth_smallest([3, 1, 3], 3) == 3). Do not modify `xs`.",
        "def kth_smallest(xs, k):\n    return sorted(xs)[k - 1]\n"),
    "rotate_right": (
        "Write a Python function `rotate_right(xs, k)` that returns a new list with the elements of `xs` rotated "
        "k places to the right (k >= 0 may exceed the length; an empty list stays empty).",
        "def rotate_right(xs, k):\n    if not xs:\n        return []\n    k %= len(xs)\n    return xs[-k:] + xs[:-k]\n"),
    "run_length": (
        "Write a Python function `run_length(s)` that run-length encodes a string: each maximal run of a "
        "character becomes the character followed by the run's length, so run_length('aaabcc') == 'a3b1c2' "
        "and run_length('') == ''.",
        "def run_length(s):\n    out = []\n    i = 0\n    while i < len(s):\n        j = i\n"
        "        while j < len(s) and s[j] == s[i]:\n            j += 1\n        out.append(f'{s[i]}{j - i}')\n"
        "        i = j\n    return ''.join(out)\n"),
    "second_largest": (
        "Write a Python function `second_largest(xs)` that returns the second largest distinct value in the list "
        "`xs`, or None if there are fewer than two distinct values.",
        "def second_largest(xs):\n    vals = sorted(set(xs))\n    return vals[-2] if len(vals) >= 2 else None\n"),
    "count_overlapping": (
        "Write a Python function `count_overlapping(s, sub)` that counts the occurrences of the non-empty string "
        "`sub` in `s`, overlapping ones included (count_overlapping('aaaa', 'aa') == 3).",
        "def count_overlapping(s, sub):\n    return sum(1 for i in range(len(s) - len(sub) + 1) if s.startswith(sub, i))\n"),
    "digital_root": (
        "Write a Python function `digital_root(n)` that repeatedly sums the decimal digits of the non-negative "
        "integer n until one digit remains and returns it (digital_root(493) == 7).",
        "def digital_root(n):\n    while n >= 10:\n        n = sum(int(d) for d in str(n))\n    return n\n"),
}


def _task_inputs(rng: random.Random, task: str) -> list[list[Any]]:
    """Random arguments for the hidden tests, edge cases included."""
    if task == "kth_smallest":
        out = []
        for _ in range(5):
            xs = [rng.randint(-20, 50) for _ in range(rng.randint(1, 9))]
            out.append([xs, rng.randint(1, len(xs))])
        dup = rng.randint(0, 9)
        return [*out, [[dup, dup, dup - 1], 3]]
    if task == "rotate_right":
        return [[[rng.randint(0, 9) for _ in range(rng.randint(1, 7))], rng.randint(0, 15)] for _ in range(5)] + [[[], 3]]
    if task == "run_length":
        return [["".join(rng.choice("abc") * rng.randint(1, 4) for _ in range(rng.randint(1, 5)))] for _ in range(5)] + [[""]]
    if task == "second_largest":
        out = [[[rng.randint(-9, 9) for _ in range(rng.randint(2, 8))]] for _ in range(4)]
        v = rng.randint(0, 9)
        return [*out, [[v, v, v]], [[v]]]
    if task == "count_overlapping":
        out = []
        for _ in range(5):
            sub = "".join(rng.choice("ab") for _ in range(rng.randint(1, 3)))
            out.append(["".join(rng.choice("ab") for _ in range(rng.randint(0, 12))), sub])
        return out
    if task == "digital_root":
        return [[rng.randint(0, 10 ** rng.randint(1, 9))] for _ in range(5)] + [[0]]
    raise ValueError(f"unknown task {task!r}")


def _call(solution: str, entry: str, args: list[Any]) -> Any:
    env: dict[str, Any] = {"__builtins__": dict(_SAFE_BUILTINS)}
    exec(compile(solution, "<solution>", "exec"), env)  # noqa: S102 -- our own template solution
    return env[entry](*[list(a) if isinstance(a, list) else a for a in args])


def _render_tests(task: str, inputs: list[list[Any]]) -> str:
    _, solution = _TASKS[task]
    lines = []
    for args in inputs:
        want = _call(solution, task, args)
        lines.append(f"assert {task}({', '.join(repr(a) for a in args)}) == {want!r}")
    return "\n".join(lines) + "\n"


def _verify_function(case: dict[str, Any], base: Path) -> list[str]:
    t = truth(case)
    ref = case.get("reference") or {}
    if t["task"] not in _TASKS:
        return [f"unknown task {t['task']!r}"]
    probs = []
    tests = _render_tests(t["task"], t["inputs"])
    if ref.get("tests") != tests:
        probs.append("tests do not match the ones recomputed from the ground truth")
    if ref.get("entry_point") != t["task"]:
        probs.append("entry_point does not name the task's function")
    if ref.get("solution") != _TASKS[t["task"]][1]:
        probs.append("solution is not the task's reference solution")
    try:
        exec(compile(_TASKS[t["task"]][1] + tests, "<tests>", "exec"),  # noqa: S102 -- template code only
             {"__builtins__": {**_SAFE_BUILTINS, "AssertionError": AssertionError}})
    except AssertionError as e:
        probs.append(f"the reference solution fails its tests: {e}")
    return probs


@register("code/generalizability", "code_function_tests", verify=_verify_function)
def function_tests(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """Write a small function; hidden tests with fresh random inputs (and the edge
    cases the description names) decide, run in the sandbox."""
    names = sorted(_TASKS)
    task = names[(index + rng.randrange(len(names))) % len(names)]
    desc, solution = _TASKS[task]
    inputs = _task_inputs(rng, task)
    return GeneratedCase(
        category="generation",
        input=desc + " Reply with the code in a ```python block.",
        reference={"kind": "unit_tests", "tests": _render_tests(task, inputs), "entry_point": task,
                   "solution": solution},
        tags=["function", task],
        truth={"task": task, "inputs": inputs},
    )
