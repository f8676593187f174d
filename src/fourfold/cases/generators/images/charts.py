"""Bar and line charts drawn with matplotlib at known values; ``verify`` measures the
bars and markers in pixels.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import GeneratedCase, register
from ..kit.answers import NUM_SUFFIX, image_part, numeric, reference_problems, text_part, truth, user
from ..kit.blobs import exact_mask
from ..kit.colours import RGB
from .picture import first_image

if TYPE_CHECKING:
    import numpy as np


_CHART_W, _CHART_H = 448, 336
_AXES = (0.13, 0.14, 0.82, 0.74)  # left, bottom, width, height in figure fractions
_BAR_RGB: RGB = (59, 111, 182)
_LINE_RGB: RGB = (209, 73, 91)
_MARKER_RGB: RGB = (30, 30, 120)
_CATEGORY_POOLS = (
    ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat"),
    ("Apples", "Pears", "Plums", "Kiwis", "Limes", "Figs"),
    ("North", "South", "East", "West", "Centre", "Coast"),
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun"),
)
_CHART_TITLES = ("Weekly sales", "Units sold", "Visitors (thousands)", "Survey responses", "Orders", "Score")


def _hex(rgb: RGB) -> str:
    return "#" + "".join(f"{v:02x}" for v in rgb)


def _render_chart(path: Path, draw_fn: Any) -> None:
    """Render with matplotlib's defaults (a user's matplotlibrc must not change
    the bytes), the Agg canvas (no pyplot state) and no Software tag."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rc = {k: v for k, v in matplotlib.rcParamsDefault.items() if k not in ("backend", "backend_fallback")}
    rc.update({"font.family": ["DejaVu Sans"], "svg.hashsalt": "fourfold", "path.simplify": False})
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(_CHART_W / 100, _CHART_H / 100), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_axes(_AXES)
        draw_fn(ax)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png", dpi=100, metadata={"Software": None})


def _row_of(value: float, ymax: float) -> float:
    """Pixel row (from the top, pixel centres) of a data value on the chart axes."""
    _, b, _, hh = _AXES
    return _CHART_H - _CHART_H * (b + hh * value / ymax) - 0.5


def _col_of(i: int, n: int) -> float:
    left, _, ww, _ = _AXES
    return _CHART_W * (left + ww * (i + 0.5) / n) - 0.5


def _chart_answer(t: dict[str, Any]) -> float | str:
    vals, labels = t["values"], t["labels"]
    q = t["question"]
    if q == "value":
        return vals[t["i"]]
    if q == "largest":
        return labels[vals.index(max(vals))]
    if q == "difference":
        return vals[t["i"]] - vals[t["j"]]
    raise ValueError(f"unknown chart question {q!r}")


def _chart_check(case: dict[str, Any], base: Path, rgb: RGB) -> tuple[dict[str, Any], list[str], np.ndarray | None]:
    """The opening of both chart verifiers: the ground truth, the reference's
    problems against the answer it gives, and the mask of the pixels of ``rgb``
    (None when the chart cannot be read; the problems then say why)."""
    t = truth(case)
    probs = reference_problems(case, _chart_answer(t))
    arr, err = first_image(case, base)
    if arr is None:
        return t, probs + err, None
    return t, probs, exact_mask(arr, rgb)


def _chart_case(rng: random.Random, index: int, media_dir: Path, kind: str, draw: Any, labels: list[str],
                vals: list[int], noun: str, title: str, ymax: int) -> GeneratedCase:
    """Render a chart of ``kind`` (``bar-chart``, ``line-chart``) with ``draw``
    and ask one question about it."""
    name = f"img_{kind.replace('-', '_')}_{index:05d}.png"
    _render_chart(media_dir / name, draw)
    t, text, ref = _chart_question(rng, labels, vals, noun)
    t.update({"labels": labels, "values": vals, "ymax": ymax, "title": title})
    return GeneratedCase(category="ocr", input=user(image_part(f"media/{name}"), text_part(text)), reference=ref,
                         tags=["chart", kind, t["question"]], truth=t)


