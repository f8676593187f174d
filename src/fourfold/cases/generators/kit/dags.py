"""Directed acyclic graphs as edge lists ``[[a, b], ...]`` (a -> b): the causal
questions of the text, code and image generators are answered with these."""

from __future__ import annotations

import itertools


def parents(edges: list[list[str]], node: str) -> list[str]:
    return sorted(u for u, v in edges if v == node)


def _reach(edges: list[list[str]], start: set[str], *, up: bool) -> set[str]:
    """Nodes reachable from ``start`` along the edges (against them when ``up``),
    ``start`` itself not included unless reached again."""
    out: set[str] = set()
    todo = list(start)
    while todo:
        u = todo.pop()
        for a, b in edges:
            src, dst = (b, a) if up else (a, b)
            if src == u and dst not in out:
                out.add(dst)
                todo.append(dst)
    return out


def descendants(edges: list[list[str]], node: str) -> set[str]:
    return _reach(edges, {node}, up=False)


def ancestors(edges: list[list[str]], nodes: set[str]) -> set[str]:
    """``nodes`` and every node with a directed path into one of them."""
    return set(nodes) | _reach(edges, nodes, up=True)


def d_separated(edges: list[list[str]], xs: set[str], ys: set[str], zs: set[str]) -> bool:
    """d-separation by the moralised ancestral graph (Lauritzen): xs and ys are
    d-separated given zs iff zs separates them once the ancestors of all three
    are moralised and directions dropped."""
    anc = ancestors(edges, xs | ys | zs)
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
    if zs & descendants(edges, x) or x in zs or y in zs:
        return False
    cut = [[a, b] for a, b in edges if a != x]
    return d_separated(cut, {x}, {y}, zs)
