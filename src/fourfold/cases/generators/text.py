"""Template generators for the text and code cells, answers computed not typed.

Hand-written suites leak into training data and are slow to grow; these
templates give an unlimited supply of fresh variants of the report's question
types (multi-step math, causal calculation, collider and confounder bias,
counterfactuals, "what does this code print", small functions with unit tests,
the back-door criterion, a node that is not in the DAG) whose answers come from
code, never from a person's arithmetic.

Each case keeps the parameters it was built from in ``metadata.ground_truth``;
``verify`` recomputes the answer (re-running the template code for code cases)
and checks the reference against it, so a hand-edited or stale case is caught.
"""

from __future__ import annotations

import itertools
import random
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

from . import GeneratedCase, register

_NUM_SUFFIX = " End your reply with 'Answer: <number>'."
_NAMES = ("Maya", "Omar", "Lena", "Kofi", "Priya", "Tomas", "Aiko", "Diego", "Nadia", "Sven", "Zara", "Ravi")


# ---------------------------------------------------------------- checking references


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", str(s)).strip().lower()


def reference_problems(case: dict[str, Any], expected: Any) -> list[str]:
    """Problems with a case's reference given the answer recomputed from its
    ground truth (empty when they agree). Shared by the image generators."""
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


def _truth(case: dict[str, Any]) -> dict[str, Any]:
    return (case.get("metadata") or {}).get("ground_truth") or {}


def _numeric(answer: float, tolerance: float = 0.0) -> dict[str, Any]:
    ref: dict[str, Any] = {"kind": "numeric", "answer": answer}
    if tolerance:
        ref["tolerance"] = tolerance
    return ref


def _yes_no(answer: bool) -> dict[str, Any]:
    return {"kind": "choice", "options": ["Yes", "No"], "answer": 0 if answer else 1}


def _as_number(x: Fraction) -> float | int:
    return int(x) if x.denominator == 1 else float(x)


# ---------------------------------------------------------------- text / generalizability: math


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
    return reference_problems(case, _word_answer(_truth(case)))


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
    return GeneratedCase(category="math", input=text + _NUM_SUFFIX, reference=_numeric(_word_answer(t)),
                         tags=["math", "word-problem", kind], truth=t)


def _equation_answer(t: dict[str, Any]) -> float | int:
    if t["kind"] == "single":
        a, b, c, d = (t[k] for k in "abcd")
        return _as_number(Fraction(d - b, a - c))
    (a1, b1, c1), (a2, b2, c2) = t["eq1"], t["eq2"]
    det = a1 * b2 - a2 * b1
    x = Fraction(c1 * b2 - c2 * b1, det)
    y = Fraction(a1 * c2 - a2 * c1, det)
    return _as_number(x + y if t["ask"] == "x+y" else x if t["ask"] == "x" else y)


def _verify_equation(case: dict[str, Any], base: Path) -> list[str]:
    return reference_problems(case, _equation_answer(_truth(case)))


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
    return GeneratedCase(category="math", input=text + _NUM_SUFFIX, reference=_numeric(_equation_answer(t), 1e-4),
                         tags=["math", "equation", t["kind"]], truth=t)


def _percent_answer(t: dict[str, Any]) -> float | int:
    k = t["kind"]
    if k == "discount_tax":
        v = Fraction(t["price"]) * (100 - t["discount"]) / 100 * (100 + t["tax"]) / 100
        return round(float(v), 2)
    if k == "share":
        return _as_number(Fraction(100 * t["part"], t["whole"]))
    if k == "change":
        return _as_number(Fraction(100 * (t["new"] - t["old"]), t["old"]))
    raise ValueError(f"unknown percentage question {k!r}")


def _verify_percent(case: dict[str, Any], base: Path) -> list[str]:
    return reference_problems(case, _percent_answer(_truth(case)))


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
    return GeneratedCase(category="math", input=text + _NUM_SUFFIX, reference=_numeric(_percent_answer(t), tol),
                         tags=["math", "percentage", kind], truth=t)


# ---------------------------------------------------------------- causal helpers (DAGs)

_LETTERS = tuple("BCDEFGHKLMNPQRSTUVWZ")  # no A or I: rule judges read them as articles/pronouns
_NONCE_VARS = ("glim level", "zorb count", "flenn rate", "trask index", "vonn score", "plex density", "quib yield",
               "morv pressure", "daxen output", "skell ratio", "brim load", "yoth intake")


def _parents(edges: list[list[str]], node: str) -> list[str]:
    return sorted(u for u, v in edges if v == node)


