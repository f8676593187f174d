"""Causal questions in words: a linear SCM under intervention, collider and confounder
bias on nonsense variables, and counterfactuals (abduction, action, prediction).
"""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path
from typing import Any

from .. import GeneratedCase, register
from ..kit.answers import NUM_SUFFIX, as_number, numeric, reference_problems, truth, yes_no
from ..kit.dags import d_separated

_LETTERS = tuple("BCDEFGHKLMNPQRSTUVWZ")  # no A or I: rule judges read them as articles/pronouns
_NONCE_VARS = ("glim level", "zorb count", "flenn rate", "trask index", "vonn score", "plex density", "quib yield",
               "morv pressure", "daxen output", "skell ratio", "brim load", "yoth intake")


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
        return as_number(_scm_means(t["equations"], {x: t["x1"]})[y])
    diff = _scm_means(t["equations"], {x: t["x1"]})[y] - _scm_means(t["equations"], {x: t["x0"]})[y]
    return as_number(diff)


def _verify_scm(case: dict[str, Any], base: Path) -> list[str]:
    return reference_problems(case, _scm_answer(truth(case)))


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
    return GeneratedCase(category="causal_calculation", input=lead + q + NUM_SUFFIX,
                         reference=numeric(_scm_answer(t), 1e-4), tags=["scm", "intervention", ask], truth=t)


def _bias_answer(t: dict[str, Any]) -> str:
    dep = not d_separated(t["edges"], {t["a"]}, {t["b"]}, set(t["given"]))
    return "Yes" if dep else "No"


def _verify_bias(case: dict[str, Any], base: Path) -> list[str]:
    return reference_problems(case, _bias_answer(truth(case)))


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
                         reference=yes_no(_bias_answer(t) == "Yes"), tags=["causal-bias", structure,
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
    return reference_problems(case, _cf_answer(truth(case)))


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
                f"For this same unit, what would {y} have been had {x} been {x2}?" + NUM_SUFFIX)
        ref = numeric(_cf_answer(t), 1e-6)
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
        ref = yes_no(_cf_answer(t) == "Yes")
    return GeneratedCase(category="counterfactual", input=text, reference=ref,
                         tags=["counterfactual", t["kind"]], truth=t)
