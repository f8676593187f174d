"""Case views made while a run is still answering, so that the report at its end
only has to check them.

Why: a run spends its last moments writing the report, and building the per-case
views (the prompt, the reference, every answer's escaped forms, the stored case
validated again) was half of that: about 0.15 s for 2,000 cases, at the very end,
while during the run the process mostly waits on the network. ``PreparedCases``
takes each batch of results as it is committed and, once every model of the run
has answered a case, makes that case's view then.

A view made ahead is used only for exactly the results it was made from: the same
effective results (every field: verdict, rationale, response, latency...), in the
same order, for the same stored case. Anything the run did not see (a judge
model's or a person's verdict, another model's result in the store, a later run)
makes the report build that view as usual, so the report is the same with or
without this. Cases with images or video are left to the report: their views
depend on how the report embeds media.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING

from ..score.precedence import EffectiveResult, effective
from ..store.records import RESULT_COLUMNS, StoredResult
from .media import MediaEmbedder
from .views import CaseView, case_view

if TYPE_CHECKING:
    from ..cases import Case
    from ..store import ResultRow

_STORED_VALUES = attrgetter(*RESULT_COLUMNS)
_VERDICT = RESULT_COLUMNS.index("verdict")
_NOTHING: dict[str, object] = {}


class PreparedCases:
    """Views of a run's text-only cases, keyed by (cell, case id), each with the
    results it shows. ``models``: the run's models (a case is ready once each has
    a result); ``cases``: the run's cases by (cell, case id)."""

    def __init__(self, models: Iterable[str], cases: Mapping[tuple[str, str], Case]) -> None:
        self._models = sorted(set(models))  # the report lists a case's results in model-name order
        self._cases = cases
        self._pending: dict[tuple[str, str], dict[str, EffectiveResult]] = {}
        self._views: dict[tuple[str, str], tuple[tuple[EffectiveResult, ...], CaseView]] = {}
        self._media = MediaEmbedder()  # never used: text-only cases have no media
        self.used = 0

    def add(self, rows: Iterable[ResultRow]) -> None:
        """Committed results, as the store holds them (redacted in place on commit)."""
        for row in rows:
            key = (row.cell, row.case_id)
            case = self._cases.get(key)
            if case is None or case.media():
                continue
            values = list(_STORED_VALUES(row))
            values[_VERDICT] = str(values[_VERDICT])  # a Verdict member: the store hands back its value
            got = self._pending.setdefault(key, {})
            got[row.model] = effective(StoredResult(*values), _NOTHING, _NOTHING)  # type: ignore[arg-type]
            if len(got) == len(self._models) and all(m in got for m in self._models):
                rs = tuple(got[m] for m in self._models)
                self._views[key] = (rs, case_view("", rs, case, None, self._media))
                del self._pending[key]

    def view(self, cell: str, case_id: str, rs: Sequence[EffectiveResult]) -> CaseView | None:
        """The view made for exactly these results, or None (the report makes it)."""
        made = self._views.get((cell, case_id))
        if made is None or made[0] != tuple(rs):
            return None
        self.used += 1
        return made[1]

    def __len__(self) -> int:
        return len(self._views)
