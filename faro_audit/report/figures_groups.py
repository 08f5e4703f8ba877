"""Group outcome means with their bootstrap intervals: horizontal bars on one axes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from faro_audit.audit.result import AttributeSummary, GroupRow
from faro_audit.report.figures_canvas import (
    add,
    canvas,
    label,
    row_label_margin,
    row_labels,
    swatch_legend,
    x_axis,
)
from faro_audit.report.figures_style import GRID, MAX_BARS, PALETTE, WHISKER, chart_rc
from faro_audit.report.figures_svg import label_text, svg_element
from faro_audit.report.fmt import is_number, one_line

#: Whisker caps: half-length in points and line width (what ``errorbar(capsize=2)`` draws).
_CAP, _WHISKER_WIDTH = 2.0, 1.0
_TICKS = [0.0, 0.25, 0.5, 0.75, 1.0]


def _setup(ax: Axes) -> None:
    ax.set_xlim(0.0, 1.0)


def _est(ge: Any) -> float | None:
    return float(ge.estimate) if ge is not None and is_number(ge.estimate) else None


@dataclass
class _Marks:
    """What the bars of every outcome add up to: drawn as one artist per kind."""

    bars: list[list[tuple[float, float]]] = field(default_factory=list)
    faces: list[tuple[float, float, float, float]] = field(default_factory=list)
    edges: list[str] = field(default_factory=list)
    hatched: list[tuple[float, float, float, str]] = field(default_factory=list)
    whiskers: list[list[tuple[float, float]]] = field(default_factory=list)
    caps: tuple[list[float], list[float]] = field(default_factory=lambda: ([], []))
    missing: list[tuple[float, str]] = field(default_factory=list)

    def add_bar(self, g: GroupRow, outcome: str, y: float, colour: str, height: float) -> None:
        """One group's bar of one outcome at height ``y`` (or an "n/a" note), with whiskers."""
        ge = getattr(g, outcome)
        m = _est(ge)
        if m is None:
            self.missing.append((y, f"{outcome}: n/a"))
            return
        half = height / 2
        self.bars.append([(0.0, y - half), (0.0, y + half), (m, y + half), (m, y - half)])
        self.faces.append(to_rgba(colour, 0.3 if g.small else 0.85))
        self.edges.append(colour)
        if g.small:
            self.hatched.append((y - half, m, height, colour))
        lo, hi = ge.ci or (None, None)
        if is_number(lo) and is_number(hi):
            a, b = min(float(lo), m), max(float(hi), m)
            self.whiskers.append([(a, y), (b, y)])
            self.caps[0].extend((a, b))
            self.caps[1].extend((y, y))

    def draw(self, ax: Axes) -> None:
        if self.bars:
            add(ax, PolyCollection(self.bars, facecolors=self.faces, edgecolors=self.edges,
                                   linewidths=0.8))
        for y, m, height, colour in self.hatched:  # unfilled copy: hatch lines keep contrast
            add(ax, Rectangle((0.0, y), m, height, fill=False, hatch="////", edgecolor=colour,
                              linewidth=0.0))
        if self.whiskers:
            add(ax, LineCollection(self.whiskers, colors=WHISKER, linewidths=_WHISKER_WIDTH,
                                   zorder=2),
                Line2D(self.caps[0], self.caps[1], linestyle="none", marker="|",
                       color=WHISKER, markersize=2 * _CAP, markeredgewidth=_WHISKER_WIDTH,
                       zorder=2))
        for y, text in self.missing:
            label(ax, 0.01, y, text, ax.transData, va="center", fontsize=7, color="#666666")


def group_means_svg(attr: AttributeSummary, *, key: str) -> tuple[str, str] | None:
    """Horizontal bars of group outcome means with their interval whiskers, on one axes.

    Each group gets one bar per outcome present (soft on top, hard below it, coloured as in the
    legend); groups are sorted by the soft mean (else hard), so the gap reads as the distance
    between the top and bottom bars of one colour. Small groups are hatched and labelled
    "(small)". At most :data:`MAX_BARS` groups are drawn, the highest and lowest halves (the
    note says so). Returns ``(svg, note)`` or ``None`` when no group has an outcome mean.
    """
    outcomes = [o for o in ("soft", "hard") if any(_est(getattr(g, o)) is not None
                                                   for g in attr.groups)]
    if not outcomes:
        return None
    sort_key = outcomes[0]

    def order(g: GroupRow) -> tuple[int, float, str]:
        m = _est(getattr(g, sort_key))
        return (0, -m, str(g.group)) if m is not None else (1, 0.0, str(g.group))

    rows = sorted(attr.groups, key=order)
    note = ""
    if len(rows) > MAX_BARS:
        half = MAX_BARS // 2
        note = (f"Chart shows the {half} highest and {half} lowest groups of {len(rows)}; "
                "every group is in the table.")
        rows = rows[:half] + rows[-half:]
    k = len(outcomes)
    height = 0.8 / k  # the outcomes' bars share 0.8 of a group's row
    labels = [label_text(g.group) + (" (small)" if g.small else "") for g in rows]
    with mpl.rc_context(chart_rc(key)):
        ax = canvas("group_means", _setup).begin(
            panel=(4.2, (0.14 + 0.13 * k) * len(rows) + 0.15),
            margins=(row_label_margin(labels), 0.25, 0.45, 0.5))
        ypos = list(range(len(rows)))[::-1]
        marks = _Marks()
        for j, (outcome, colour) in enumerate(zip(outcomes, PALETTE)):
            shift = (k - 1) / 2 * height - j * height
            for y, g in zip(ypos, rows):
                marks.add_bar(g, outcome, y + shift, colour, 0.85 * height)
        marks.draw(ax)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        x_axis(ax, _TICKS, grid={"colors": GRID, "linewidths": 0.6},
               text="group mean (whiskers: bootstrap interval)")
        row_labels(ax, ypos, labels)
        swatch_legend(ax, [({"facecolor": to_rgba(c, 0.85), "edgecolor": c, "linewidth": 0.8},
                            f"{o} outcome mean") for o, c in zip(outcomes, PALETTE)],
                      fontsize=8.0)
        alt = f"Group outcome means with intervals for attribute {one_line(attr.attribute)}"
        return svg_element(ax.figure, alt=alt), note
