"""Multi-step arithmetic: word problems, linear equations and systems, percentages."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path
from typing import Any

from .. import GeneratedCase, register
from ..kit.answers import NUM_SUFFIX, as_number, numeric, reference_problems, truth

_NAMES = ("Maya", "Omar", "Lena", "Kofi", "Priya", "Tomas", "Aiko", "Diego", "Nadia", "Sven", "Zara", "Ravi")


def _hours(h: int) -> str:
    return f"{h} hour" if h == 1 else f"{h} hours"


def _word_answer(t: dict[str, Any]) -> float | int:
    k = t["kind"]
    if k == "change":
        return t["bill"] - (t["n1"] * t["p1"] + t["n2"] * t["p2"])
    if k == "trip":
        return t["s1"] * t["h1"] + t["s2"] * t["h2"]
    if k == "ages":
        # sara + (sara + d) + 2 * years = total
        return (t["total"] - 2 * t["years"] - t["diff"]) // 2
    if k == "crates":
        rest = t["crates"] * t["per"] - t["sold"]
        return rest - rest // t["frac"]
    raise ValueError(f"unknown word problem {k!r}")


def _verify_word(case: dict[str, Any], base: Path) -> list[str]:
    return reference_problems(case, _word_answer(truth(case)))


@register("text/generalizability", "txt_word_problem", verify=_verify_word)
def word_problem(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """Multi-step arithmetic stories (the report found Gemini weak at math)."""
    kind = ("change", "trip", "ages", "crates")[(index + rng.randrange(4)) % 4]
    name, other = rng.sample(_NAMES, 2)
    if kind == "change":
        t = {"kind": kind, "n1": rng.randint(2, 6), "p1": rng.randint(2, 9), "n2": rng.randint(2, 5),
             "p2": rng.randint(3, 12)}
        spent = t["n1"] * t["p1"] + t["n2"] * t["p2"]
        t["bill"] = next(b for b in (20, 50, 100, 200) if b > spent)
        text = (f"Notebooks cost ${t['p1']} each and pens cost ${t['p2']} each. {name} buys {t['n1']} notebooks and "
                f"{t['n2']} pens and pays with a ${t['bill']} bill. How many dollars of change does {name} get?")
    elif kind == "trip":
        t = {"kind": kind, "s1": rng.randrange(40, 121, 5), "h1": rng.randint(1, 4), "s2": rng.randrange(30, 91, 5),
             "h2": rng.randint(1, 3)}
        change = "slows to" if t["s2"] < t["s1"] else "speeds up to" if t["s2"] > t["s1"] else "keeps going at"
        text = (f"A train travels at {t['s1']} km/h for {_hours(t['h1'])}, then {change} {t['s2']} km/h for another "
                f"{_hours(t['h2'])}. How many kilometres does it travel in total?")
    elif kind == "ages":
        sara, diff, years = rng.randint(4, 30), rng.randint(2, 12), rng.randint(2, 10)
        t = {"kind": kind, "diff": diff, "years": years, "total": 2 * sara + diff + 2 * years}
        text = (f"{name} is {diff} years older than {other}. In {years} years, the sum of their ages will be "
                f"{t['total']}. How old is {other} now?")
    else:
        frac = rng.choice([2, 3, 4, 5])
        crates, per = rng.randint(3, 9), rng.randrange(12, 49, 2)
        sold = rng.randint(5, crates * per // 2)
        sold += (crates * per - sold) % frac  # the rest divides evenly
        t = {"kind": kind, "crates": crates, "per": per, "sold": sold, "frac": frac}
        text = (f"A farmer fills {crates} crates with {per} apples each. She sells {sold} apples at the market and "
                f"gives 1/{frac} of the remaining apples to a neighbour. How many apples does she have left?")
    return GeneratedCase(category="math", input=text + NUM_SUFFIX, reference=numeric(_word_answer(t)),
                         tags=["math", "word-problem", kind], truth=t)


def _equation_answer(t: dict[str, Any]) -> float | int:
    if t["kind"] == "single":
        a, b, c, d = (t[k] for k in "abcd")
        return as_number(Fraction(d - b, a - c))
    (a1, b1, c1), (a2, b2, c2) = t["eq1"], t["eq2"]
    det = a1 * b2 - a2 * b1
    x = Fraction(c1 * b2 - c2 * b1, det)
    y = Fraction(a1 * c2 - a2 * c1, det)
    return as_number(x + y if t["ask"] == "x+y" else x if t["ask"] == "x" else y)


def _verify_equation(case: dict[str, Any], base: Path) -> list[str]:
    return reference_problems(case, _equation_answer(truth(case)))


def _lin(a: int, var: str) -> str:
    return var if a == 1 else f"-{var}" if a == -1 else f"{a}{var}"


def _signed(terms: list[str]) -> str:
    return " ".join(terms).replace("+ -", "- ")


@register("text/generalizability", "txt_linear_equation", verify=_verify_equation)
def linear_equation(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """A linear equation with unknowns on both sides, or a 2x2 system."""
    if rng.random() < 0.5:
        x = rng.randint(-9, 12)
        a, c = rng.sample([k for k in range(-6, 10) if k], 2)
        b = rng.randint(-20, 20)
        d = a * x + b - c * x
        t: dict[str, Any] = {"kind": "single", "a": a, "b": b, "c": c, "d": d}
        text = f"Solve for x: {_signed([_lin(a, 'x'), '+', str(b)])} = {_signed([_lin(c, 'x'), '+', str(d)])}."
    else:
        while True:
            x, y = rng.randint(-8, 9), rng.randint(-8, 9)
            a1, b1, a2, b2 = (rng.choice([k for k in range(-5, 6) if k]) for _ in range(4))
            if a1 * b2 - a2 * b1:
                break
        ask = rng.choice(["x", "y", "x+y"])
        t = {"kind": "system", "eq1": [a1, b1, a1 * x + b1 * y], "eq2": [a2, b2, a2 * x + b2 * y], "ask": ask}
        eqs = [f"{_signed([_lin(a, 'x'), '+', _lin(b, 'y')])} = {c}" for a, b, c in (t["eq1"], t["eq2"])]
        text = f"Given {eqs[0]} and {eqs[1]}, what is {ask.replace('+', ' + ')}?"
    return GeneratedCase(category="math", input=text + NUM_SUFFIX, reference=numeric(_equation_answer(t), 1e-4),
                         tags=["math", "equation", t["kind"]], truth=t)


def _percent_answer(t: dict[str, Any]) -> float | int:
    k = t["kind"]
    if k == "discount_tax":
        v = Fraction(t["price"]) * (100 - t["discount"]) / 100 * (100 + t["tax"]) / 100
        return round(float(v), 2)
    if k == "share":
        return as_number(Fraction(100 * t["part"], t["whole"]))
    if k == "change":
        return as_number(Fraction(100 * (t["new"] - t["old"]), t["old"]))
    raise ValueError(f"unknown percentage question {k!r}")


def _verify_percent(case: dict[str, Any], base: Path) -> list[str]:
    return reference_problems(case, _percent_answer(truth(case)))


@register("text/generalizability", "txt_percentage", verify=_verify_percent)
def percentage(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """Percentages: successive discount and tax (not additive), shares, changes."""
    kind = rng.choice(["discount_tax", "share", "change"])
    if kind == "discount_tax":
        t: dict[str, Any] = {"kind": kind, "price": rng.randrange(20, 400, 5), "discount": rng.choice([10, 15, 20, 25, 30, 40]),
                             "tax": rng.choice([5, 8, 10, 12, 20])}
        text = (f"A jacket costs ${t['price']}. It is discounted by {t['discount']}%, and then a {t['tax']}% sales tax "
                f"is added to the discounted price. What is the final price in dollars?")
        tol = 0.01
    elif kind == "share":
        whole = rng.choice([20, 25, 40, 50, 80, 125, 200, 250, 400])
        part = rng.randint(1, whole - 1)
        t = {"kind": kind, "part": part, "whole": whole}
        text = f"In a class survey, {part} of {whole} students chose chess. What percentage of the students chose chess?"
        tol = 0.01
    else:
        old = rng.choice([40, 50, 80, 120, 200, 250, 400])
        new = old + rng.choice([-1, 1]) * old * rng.choice([5, 10, 15, 20, 25, 30, 50]) // 100
        t = {"kind": kind, "old": old, "new": new}
        text = (f"A town's population went from {old} to {new}. By what percentage did it change? Give a negative "
                f"number for a decrease.")
        tol = 0.01
    return GeneratedCase(category="math", input=text + NUM_SUFFIX, reference=numeric(_percent_answer(t), tol),
                         tags=["math", "percentage", kind], truth=t)
