"""Figures for a paper from the 12 scores: a radar per model (the study's headline
figure), a models x cells heatmap, and per-cell bars with 95 % intervals.

Why these choices: the Okabe-Ito palette (and hatches past its 8 colours) and the
cividis colour map read the same to colour-blind readers and in greyscale; every
figure prints n beside what it measured, since most cells hold few cases. Figures
are drawn on ``matplotlib.figure.Figure`` with the Agg canvas, never pyplot, so
nothing global changes and no display is needed; matplotlib is imported when a
figure is drawn. Output is byte-reproducible for a store: SVG with a fixed hash
salt and no date, PNG without the matplotlib version tag, fixed figure sizes (no
``bbox_inches="tight"``, whose crop depends on the text).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..cases.taxonomy import CELLS, MODALITIES, PROPERTIES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..score import CellScore, Scores

ScoreKind = Literal["absolute", "relative"]
PLOT_FORMATS: tuple[str, ...] = ("png", "svg")
DPI = 200
#: Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")  # shapes tell apart lines in greyscale
_HATCHES = ("", "//", "..", "xx", "\\\\", "--", "++", "oo")
_RC = {"font.size": 11, "axes.titlesize": 13, "axes.labelsize": 11, "legend.fontsize": 10,
       "svg.fonttype": "none", "svg.hashsalt": "fourfold", "font.family": "DejaVu Sans"}


@dataclass(frozen=True)
class PlotFiles:
    """The figures written, by name (radar, heatmap, bars), each in every format asked for."""

    paths: tuple[Path, ...]


def _label(text: str) -> str:
    """Model names are data: a ``$`` would start matplotlib's mathtext."""
    return text.replace("$", r"\$")