def _descendants(edges: list[list[str]], node: str) -> set[str]:
    out: set[str] = set()
    todo = [node]
    while todo:
        u = todo.pop()
        for a, b in edges:
            if a == u and b not in out:
                out.add(b)
                todo.append(b)
    return out


def _ancestors(edges: list[list[str]], nodes: set[str]) -> set[str]:
    out = set(nodes)
    todo = list(nodes)
    while todo:
        v = todo.pop()
        for a, b in edges:
            if b == v and a not in out:
                out.add(a)
                todo.append(a)
    return out


def d_separated(edges: list[list[str]], xs: set[str], ys: set[str], zs: set[str]) -> bool:
    """d-separation by the moralised ancestral graph (Lauritzen): xs and ys are
    d-separated given zs iff zs separates them once the ancestors of all three
    are moralised and directions dropped."""
    anc = _ancestors(edges, xs | ys | zs)
    adj: dict[str, set[str]] = {v: set() for v in anc}
    sub = [(a, b) for a, b in edges if a in anc and b in anc]
    for a, b in sub:
        adj[a].add(b)
        adj[b].add(a)
    for v in anc:
        ps = [a for a, b in sub if b == v]
        for p, q in itertools.combinations(ps, 2):
            adj[p].add(q)
            adj[q].add(p)
    seen = set(xs - zs)
    todo = list(seen)
    while todo:
        u = todo.pop()
        if u in ys:
            return False
        for w in adj[u]:
            if w not in seen and w not in zs:
                seen.add(w)
                todo.append(w)
    return True


def backdoor_valid(edges: list[list[str]], x: str, y: str, zs: set[str]) -> bool:
    """Pearl's back-door criterion: no member of zs descends from x, and zs blocks
    every path from x to y that starts with an arrow into x."""
    if zs & _descendants(edges, x) or x in zs or y in zs:
        return False
    cut = [[a, b] for a, b in edges if a != x]
    return d_separated(cut, {x}, {y}, zs)


# ---------------------------------------------------------------- text / causality


def _scm_means(eqs: list[dict[str, Any]], do: dict[str, int]) -> dict[str, Fraction]:
    """Expected values under an intervention in a linear SCM with zero-mean noise."""
    mean: dict[str, Fraction] = {}
    for e in eqs:
        v = e["var"]
        if v in do:
            mean[v] = Fraction(do[v])
        else:
            mean[v] = Fraction(e["const"]) + sum((Fraction(c) * mean[p] for p, c in e["coef"]), Fraction(0))
    return mean


def _scm_answer(t: dict[str, Any]) -> float | int:
    x, y = t["x"], t["y"]
    if t["ask"] == "level":
        return _as_number(_scm_means(t["equations"], {x: t["x1"]})[y])
    diff = _scm_means(t["equations"], {x: t["x1"]})[y] - _scm_means(t["equations"], {x: t["x0"]})[y]
    return _as_number(diff)


def _verify_scm(case: dict[str, Any], base: Path) -> list[str]:
    return reference_problems(case, _scm_answer(_truth(case)))


def _equation_text(e: dict[str, Any]) -> str:
    terms = [str(e["const"])] if e["const"] or not e["coef"] else []
    for p, c in e["coef"]:
        if not terms:
            terms.append(f"{c}*{p}")
        else:
            terms.append(f"+ {c}*{p}" if c >= 0 else f"- {-c}*{p}")
    return f"{e['var']} = {' '.join(terms)} + U_{e['var']}"


