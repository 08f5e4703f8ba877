"""Reliability diagram: every group's calibration curve on one axes."""

from __future__ import annotations

import math
from typing import Any

import matplotlib as mpl

from faro_audit.audit.result import AttributeSummary
from faro_audit.report.figures_canvas import (
    Series,
    canvas,
    draw_series,
    line_legend,
    line_legend_margin,
    x_axis,
    y_axis,
)
from faro_audit.report.figures_style import (
    FAINT_GRID,
    chart_rc,
    group_style,
    panel_groups,
)
from faro_audit.report.figures_svg import label_text, svg_element
from faro_audit.report.fmt import is_number, one_line

_DIAGONAL = Series("#999999", linestyle="--", linewidth=0.8)
_DIAGONAL_LABEL = "perfect calibration"
_LEGEND_SIZE = 7.5
_GRID: dict[str, Any] = {"colors": FAINT_GRID, "linewidths": 0.5}


def ticks(lo: float, hi: float) -> list[float]:
    """Three to six round ticks in [lo, hi] (steps of 0.05, 0.1, 0.25 or 0.5)."""
    for step in (0.05, 0.1, 0.25, 0.5):
        first = math.ceil(lo / step - 1e-9) * step
        out = [round(first + k * step, 10) for k in range(int((hi - first) / step + 1e-9) + 1)]
        if len(out) <= 6:
            return out
    return [lo, hi]


def reliability_svg(attr: AttributeSummary, *, key: str) -> tuple[str, str] | None:
    """Reliability diagram of every group on one axes: RM confidence against accuracy.

    One line with markers per group (colour and marker shape per group, legend outside the
    axes naming the group and its n); each marker is one confidence bin. The bins are equal-mass,
    so they hold about the same number of pairs; where a group's bins differ by more than a
    factor 2, a shaded disc whose area is the bin's share of the pairs is drawn under each
    marker. The dashed diagonal is perfect calibration. At most ``MAX_PANELS`` groups, the
    largest, are drawn (the note says so). Returns ``(svg, note)`` or ``None`` when the attribute
    has no curves.
    """
    curves = {c.group: c for c in attr.reliability if len(c.confidence) > 0}
    if not curves:
        return None
    counts = {g.group: g.n for g in attr.groups}
    shown, left = panel_groups(list(curves), counts)
    lo = min([0.5] + [float(x) for c in curves.values() for x in c.confidence if is_number(x)])
    ylo = min([lo] + [float(y) for c in curves.values() for y in c.accuracy if is_number(y)])
    labels = [f"{label_text(g, 22)} (n={counts.get(g, sum(curves[g].count))})" for g in shown]
    with mpl.rc_context(chart_rc(key)):
        right = line_legend_margin([_DIAGONAL_LABEL, *labels], _LEGEND_SIZE)
        ax = canvas("reliability").begin(panel=(3.4, 3.0), margins=(0.6, right, 0.3, 0.5))
        series, lines = [_DIAGONAL], [[(lo, lo), (1.0, 1.0)]]
        for i, g in enumerate(shown):
            c = curves[g]
            colour, marker = group_style(i)
            pts = [(float(x), float(y), int(n))
                   for x, y, n in zip(c.confidence, c.accuracy, c.count)
                   if is_number(x) and is_number(y)]
            series.append(Series(colour, marker))
            lines.append([(x, y) for x, y, _ in pts])
            ns = [p[2] for p in pts]
            if ns and max(ns) > 2 * max(min(ns), 1):  # unequal bins: area shows each bin's share
                tot = max(sum(ns), 1)
                ax.scatter([p[0] for p in pts], [p[1] for p in pts], color=colour,
                           marker=marker, zorder=3, alpha=0.45,
                           s=[6 + 150 * n / tot for n in ns], linewidths=0)
        draw_series(ax, series, lines)
        ax.set_xlim(lo - 0.02, 1.01)
        ax.set_ylim(ylo - 0.03, 1.01)
        x_axis(ax, ticks(lo, 1.0), grid=_GRID, text="confidence")
        y_axis(ax, ticks(ylo, 1.0), grid=_GRID, text="accuracy")
        line_legend(ax, list(zip(series, [_DIAGONAL_LABEL, *labels])), fontsize=_LEGEND_SIZE)
        note = (f"Lines show the {len(shown)} largest of {len(curves)} groups." if left else "")
        alt = f"Reliability diagram of all groups for attribute {one_line(attr.attribute)}"
        return svg_element(ax.figure, alt=alt), note
