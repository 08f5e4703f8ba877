"""Reward distributions by group: a ridgeline of density histograms on one shared x axis."""

from __future__ import annotations

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.ticker import MaxNLocator, ScalarFormatter

from faro_audit.audit.result import AttributeSummary
from faro_audit.report.figures_canvas import (
    add,
    canvas,
    row_label_margin,
    row_labels,
    x_axis,
)
from faro_audit.report.figures_style import chart_rc, group_style, panel_groups
from faro_audit.report.figures_svg import label_text, svg_element
from faro_audit.report.fmt import is_number, one_line


def _setup(ax: Axes) -> None:
    ax.spines["left"].set_visible(False)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
    formatter = ScalarFormatter(useOffset=False)  # every tick label complete: no offset text
    formatter.set_scientific(False)
    ax.xaxis.set_major_formatter(formatter)


def _outline(edges: list[float], tops: list[float], base: float) -> list[tuple[float, float]]:
    """The outline of a histogram drawn as stairs on ``base``: up, along the steps, down."""
    pts = [(edges[0], base)]
    for j, top in enumerate(tops):
        pts += [(edges[j], top), (edges[j + 1], top)]
    return pts + [(edges[-1], base)]


def reward_hist_svg(attr: AttributeSummary, *, key: str,
                    xlabel: str = "raw reward") -> tuple[str, str] | None:
    """Raw-reward distributions by group as a ridgeline: one row per group, one shared x axis.

    ``xlabel`` names what was histogrammed (for pairs, the margin r(chosen) − r(rejected)).
    Each row is the group's density histogram, count / (total · bin width), filled, on its own
    baseline; every row uses the same density scale (the tallest bar of all groups fills 0.9 of a
    row), so heights compare across groups. A dashed tick marks the group's mean. At most
    ``MAX_PANELS`` groups, the largest, are drawn. Returns ``(svg, note)`` or ``None``.
    """
    hists = {h.group: h for h in attr.reward_histograms
             if len(h.counts) > 0 and len(h.edges) == len(h.counts) + 1}
    if not hists:
        return None
    counts = {g.group: g.n for g in attr.groups}
    means = {g.group: g.reward_mean for g in attr.groups}
    shown, left = panel_groups(list(hists), counts)
    xs = [float(e) for h in hists.values() for e in h.edges if is_number(e)]
    dens: dict[str, list[float]] = {}
    for g in shown:
        h = hists[g]
        edges = [float(e) for e in h.edges]
        total = max(sum(int(c) for c in h.counts), 1)
        dens[g] = [int(c) / total / max(edges[j + 1] - edges[j], 1e-12)
                   for j, c in enumerate(h.counts)]
    top = max([d for v in dens.values() for d in v] + [1e-12])
    labels = [f"{label_text(g, 22)} (n={counts.get(g, sum(int(c) for c in hists[g].counts))})"
              for g in shown]
    with mpl.rc_context(chart_rc(key)):
        ax = canvas("reward_hist", _setup).begin(panel=(4.6, 0.5 * len(shown) + 0.2),
                                                 margins=(row_label_margin(labels), 0.25, 0.15,
                                                          0.5))
        base = list(range(len(shown)))[::-1]  # largest group on top
        polys, faces, edgecolors, mx, my = [], [], [], [], []
        for i, g in enumerate(shown):
            y0 = base[i]
            colour, _ = group_style(i)
            polys.append(_outline([float(e) for e in hists[g].edges],
                                  [y0 + 0.9 * d / top for d in dens[g]], y0))
            faces.append(to_rgba(colour, 0.35))
            edgecolors.append(colour)
            m = means.get(g)
            if is_number(m):
                mx.append(float(m))
                my.append(y0)
        lo, hi = min(xs, default=0.0), max(xs, default=1.0)
        add(ax, LineCollection([[(lo, b), (hi, b)] for b in base], colors="#cccccc",
                               linewidths=0.5, zorder=0),
            # filled areas, then the stairs on top (open: no stroke along the baseline)
            PolyCollection(polys, facecolors=faces, edgecolors="none", linewidths=0.0),
            LineCollection(polys, colors=edgecolors, linewidths=1.0, joinstyle="miter"))
        if mx:
            add(ax, LineCollection([[(x, y), (x, y + 0.95)] for x, y in zip(mx, my)],
                                   colors="#222222", linestyles="--", linewidths=0.9, zorder=2))
        row_labels(ax, [b + 0.3 for b in base], labels)
        ax.set_ylim(-0.1, len(shown))
        ax.set_xlim(lo, hi)
        x_axis(ax, ax.xaxis.get_major_locator().tick_values(lo, hi),
               text=label_text(xlabel, 60))
        note = (f"Rows show the {len(shown)} largest of {len(hists)} groups." if left else "")
        alt = f"Distributions of {xlabel} by group for attribute {one_line(attr.attribute)}"
        return svg_element(ax.figure, alt=alt), note