def _style(i: int) -> tuple[str, str]:
    """The i-th model's colour and hatch (hatches tell apart models past the palette's 8 colours)."""
    return OKABE_ITO[i % len(OKABE_ITO)], _HATCHES[(i // len(OKABE_ITO)) % len(_HATCHES)]


def _value(cs: CellScore, kind: ScoreKind) -> float:
    v = cs.absolute if kind == "absolute" else cs.relative
    return math.nan if v is None else v


_SHORT = {"generalizability": "generaliz.", "trustworthiness": "trustworth.", "causality": "causality"}


def _short_cell(cell: str) -> str:
    """Two short lines, so 12 labels fit side by side."""
    modality, prop = cell.split("/")
    return f"{modality}\n{_SHORT.get(prop, prop)}"


def radar(scores: Scores, kind: ScoreKind = "absolute") -> Figure:
    """The 12 cells as spokes, one closed line per model; a cell without a score leaves a gap."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 8), dpi=DPI, layout="constrained")
    ax = fig.add_subplot(projection="polar")
    ax.set_theta_offset(math.pi / 2)  # the first cell at the top, then clockwise, as a reader scans
    ax.set_theta_direction(-1)
    angles = [2 * math.pi * i / len(CELLS) for i in range(len(CELLS))]
    for i, m in enumerate(scores.models):
        cells = scores.table[m]
        values = [_value(cells[c], kind) for c in CELLS]
        n = sum(cells[c].n for c in CELLS)
        colour, _ = _style(i)
        style = ("-", "--", ":", "-.")[(i // len(OKABE_ITO)) % 4]
        ax.plot([*angles, angles[0]], [*values, values[0]], style, color=colour, linewidth=2, alpha=0.9,
                marker=_MARKERS[i % len(_MARKERS)], markersize=6, label=_label(f"{m} (n={n})"))
    ax.set_xticks(angles, [_short_cell(c) for c in CELLS])
    ax.tick_params(axis="x", pad=10)  # spoke labels clear of a line at 100
    for a, text in zip(angles, ax.get_xticklabels(), strict=True):  # side labels grow outwards, not over the rim
        x = math.sin(a)
        text.set_horizontalalignment("left" if x > 0.1 else "right" if x < -0.1 else "center")
    ax.set_ylim(0, 100)
    ax.set_rlabel_position(180 / len(CELLS))  # between the first two spokes, clear of their labels
    ax.set_yticks([20, 40, 60, 80, 100], ["20", "40", "60", "80", "100"], fontsize=9, color="#555555")
    what = "absolute score (% good, unclear counts half)" if kind == "absolute" else "relative score (Eq. 1)"
    ax.set_title(f"12 cells per model: {what}", pad=18)
    fig.legend(loc="outside lower center", ncols=min(3 if len(scores.models) > 8 else 2, max(1, len(scores.models))),
               frameon=False)
    return fig


def heatmap(scores: Scores) -> Figure:
    """Models x cells, the absolute score in each square with its n; an empty cell is grey."""
    import numpy as np
    from matplotlib.figure import Figure

    models = scores.models
    data = np.array([[_value(scores.table[m][c], "absolute") for c in CELLS] for m in models], dtype=float)
    fig = Figure(figsize=(13, 2.2 + 0.6 * max(1, len(models))), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    cmap = _cividis()
    im = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, vmin=0, vmax=100, aspect="auto")
    for y, m in enumerate(models):
        for x, c in enumerate(CELLS):
            cs = scores.table[m][c]
            if cs.absolute is None:
                ax.text(x, y, "–", ha="center", va="center", fontsize=9, color="#333333")
                continue
            dark = cs.absolute < 60  # cividis is dark blue at the bottom, light yellow at the top
            ax.text(x, y, f"{cs.absolute:.0f}\nn={cs.n}", ha="center", va="center", fontsize=9,
                    color="white" if dark else "black")
    ax.set_xticks(range(len(CELLS)), [_short_cell(c) for c in CELLS], fontsize=9)
    ax.set_yticks(range(len(models)), [_label(m) for m in models])
    ax.set_title("Absolute score per cell (% good, unclear counts half); n = judged cases")
    fig.colorbar(im, ax=ax, label="absolute score", shrink=0.9)
    return fig


def _cividis():  # noqa: ANN202 - a Colormap
    import matplotlib as mpl

    cmap = mpl.colormaps["cividis"].copy()
    cmap.set_bad("#dddddd")
    return cmap


def bars(scores: Scores) -> Figure:
    """One panel per cell (modalities down, properties across): a bar per model with its 95 % Wilson
    interval and n under it."""
    from matplotlib.figure import Figure

    models = scores.models
    fig = Figure(figsize=(min(18.0, max(12.0, 3 * (1 + 0.9 * len(models)))), 13), dpi=DPI, layout="constrained")
    axes = fig.subplots(len(MODALITIES), len(PROPERTIES), sharey=True)
    for r, modality in enumerate(MODALITIES):
        for c, prop in enumerate(PROPERTIES):
            _bar_panel(axes[r][c], scores, f"{modality}/{prop}")
    handles = [_patch(i) for i in range(len(models))]
    fig.legend(handles, [_label(m) for m in models], loc="outside lower center",
               ncols=min(4, max(1, len(models))), frameon=False)
    fig.suptitle("Absolute score per cell with 95 % Wilson interval; n = judged cases")
    return fig


def _patch(i: int):  # noqa: ANN202 - a Patch
    from matplotlib.patches import Patch

    colour, hatch = _style(i)
    return Patch(facecolor=colour, hatch=hatch, edgecolor="black", linewidth=0.5)


def _bar_panel(ax, scores: Scores, cell: str) -> None:  # noqa: ANN001 - a matplotlib Axes
    for i, m in enumerate(scores.models):
        cs = scores.table[m][cell]
        colour, hatch = _style(i)
        if cs.absolute is None:
            ax.text(i, 2, "no data", ha="center", va="bottom", rotation=90, fontsize=8, color="#555555")
        else:
            lo, hi = cs.ci95 or (cs.absolute, cs.absolute)
            ax.bar(i, cs.absolute, color=colour, hatch=hatch, edgecolor="black", linewidth=0.5,
                   yerr=[[cs.absolute - lo], [hi - cs.absolute]], capsize=3, error_kw={"linewidth": 1})
    ax.set_xticks(range(len(scores.models)), [f"n={scores.table[m][cell].n}" for m in scores.models],
                  fontsize=8)
    ax.set_ylim(0, 100)
    ax.set_title(cell, fontsize=11)
    ax.grid(axis="y", color="#dddddd", linewidth=0.5)
    ax.set_axisbelow(True)


FIGURES = {"radar": radar, "heatmap": heatmap, "bars": bars}


def write_plots(scores: Scores, out: Path, formats: Sequence[str] = PLOT_FORMATS,
                radar_score: ScoreKind = "absolute") -> PlotFiles:
    """Draw every figure and save it in each format under ``out`` (made if missing): radar.png, ..."""
    import matplotlib as mpl

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    with mpl.rc_context(_RC):
        for name, draw in FIGURES.items():
            fig = draw(scores, radar_score) if name == "radar" else draw(scores)
            for fmt in formats:
                path = out / f"{name}.{fmt}"
                meta = {"Date": None} if fmt == "svg" else {"Software": None}
                fig.savefig(path, format=fmt, metadata=meta)
                paths.append(path)
    return PlotFiles(tuple(paths))


__all__ = ["DPI", "FIGURES", "OKABE_ITO", "PLOT_FORMATS", "PlotFiles", "bars", "heatmap", "radar", "write_plots"]
