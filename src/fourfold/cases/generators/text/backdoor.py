"""Causality as code: the back-door criterion on a random DAG given as Python, and a
question about a node the DAG lacks.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

from .. import GeneratedCase, register
from ..kit.answers import truth
from ..kit.dags import backdoor_valid, descendants


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
    if rng.random() < 0.7 or not descendants([list(e) for e in edges], "X") & {"Y"}:
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
    t = truth(case)
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
    t = truth(case)
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