def _verify_bar_chart(case: dict[str, Any], base: Path) -> list[str]:
    import numpy as np

    t, probs, mask = _chart_check(case, base, _BAR_RGB)
    if mask is None:
        return probs
    cols = np.flatnonzero(mask.any(axis=0))
    if cols.size == 0:
        return [*probs, "no bars found"]
    groups = np.split(cols, np.flatnonzero(np.diff(cols) > 1) + 1)
    if len(groups) != len(t["values"]):
        return [*probs, f"found {len(groups)} bars, ground truth has {len(t['values'])}"]
    ppu = _CHART_H * _AXES[3] / t["ymax"]
    for g, label, want in zip(groups, t["labels"], t["values"], strict=True):
        col = int(g[len(g) // 2])
        top = int(np.flatnonzero(mask[:, col])[0])
        got = (_row_of(0, t["ymax"]) - top + 0.5) / ppu
        if abs(got - want) > 1.5 / ppu + 0.5:
            probs.append(f"bar {label!r} measures {got:.1f}, ground truth says {want}")
    return probs


def _chart_question(rng: random.Random, labels: list[str], vals: list[int], noun: str,
                    ) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """One of three chart questions: read a value, find the largest, a difference."""
    q = rng.choice(["value", "largest", "difference"])
    t: dict[str, Any] = {"question": q}
    if (q == "largest" and vals.count(max(vals)) > 1) or (q == "difference" and len(set(vals)) < 2):
        q = t["question"] = "value"
    if q == "value":
        t["i"] = rng.randrange(len(vals))
        text = f"According to the chart, what is the value for {noun} {labels[t['i']]}?" + NUM_SUFFIX
        ref = numeric(vals[t["i"]], 2.5)
    elif q == "largest":
        text = f"According to the chart, which {noun} has the largest value? Answer with its label only."
        ref = {"kind": "choice", "options": list(labels), "answer": vals.index(max(vals))}
    else:
        pairs = [(i, j) for i in range(len(vals)) for j in range(len(vals)) if vals[i] > vals[j]]
        i, j = rng.choice(pairs)
        t["i"], t["j"] = i, j
        text = (f"According to the chart, how much larger is the value for {noun} {labels[i]} than for "
                f"{noun} {labels[j]}?" + NUM_SUFFIX)
        ref = numeric(vals[i] - vals[j], 4.0)
    return t, text, ref


@register("image/generalizability", "img_bar_chart", verify=_verify_bar_chart)
def bar_chart(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """A bar chart with known values (multiples of 5 on a 0-100 axis with a grid
    every 10). ``verify`` measures each bar's height in pixels."""
    pool = rng.choice(_CATEGORY_POOLS)
    n = rng.randint(4, 6)
    labels = list(pool[:n])
    vals = [rng.randrange(10, 100, 5) for _ in range(n)]
    title = rng.choice(_CHART_TITLES)
    ymax = 100

    def draw(ax: Any) -> None:
        ax.set_axisbelow(True)
        ax.grid(axis="y", color="#cccccc", linewidth=0.8)
        ax.bar(range(n), vals, width=0.6, color=_hex(_BAR_RGB), edgecolor="none")
        _chart_axes(ax, labels, ymax, title)

    return _chart_case(rng, index, media_dir, "bar-chart", draw, labels, vals, "bar", title, ymax)


def _chart_axes(ax: Any, labels: list[str], ymax: int, title: str) -> None:
    """Axes both chart generators share: the verifiers measure bars and markers in
    pixels against exactly these limits and ticks."""
    n = len(labels)
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(0, ymax)
    ax.set_yticks(range(0, ymax + 1, 10))
    ax.set_xticks(range(n), labels)
    ax.set_title(title, fontsize=11)


def _verify_line_chart(case: dict[str, Any], base: Path) -> list[str]:
    import numpy as np

    t, probs, mask = _chart_check(case, base, _MARKER_RGB)
    if mask is None:
        return probs
    n = len(t["values"])
    ppu = _CHART_H * _AXES[3] / t["ymax"]
    for i, (label, want) in enumerate(zip(t["labels"], t["values"], strict=True)):
        c = int(round(_col_of(i, n)))
        ys, _ = np.nonzero(mask[:, max(c - 6, 0):c + 7])
        if ys.size == 0:
            probs.append(f"no marker found for {label!r}")
            continue
        got = (_row_of(0, t["ymax"]) - float(ys.mean())) / ppu
        if abs(got - want) > 1.5:
            probs.append(f"point {label!r} measures {got:.1f}, ground truth says {want}")
    return probs


@register("image/generalizability", "img_line_chart", verify=_verify_line_chart)
def line_chart(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """A line chart over years with markers at known values; ``verify`` finds each
    marker's centre (markers have their own colour, drawn over the line)."""
    n = rng.randint(5, 8)
    first = rng.randint(2010, 2016)
    labels = [str(first + k) for k in range(n)]
    vals = [rng.randrange(10, 100, 5) for _ in range(n)]
    title = rng.choice(_CHART_TITLES)
    ymax = 100
    marker = _hex(_MARKER_RGB)

    def draw(ax: Any) -> None:
        ax.set_axisbelow(True)
        ax.grid(color="#dddddd", linewidth=0.8)
        ax.plot(range(n), vals, color=_hex(_LINE_RGB), linewidth=2, marker="o", markersize=7,
                markerfacecolor=marker, markeredgecolor=marker)
        _chart_axes(ax, labels, ymax, title)

    return _chart_case(rng, index, media_dir, "line-chart", draw, labels, vals, "year", title, ymax)