@register("text/causality", "txt_scm_intervention", verify=_verify_scm)
def scm_intervention(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """Causal calculation in a linear SCM with a confounder Z and a mediator M:
    the effect of do(X) adds the direct and mediated paths and ignores Z's path,
    which a correlational reading would wrongly include."""
    z, x, m, y = rng.sample(_LETTERS, 4)

    def coef() -> int:
        return rng.choice([-3, -2, -1, 1, 2, 3, 4])

    eqs = [
        {"var": z, "const": rng.randint(0, 6), "coef": []},
        {"var": x, "const": rng.randint(-3, 5), "coef": [[z, coef()]]},
        {"var": m, "const": rng.randint(-3, 5), "coef": [[x, coef()]]},
        {"var": y, "const": rng.randint(-5, 5),
         "coef": [[x, coef()]] * (rng.random() < 0.6) + [[m, coef()], [z, coef()]]},
    ]
    ask = rng.choice(["level", "effect"])
    x0, x1 = sorted(rng.sample(range(-3, 8), 2))
    t = {"equations": eqs, "x": x, "y": y, "ask": ask, "x0": x0, "x1": x1}
    model = "\n".join(_equation_text(e) for e in eqs)
    lead = ("Consider this linear structural causal model. Every noise term U_V has mean 0 and is independent of "
            "the others.\n" + model + "\n")
    if ask == "level":
        q = f"What is the expected value of {y} under the intervention do({x} = {x1})?"
    else:
        q = (f"What is the average causal effect on {y} of setting {x} to {x1} instead of {x0}, i.e. "
             f"E[{y} | do({x} = {x1})] - E[{y} | do({x} = {x0})]?")
    return GeneratedCase(category="causal_calculation", input=lead + q + _NUM_SUFFIX,
                         reference=_numeric(_scm_answer(t), 1e-4), tags=["scm", "intervention", ask], truth=t)


def _bias_answer(t: dict[str, Any]) -> str:
    dep = not d_separated(t["edges"], {t["a"]}, {t["b"]}, set(t["given"]))
    return "Yes" if dep else "No"


def _verify_bias(case: dict[str, Any], base: Path) -> list[str]:
    return reference_problems(case, _bias_answer(_truth(case)))


@register("text/causality", "txt_collider_confounder", verify=_verify_bias)
def collider_confounder(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """Confounders, colliders and chains on nonsense variables (no world knowledge
    to lean on): is there an association, with or without conditioning? The
    answer is d-connection, assuming faithfulness, as the prompt states."""
    a, b, c = rng.sample(_NONCE_VARS, 3)
    structure = ("confounder", "collider", "chain")[(index + rng.randrange(3)) % 3]
    given = [c] if rng.random() < 0.5 else []
    if structure == "confounder":
        edges = [[c, a], [c, b]]
        story = f"The {c} causes both the {a} and the {b}. The {a} and the {b} do not affect each other"
    elif structure == "collider":
        edges = [[a, c], [b, c]]
        story = f"The {a} and the {b} both cause the {c}. The {a} and the {b} do not affect each other"
    else:
        edges = [[a, c], [c, b]]
        story = f"The {a} causes the {c}, and the {c} causes the {b}. The {a} has no other effect on the {b}"
    story += (", and nothing else connects these three quantities. Assume every causal influence shows up as a "
              "statistical dependence")
    if given:
        q = f"Among units that all have the same {c}, are the {a} and the {b} statistically associated?"
    else:
        q = f"In the population as a whole, are the {a} and the {b} statistically associated?"
    t = {"structure": structure, "edges": edges, "a": a, "b": b, "given": given}
    return GeneratedCase(category="bias", input=f"{story}. {q} Answer Yes or No.",
                         reference=_yes_no(_bias_answer(t) == "Yes"), tags=["causal-bias", structure,
                                                                              "conditioned" if given else "marginal"],
                         truth=t)


def _cf_answer(t: dict[str, Any]) -> float | int | str:
    if t["kind"] == "linear":
        a, b, c = t["a"], t["b"], t["c"]
        u_m = t["m"] - a * t["x"]
        u_y = t["y"] - b * t["x"] - c * t["m"]
        m2 = a * t["x2"] + u_m
        return b * t["x2"] + c * m2 + u_y
    vals = dict(t["observed"])
    vals[t["flip"]] = 1 - vals[t["flip"]]
    p, q = vals["p"], vals["q"]
    out = {"and": p & q, "or": p | q, "xor": p ^ q}[t["mechanism"]]
    return "Yes" if out == 1 else "No"


def _verify_cf(case: dict[str, Any], base: Path) -> list[str]:
    return reference_problems(case, _cf_answer(_truth(case)))


@register("text/causality", "txt_counterfactual", verify=_verify_cf)
def counterfactual(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """Counterfactuals in a deterministic structural model: abduction (recover the
    unit's noise from what was observed), action, prediction; or overdetermination
    with AND / OR / XOR mechanisms."""
    if rng.random() < 0.5:
        x, m, y = rng.sample(_LETTERS, 3)
        a, b, c = (rng.choice([-3, -2, -1, 1, 2, 3]) for _ in range(3))
        xv, x2 = rng.sample(range(-4, 8), 2)
        mv = a * xv + rng.randint(-5, 5)
        yv = b * xv + c * mv + rng.randint(-5, 5)
        t: dict[str, Any] = {"kind": "linear", "a": a, "b": b, "c": c, "x": xv, "m": mv, "y": yv, "x2": x2,
                             "names": [x, m, y]}
        text = (f"A deterministic structural model: {x} = U_{x}; {m} = {a}*{x} + U_{m}; "
                f"{y} = {b}*{x} + {c}*{m} + U_{y}. For one unit we observe {x} = {xv}, {m} = {mv} and {y} = {yv}. "
                f"For this same unit, what would {y} have been had {x} been {x2}?" + _NUM_SUFFIX)
        ref = _numeric(_cf_answer(t), 1e-6)
    else:
        mech = rng.choice(["and", "or", "xor"])
        obs = {"p": rng.randint(0, 1), "q": rng.randint(0, 1)}
        flip = rng.choice(["p", "q"])
        t = {"kind": "boolean", "mechanism": mech, "observed": obs, "flip": flip}
        p_name, q_name, out_name = rng.sample(["switch P", "switch Q", "valve R", "sensor S", "relay T"], 2) + ["lamp L"]
        rule = {"and": f"both {p_name} and {q_name} are on", "or": f"at least one of {p_name} and {q_name} is on",
                "xor": f"exactly one of {p_name} and {q_name} is on"}[mech]
        on = {1: "on", 0: "off"}
        actual = {"and": obs["p"] & obs["q"], "or": obs["p"] | obs["q"], "xor": obs["p"] ^ obs["q"]}[mech]
        flipped = p_name if flip == "p" else q_name
        text = (f"{out_name[0].upper() + out_name[1:]} is on exactly when {rule}; nothing else affects it. Today "
                f"{p_name} was {on[obs['p']]}, {q_name} was {on[obs['q']]}, and so {out_name} was {on[actual]}. "
                f"Had {flipped} been {on[1 - obs[flip]]} today (everything else the same), would {out_name} have "
                f"been on? Answer Yes or No.")
        ref = _yes_no(_cf_answer(t) == "Yes")
    return GeneratedCase(category="counterfactual", input=text, reference=ref,
                         tags=["counterfactual", t["kind"]], truth=t)


# ---------------------------------------------------------------- code / generalizability

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
    t = _truth(case)
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
    t = _truth(case)
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


# ---------------------------------------------------------------- code / causality


def _random_causal_dag(rng: random.Random) -> tuple[list[list[str]], list[str]]:
    """Treatment X, outcome Y, and 3-5 covariates in a random order with X before
    Y and an effect of X on Y (direct, or through a mediator)."""
    covs = [f"Z{k}" for k in range(1, rng.randint(4, 6))]
    order = list(covs)
    rng.shuffle(order)
    i, j = sorted(rng.sample(range(len(order) + 2), 2))
    order.insert(i, "X")
    order.insert(j, "Y")
    edges: set[tuple[str, str]] = set()
    for a, b in itertools.combinations(order, 2):
        if (a, b) == ("X", "Y"):
            continue
        if rng.random() < 0.38:
            edges.add((a, b))
    if rng.random() < 0.7 or not _descendants([list(e) for e in edges], "X") & {"Y"}:
        edges.add(("X", "Y"))
    return [list(e) for e in sorted(edges)], order


def _set_text(zs: list[str]) -> str:
    return "{" + ", ".join(zs) + "}" if zs else "{} (the empty set: no adjustment needed)"


def _minimal_sets(edges: list[list[str]], nodes: list[str]) -> list[list[str]]:
    """All valid back-door sets of the smallest size (each is minimal)."""
    cands = sorted(n for n in nodes if n not in ("X", "Y"))
    for size in range(len(cands) + 1):
        found = [list(c) for c in itertools.combinations(cands, size) if backdoor_valid(edges, "X", "Y", set(c))]
        if found:
            return found
    return []


def _is_minimal_valid(edges: list[list[str]], zs: list[str]) -> bool:
    if not backdoor_valid(edges, "X", "Y", set(zs)):
        return False
    return not any(backdoor_valid(edges, "X", "Y", set(c)) for r in range(len(zs))
                   for c in itertools.combinations(zs, r))


def _verify_backdoor(case: dict[str, Any], base: Path) -> list[str]:
    t = _truth(case)
    probs = []
    for i, zs in enumerate(t["options"]):
        good = _is_minimal_valid(t["edges"], zs)
        if good != (i == t["answer"]):
            probs.append(f"option {chr(65 + i)} {_set_text(zs)} is {'a' if good else 'not a'} minimal valid set")
    ref = case.get("reference") or {}
    if ref.get("answer") not in (t["answer"], chr(65 + t["answer"])):
        probs.append(f"reference answer {ref.get('answer')!r} but the ground truth gives option {t['answer']}")
    return probs


def _dag_code(edges: list[list[str]], nodes: list[str]) -> str:
    body = ",\n".join(f"    ({a!r}, {b!r})" for a, b in edges)
    return (f"# A causal DAG: each pair (a, b) is an edge a -> b.\n"
            f"nodes = {sorted(nodes)!r}\n"
            f"edges = [\n{body},\n]\n"
            f"treatment, outcome = 'X', 'Y'\n")


@register("code/causality", "code_backdoor", verify=_verify_backdoor)
def backdoor(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """The back-door criterion on a random DAG given as code: pick the minimal
    valid adjustment set among sets that fail (a descendant of X, a collider
    opened, a back-door path left open)."""
    # Mostly DAGs with confounding (the empty set fails), so the question is not
    # "is there a back-door path at all" most of the time.
    want_confounded = rng.random() < 0.8
    while True:
        edges, nodes = _random_causal_dag(rng)
        if want_confounded and backdoor_valid(edges, "X", "Y", set()):
            continue
        minimal = _minimal_sets(edges, nodes)
        covs = sorted(n for n in nodes if n not in ("X", "Y"))
        subsets = [list(c) for r in range(len(covs) + 1) for c in itertools.combinations(covs, r)]
        invalid = [s for s in subsets if not backdoor_valid(edges, "X", "Y", set(s))]
        if minimal and len(invalid) >= 3:
            break
    correct = rng.choice(minimal)
    # Distractors near the right size are the instructive ones.
    invalid.sort(key=lambda s: (abs(len(s) - len(correct)), rng.random()))
    options = [correct, *invalid[:3]]
    rng.shuffle(options)
    answer = options.index(correct)
    letters = "\n".join(f"{chr(65 + i)}. {_set_text(zs)}" for i, zs in enumerate(options))
    text = (f"```python\n{_dag_code(edges, nodes)}```\n"
            "Which of these sets is a minimal valid adjustment set for estimating the causal effect of X on Y with "
            "the back-door criterion (valid, and no proper subset of it is valid)?\n"
            f"{letters}\nAnswer with the letter of the option.")
    return GeneratedCase(category="backdoor", input=text,
                         reference={"kind": "choice", "options": [_set_text(z) for z in options], "answer": answer},
                         tags=["backdoor", "dag"], truth={"edges": edges, "nodes": nodes, "options": options,
                                                          "answer": answer})


def _verify_absent_node(case: dict[str, Any], base: Path) -> list[str]:
    t = _truth(case)
    probs = []
    if t["absent"] in t["nodes"] or any(t["absent"] in e for e in t["edges"]):
        probs.append(f"node {t['absent']} is in the DAG, the question presumes it is absent")
    if (case.get("reference") or {}).get("kind") != "acknowledge_absent":
        probs.append("reference should be acknowledge_absent")
    return probs


@register("code/causality", "code_absent_node", verify=_verify_absent_node)
def absent_node(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """A coding question about a node the DAG lacks: the model must notice it is
    absent rather than invent parents or an adjustment set for it."""
    edges, nodes = _random_causal_dag(rng)
    # Two characters: keywords like "W3 is not" must not match inside ordinary words.
    absent = rng.choice(["W3", "V2", "Z9", "M7", "U1", "Q5"])
    other = rng.choice([n for n in nodes if n != "X"])
    text = rng.choice([
        f"Write a function `parents(node)` for this DAG and tell me what `parents({absent!r})` returns, listing the parents of {absent}.",
        f"Using this DAG, which variables must we adjust for to estimate the causal effect of {absent} on {other}? "
        "Give the adjustment set and the code that computes it.",
        f"Complete the code to print every descendant of {absent} in this DAG, and say which nodes it prints.",
    ])
    keywords = [f"no node {absent}", f"{absent} is not", f"{absent} isn't", f"{absent} does not", f"{absent} doesn't",
                f"no {absent}", f"{absent} not", "not in the graph", "not in the dag", "not present", "not one of the nodes",
                "does not appear", "doesn't appear", "keyerror", "no such"]
    return GeneratedCase(category="absent_node", input=f"```python\n{_dag_code(edges, nodes)}```\n{text}",
                         reference={"kind": "acknowledge_absent", "keywords": keywords},
                         tags=["absent-node", "dag"], truth={"edges": edges, "nodes": nodes, "absent": absent})


__all__ = ["backdoor_valid", "d_separated", "reference_problems"]
