"""Tokens and money per model and cell, from the stored token counts and a price table.

The store keeps each result's prompt and completion tokens as the backend
reported them; what they cost is decided here, at reading time, so a corrected
price table re-prices old runs without re-running them. Prices come from the
packaged ``prices.toml`` or the user's own file (``--prices``), never from the
network. A model the table does not price has an unknown cost (None, shown as
"unknown"), never 0: "free" and "not known" must not look alike. In-process
backends are declared at 0 in the packaged table: they cost time, not money.

The counts are over the results a report shows (the latest per model and case):
retries and earlier runs of the same case are not in them.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..cases.taxonomy import CELLS

if TYPE_CHECKING:
    from ..store.records import StoredResult

_CELL_ORDER = {c: i for i, c in enumerate(CELLS)}
PACKAGED_PRICES = Path(__file__).with_name("prices.toml")
#: A dated or versioned model name priced as its base: -2024-08-06, -20241022, -002, -latest.
_VERSION_SUFFIX = re.compile(r"-(?:\d[\d.-]*|latest)$")


class PriceFileError(ValueError):
    """A price file that cannot be used: ``FILE:LINE: FIELD: what is wrong``."""


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million input and output tokens, and which table entry gave it."""

    input_per_m: float
    output_per_m: float
    matched: str

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_m + completion_tokens * self.output_per_m) / 1e6

    @property
    def free(self) -> bool:
        return self.input_per_m == 0 and self.output_per_m == 0


@dataclass(frozen=True)
class PriceTable:
    """Prices by model name (or full label) and by backend kind; ``source`` says
    which file they came from ("packaged" for fourfold's own)."""

    models: dict[str, tuple[float, float]]
    backends: dict[str, tuple[float, float]]
    as_of: str = ""
    note: str = ""
    source: str = "packaged"

    def price(self, label: str) -> Price | None:
        """The price of the model labelled ``label`` (its spec): the label itself,
        then its name (``openai/NAME@URL#caps`` -> NAME), then the name without a
        date or version suffix, then its backend kind; None when none is priced."""
        kind, _, rest = label.partition("/")
        name = rest.split("@", 1)[0].split("#", 1)[0]
        base = _VERSION_SUFFIX.sub("", name)
        for key in (label, name, base):
            if key and key in self.models:
                return Price(*self.models[key], matched=key)
        if kind in self.backends:
            return Price(*self.backends[kind], matched=f"backend {kind}")
        return None


