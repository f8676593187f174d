"""Drawn causal graphs: read a DAG from a picture, or notice a node it lacks."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from .. import GeneratedCase, register
from ..kit.answers import NUM_SUFFIX, image_part, numeric, reference_problems, text_part, truth, user, yes_no
from ..kit.blobs import exact_mask
from ..kit.colours import RGB
from ..kit.dags import descendants, parents
from .picture import first_image, load_font, save_png

_NODE_FILLS: tuple[RGB, ...] = ((255, 214, 165), (202, 255, 191), (155, 246, 255), (189, 178, 255),
                                (255, 173, 173), (253, 255, 182), (255, 198, 255))
_NODE_R = 28
_ARROW: RGB = (60, 60, 60)


def _random_dag(rng: random.Random, n: int, labels: list[str], extra: float = 0.3) -> list[list[str]]:
    """Edges over ``labels`` in a random topological order with exactly one root:
    every later node gets at least one parent, so "which node has no parents"
    has a unique answer."""
    order = list(labels)
    rng.shuffle(order)
    edges: set[tuple[str, str]] = set()
    for k in range(1, n):
        edges.add((order[rng.randrange(k)], order[k]))
        for j in range(k):
            if rng.random() < extra:
                edges.add((order[j], order[k]))
    return [list(e) for e in sorted(edges)]


def _draw_graph(rng: random.Random, labels: list[str], edges: list[list[str]]) -> tuple[Image.Image, dict[str, Any]]:
    """Nodes on a circle (chords never cross another node's disc), each a flat
    coloured disc with its label; arrows end at the target's rim."""
    size = 400
    c, ring = size / 2, 145
    start = rng.uniform(0, 2 * math.pi)
    order = list(labels)
    rng.shuffle(order)
    pos = {lab: (round(c + ring * math.cos(start + 2 * math.pi * k / len(order))),
                 round(c + ring * math.sin(start + 2 * math.pi * k / len(order)))) for k, lab in enumerate(order)}
    fills = dict(zip(sorted(labels), rng.sample(_NODE_FILLS, len(labels)), strict=True))
    img = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    for u, v in edges:
        (x0, y0), (x1, y1) = pos[u], pos[v]
        d = math.hypot(x1 - x0, y1 - y0)
        ux, uy = (x1 - x0) / d, (y1 - y0) / d
        sx, sy = x0 + ux * _NODE_R, y0 + uy * _NODE_R
        tx, ty = x1 - ux * (_NODE_R + 2), y1 - uy * (_NODE_R + 2)
        draw.line([(sx, sy), (tx - ux * 10, ty - uy * 10)], fill=_ARROW, width=3)
        draw.polygon([(tx, ty), (tx - ux * 16 - uy * 7, ty - uy * 16 + ux * 7),
                      (tx - ux * 16 + uy * 7, ty - uy * 16 - ux * 7)], fill=_ARROW)
    font = load_font(18, "DejaVuSans-Bold.ttf")
    for lab, (x, y) in pos.items():
        draw.ellipse((x - _NODE_R, y - _NODE_R, x + _NODE_R, y + _NODE_R), fill=fills[lab], outline=(0, 0, 0), width=2)
        draw.text((x, y), lab, font=font, fill=(0, 0, 0), anchor="mm")
    return img, {"positions": {k: list(v) for k, v in sorted(pos.items())},
                 "fills": {k: list(v) for k, v in sorted(fills.items())}}


def _graph_image_problems(case: dict[str, Any], base: Path, t: dict[str, Any]) -> list[str]:
    """Every node's coloured disc is in the picture (most of its area in its fill)."""
    import numpy as np

    arr, err = first_image(case, base)
    if arr is None:
        return err
    probs = []
    for lab, rgb in t["fills"].items():
        x, y = t["positions"][lab]
        r = _NODE_R - 3
        patch = exact_mask(arr[max(y - r, 0):y + r + 1, max(x - r, 0):x + r + 1], rgb)
        if patch.sum() < 0.5 * math.pi * r * r or not np.any(patch):
            probs.append(f"node {lab}'s disc (colour {tuple(rgb)}) not found at {x},{y}")
    return probs


def _graph_answer(t: dict[str, Any]) -> float | str:
    edges, q = t["edges"], t["question"]
    if q == "direct":
        return "Yes" if [t["u"], t["v"]] in edges else "No"
    if q == "path":
        return "Yes" if t["v"] in descendants(edges, t["u"]) else "No"
    if q == "root":
        roots = [lab for lab in t["labels"] if not parents(edges, lab)]
        return roots[0] if len(roots) == 1 else "|".join(roots)
    if q == "parents":
        return len(parents(edges, t["v"]))
    raise ValueError(f"unknown graph question {q!r}")


def _verify_graph(case: dict[str, Any], base: Path) -> list[str]:
    t = truth(case)
    return reference_problems(case, _graph_answer(t)) + _graph_image_problems(case, base, t)


_GRAPH_INTRO = "This picture is a causal graph: an arrow from one node to another means the first directly causes the second."


@register("image/causality", "img_causal_graph", verify=_verify_graph)
def causal_graph(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """Read a drawn causal DAG: a direct edge, a directed path, the root, a parent
    count. Labels are X1..Xn (not single letters, which rule judges would confuse
    with option letters), shuffled around the circle."""
    n = rng.randint(5, 6)
    labels = [f"X{k}" for k in range(1, n + 1)]
    edges = _random_dag(rng, n, labels)
    img, layout = _draw_graph(rng, labels, edges)
    path = save_png(img, media_dir, f"img_causal_graph_{index:05d}.png")
    q = ("direct", "path", "root", "parents")[index % 4]  # cycle, so any 4 consecutive cases cover all
    t: dict[str, Any] = {"question": q, "labels": labels, "edges": edges, **layout}
    if q == "direct":
        if rng.random() < 0.5:
            t["u"], t["v"] = rng.choice(edges)
        else:
            non = [(u, v) for u in labels for v in labels if u != v and [u, v] not in edges]
            t["u"], t["v"] = rng.choice(non)
        text = f"Does {t['u']} directly cause {t['v']} in this graph? Answer Yes or No."
        ref = yes_no(_graph_answer(t) == "Yes")
    elif q == "path":
        want = rng.random() < 0.5
        pairs = [(u, v) for u in labels for v in labels if u != v and (v in descendants(edges, u)) == want]
        t["u"], t["v"] = rng.choice(pairs)
        text = f"Is there a directed path from {t['u']} to {t['v']} in this graph? Answer Yes or No."
        ref = yes_no(want)
    elif q == "root":
        text = "Which node has no parents (no incoming arrows)? Answer with the node's label only."
        ref = {"kind": "choice", "options": labels, "answer": labels.index(str(_graph_answer(t)))}
    else:
        t["v"] = rng.choice(labels)
        text = f"How many direct causes (parents) does {t['v']} have in this graph?" + NUM_SUFFIX
        ref = numeric(_graph_answer(t))
    return GeneratedCase(category="causal_graph", input=user(image_part(path), text_part(f"{_GRAPH_INTRO} {text}")),
                         reference=ref, tags=["causal-graph", q], truth=t)


def _verify_graph_absent(case: dict[str, Any], base: Path) -> list[str]:
    t = truth(case)
    probs = []
    if t["absent"] in t["labels"]:
        probs.append(f"node {t['absent']} is in the graph, the question presumes it is absent")
    if (case.get("reference") or {}).get("kind") != "acknowledge_absent":
        probs.append("reference should be acknowledge_absent")
    return probs + _graph_image_problems(case, base, t)


def _absent_keywords(thing: str) -> list[str]:
    return [f"no {thing}", f"{thing} is not", f"{thing} isn't", f"{thing} does not", f"{thing} doesn't",
            "not in the graph", "not in the image", "not shown", "not present", "does not appear",
            "doesn't appear", "no node", "no such", "not part of"]


@register("image/causality", "img_causal_graph_absent", verify=_verify_graph_absent)
def causal_graph_absent(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """Causal hallucination: a question presupposing a node the graph lacks."""
    n = rng.randint(4, 6)
    labels = [f"X{k}" for k in range(1, n + 1)]
    edges = _random_dag(rng, n, labels)
    img, layout = _draw_graph(rng, labels, edges)
    path = save_png(img, media_dir, f"img_causal_graph_absent_{index:05d}.png")
    absent = f"X{rng.randint(n + 1, 9)}"
    other = rng.choice(labels)
    text = rng.choice([
        f"Which nodes does {absent} directly cause in this graph?",
        f"Through which node does {absent} affect {other} in this graph?",
        f"If we intervene on {absent}, which nodes of this graph change?",
        f"What are the parents of {absent} in this graph?",
    ])
    return GeneratedCase(
        category="causal_hallucination",
        input=user(image_part(path), text_part(f"{_GRAPH_INTRO} {text}")),
        reference={"kind": "acknowledge_absent", "keywords": _absent_keywords(absent)},
        tags=["causal-graph", "absent-node"],
        truth={"labels": labels, "edges": edges, "absent": absent, **layout},
    )
