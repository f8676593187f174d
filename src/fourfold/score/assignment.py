"""Who judges which case, and how far each person has got: decisions over what
the store holds, so they live here and the store only reads and inserts rows.

Assignment is greedy and balanced: each case that still lacks people gets those
with the fewest assignments so far, ties broken by a hash of case and name so
pairs of annotators vary from case to case (the agreement statistics need
overlapping, varied pairs). Existing assignments are kept, so assigning again
after new cases or new people only fills what is missing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..store import human
from ..store.human import AnnotationError, token_digest

if TYPE_CHECKING:
    from ..store import Store
    from ..store.records import AssignedCase


@dataclass(frozen=True, slots=True)
class Assignment:
    """One of a person's cases with their progress on it. ``done``: every response
    has their verdict and, with two or more responses, they saved a ranking."""

    case_hash: str
    case_id: str
    cell: str
    category: str
    assigned_at: float
    n_responses: int
    n_judged: int
    ranked: bool
    done: bool


def plan(cases: Mapping[str, str], people: Sequence[str], have: Mapping[str, Iterable[str]], k: int
         ) -> list[tuple[str, str]]:
    """New ``(person, case_hash)`` pairs giving every case in ``cases``
    (``{case_hash: cell}``) ``k`` people among ``people``, given who already has
    which case (``have``: ``{case_hash: names}``). Cases are taken in (cell, hash)
    order, so the plan is the same for the same inputs."""
    if k < 1:
        raise AnnotationError(f"k must be at least 1, got {k}")
    holders = {h: set(names) for h, names in have.items()}
    load = Counter(dict.fromkeys(people, 0))
    for names in holders.values():
        load.update(n for n in names if n in load)
    new: list[tuple[str, str]] = []
    for h in sorted(cases, key=lambda h: (cases[h], h)):
        taken = holders.setdefault(h, set())
        need = k - len(taken)
        if need <= 0:
            continue
        free = sorted((p for p in people if p not in taken), key=lambda p: (load[p], token_digest(f"{h}\x00{p}")))
        for p in free[:need]:
            new.append((p, h))
            load[p] += 1
            taken.add(p)
    return new


def assign(store: Store, k: int = 3, cells: Sequence[str] | None = None,
           names: Sequence[str] | None = None) -> int:
    """Give every annotatable case to ``k`` annotators (see ``plan``); returns how
    many assignments were added. ``cells`` restricts to cells or whole modalities
    (``"image"``); ``names`` to some annotators (default: all)."""
    if k < 1:
        raise AnnotationError(f"k must be at least 1, got {k}")
    people = [a.name for a in human.annotators(store)]
    if names is not None:
        unknown = sorted(set(names) - set(people))
        if unknown:
            raise AnnotationError(f"unknown annotators: {', '.join(unknown)}")
        people = [p for p in people if p in set(names)]
    if not people:
        return 0
    pairs = plan(human.annotatable_cases(store, cells), people, human.assignment_holders(store), k)
    human.add_assignments(store, pairs)
    return len(pairs)


def progress(cases: Sequence[AssignedCase], responses: Mapping[str, Sequence[str]], judged: set[str],
             ranked: set[str]) -> list[Assignment]:
    """Each assigned case with the person's progress: ``responses`` maps a case
    hash to the keys of its answered results, ``judged`` holds the result keys the
    person gave a verdict on and ``ranked`` the case hashes they ranked."""
    out = []
    for c in cases:
        keys = responses.get(c.case_hash, ())
        n_judged = sum(key in judged for key in keys)
        done = bool(keys) and n_judged == len(keys) and (len(keys) < 2 or c.case_hash in ranked)
        out.append(Assignment(c.case_hash, c.case_id, c.cell, c.category, c.assigned_at, len(keys), n_judged,
                              c.case_hash in ranked, done))
    return out


def assignments_for(store: Store, annotator: str) -> list[Assignment]:
    """The annotator's cases in a stable order (cell, case id) with their progress."""
    cases = human.assigned_cases(store, annotator)
    responses = {h: [r.key for r in rs] for h, rs in human.case_responses(store, [c.case_hash for c in cases]).items()}
    judged, ranked = human.annotator_marks(store, annotator)
    return progress(cases, responses, judged, ranked)


__all__ = ["Assignment", "assign", "assignments_for", "plan", "progress"]