def _price_file_model() -> Any:
    """The price file's schema (pydantic, built on first use)."""
    from pydantic import BaseModel, ConfigDict, Field

    class Rate(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        input: float = Field(ge=0, allow_inf_nan=False)
        output: float = Field(ge=0, allow_inf_nan=False)

    class PriceFile(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        as_of: str = ""
        note: str = ""
        models: dict[str, Rate] = Field(default_factory=dict)
        backends: dict[str, Rate] = Field(default_factory=dict)

    return PriceFile


def _line_of(lines: list[str], loc: Sequence[object]) -> int:
    """The line (1-based) of the field at ``loc``: each key found in order, each on
    or after the line of the one before (a missing key: the line of its table)."""
    line = 0
    for key in map(str, loc):
        pat = re.compile(rf"""(?:^|[\s.\[{{,])["']?{re.escape(key)}["']?\s*(?:=|\]|\.)""")
        for i in range(line, len(lines)):
            if not lines[i].lstrip().startswith("#") and pat.search(lines[i]):
                line = i
                break
    return line + 1


def _field_name(loc: Sequence[object]) -> str:
    return ".".join(str(k) if re.fullmatch(r"[A-Za-z0-9_-]+", str(k)) else f'"{k}"' for k in loc)


def parse_prices(text: str, source: str, *, validate: bool = True) -> PriceTable:
    """A ``PriceTable`` from the TOML ``text`` of file ``source``; ``PriceFileError``
    naming the file, line and field otherwise. ``validate=False`` is for the packaged
    table only (checked by the tests): building the schema costs 10 ms a run."""
    from pydantic import ValidationError

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r" ?\(at line (\d+), column \d+\)", str(e))
        line, what = (m.group(1), str(e)[:m.start()]) if m else ("1", str(e))
        raise PriceFileError(f"{source}:{line}: not valid TOML: {what}") from None
    if not validate:
        return PriceTable({k: (v["input"], v["output"]) for k, v in data.get("models", {}).items()},
                          {k: (v["input"], v["output"]) for k, v in data.get("backends", {}).items()},
                          data.get("as_of", ""), data.get("note", ""), source)
    try:
        parsed = _price_file_model().model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        loc = first["loc"]
        raise PriceFileError(f"{source}:{_line_of(text.splitlines(), loc)}: {_field_name(loc) or '(file)'}: "
                             f"{first['msg']} (prices are USD per 1M tokens: input = N, output = N)") from None
    return PriceTable({k: (v.input, v.output) for k, v in parsed.models.items()},
                      {k: (v.input, v.output) for k, v in parsed.backends.items()},
                      parsed.as_of, parsed.note, source)


@functools.cache
def _load(path: str | None) -> PriceTable:
    if path is None:
        return parse_prices(PACKAGED_PRICES.read_text(encoding="utf-8"), "packaged", validate=False)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise PriceFileError(f"{path}: cannot read the price file ({getattr(e, 'strerror', None) or e})") from None
    return parse_prices(text, path)


def load_prices(path: str | Path | None = None) -> PriceTable:
    """The user's price file at ``path`` (which replaces the packaged one), or the
    packaged table; read once per process."""
    return _load(None if path is None else str(path))


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens and money over ``results`` results of one model (in one cell, or all).

    Token sums are None when no result reported them; ``untokened`` counts the
    answered results that did not (their tokens are unknown, so a known price
    gives a lower bound: ``partial``). ``cost_usd`` is None when the price is
    unknown, or when it is not free and no result reported tokens."""

    model: str
    cell: str  # "" for the model's total
    results: int
    prompt_tokens: int | None
    completion_tokens: int | None
    untokened: int
    cost_usd: float | None

    @property
    def partial(self) -> bool:
        return self.cost_usd is not None and self.cost_usd > 0 and self.untokened > 0

    def to_json(self) -> dict[str, Any]:
        return {"results": self.results, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "untokened": self.untokened,
                "cost_usd": self.cost_usd}


@dataclass(frozen=True)
class ModelUsage:
    model: str
    price: Price | None
    cells: list[Usage]
    total: Usage


class _Acc:
    """Running sums for one (model, cell)."""

    __slots__ = ("results", "prompt", "completion", "any_prompt", "any_completion", "untokened")

    def __init__(self) -> None:
        self.results = self.prompt = self.completion = self.untokened = 0
        self.any_prompt = self.any_completion = False

    def add(self, prompt: int | None, completion: int | None, answered: bool) -> None:
        self.results += 1
        if prompt is not None:
            self.prompt += prompt
            self.any_prompt = True
        if completion is not None:
            self.completion += completion
            self.any_completion = True
        if answered and (prompt is None or completion is None):
            self.untokened += 1

    def merge(self, other: _Acc) -> None:
        for name in ("results", "prompt", "completion", "untokened"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.any_prompt |= other.any_prompt
        self.any_completion |= other.any_completion

    def usage(self, model: str, cell: str, price: Price | None) -> Usage:
        prompt = self.prompt if self.any_prompt else None
        completion = self.completion if self.any_completion else None
        return Usage(model, cell, self.results, prompt, completion, self.untokened,
                     cell_cost(price, prompt, completion))


def cell_cost(price: Price | None, prompt_tokens: int | None, completion_tokens: int | None) -> float | None:
    """Money for these token sums at ``price``: 0 for a free backend whatever the
    tokens, None when the price or every token count is unknown."""
    if price is None:
        return None
    if price.free:
        return 0.0
    if prompt_tokens is None and completion_tokens is None:
        return None
    return price.cost(prompt_tokens or 0, completion_tokens or 0)


def usage_by_model(rows: Iterable[StoredResult], prices: PriceTable) -> list[ModelUsage]:
    """Per model (sorted), per cell (in the taxonomy's order) and in total."""
    acc = UsageAccumulator()
    for r in rows:
        acc.add(r)
    return acc.usage(prices)


class UsageAccumulator:
    """``usage_by_model`` one result at a time (a streamed report adds each as it passes)."""

    def __init__(self) -> None:
        self.accs: dict[str, dict[str, _Acc]] = {}

    def add(self, r: StoredResult) -> None:
        cells = self.accs.get(r.model)
        if cells is None:
            cells = self.accs[r.model] = {}
        acc = cells.get(r.cell)
        if acc is None:
            acc = cells[r.cell] = _Acc()
        acc.add(r.prompt_tokens, r.completion_tokens, r.status == "ok")

    def usage(self, prices: PriceTable) -> list[ModelUsage]:
        out = []
        for model in sorted(self.accs):
            price = prices.price(model)
            total = _Acc()
            for acc in self.accs[model].values():
                total.merge(acc)
            cells = sorted(self.accs[model].items(),
                           key=lambda ca: (_CELL_ORDER.get(ca[0], len(_CELL_ORDER)), ca[0]))
            out.append(ModelUsage(model, price, [a.usage(model, c, price) for c, a in cells],
                                  total.usage(model, "", price)))
        return out


UNKNOWN = "unknown"


def format_tokens(n: int | None) -> str:
    """A token count for people: 12,345; "unknown" when nothing reported it."""
    return UNKNOWN if n is None else f"{n:,}"


def format_usd(x: float | None, partial: bool = False) -> str:
    """Money for people: $0.0123 under a dollar, $12.35 above; "unknown" when not
    known (never $0); "≥" when some answers' tokens were not reported."""
    if x is None:
        return UNKNOWN
    text = "$0" if x == 0 else f"${x:.4f}" if x < 1 else f"${x:,.2f}"
    return f"≥ {text}" if partial else text


def usage_json(usage: Sequence[ModelUsage], prices: PriceTable) -> dict[str, Any]:
    """``fourfold report --json``'s ``usage``: per model its price (None: unknown),
    its total and its cells; and which price table was used."""
    return {
        "prices": {"source": prices.source, "as_of": prices.as_of, "note": prices.note},
        "models": {u.model: {
            "price": None if u.price is None else {"input_per_m": u.price.input_per_m,
                                                   "output_per_m": u.price.output_per_m,
                                                   "matched": u.price.matched},
            "total": u.total.to_json(),
            "cells": {c.cell: c.to_json() for c in u.cells},
        } for u in usage},
    }


__all__ = ["PACKAGED_PRICES", "UNKNOWN", "ModelUsage", "Price", "PriceFileError", "PriceTable", "Usage", "UsageAccumulator", "cell_cost",
           "format_tokens", "format_usd", "load_prices", "parse_prices", "usage_by_model", "usage_json"]
