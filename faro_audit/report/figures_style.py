"""Shared look of the report figures: palette, markers, caps and matplotlib settings.

No matplotlib import here: these are plain values, used by the chart modules inside their
``rc_context``.
"""

from __future__ import annotations

from typing import Any

#: Okabe–Ito palette: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
VERDICT_COLOURS = {"certified": "#1a7f37", "violated": "#b42318", "inconclusive": "#9a6700"}

#: Most groups drawn in a reliability diagram or distribution figure; the groups with the most
#: rows are drawn.
MAX_PANELS = 12
#: Most bars in a group-means chart; beyond it the highest and lowest halves are drawn.
MAX_BARS = 40

#: Pixels per inch of the figures (the SVG itself is in points, 72 per inch).
DPI = 96

#: Ink colours shared by the charts.
AXIS_TEXT = "#333333"
GRID = "#dddddd"
FAINT_GRID = "#eeeeee"
WHISKER = "#222222"

RC: dict[str, Any] = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "Liberation Sans"],
    "font.size": 9.0,
    "axes.titlesize": 9.5,
    "axes.labelsize": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#555555",
    "axes.linewidth": 0.8,
    "xtick.color": AXIS_TEXT,
    "ytick.color": AXIS_TEXT,
    "path.simplify": True,
}

_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def chart_rc(key: str) -> dict[str, Any]:
    """:data:`RC` plus the id salt of the figure ``key`` (unique within the page)."""
    return {**RC, "svg.hashsalt": f"faro-{key}"}


def group_style(i: int) -> tuple[str, str]:
    """Colour and marker of the ``i``-th group drawn on a shared axes.

    Seven Okabe–Ito colours (yellow is left out: too pale on white) and seven markers, the
    marker shifted every seven groups, so the first 49 groups all get a distinct pair.
    """
    colours = PALETTE[:6] + PALETTE[7:]
    return colours[i % 7], _MARKERS[(i + i // 7) % 7]


def panel_groups(groups: list[str], counts: dict[str, int]) -> tuple[list[str], int]:
    """The (at most :data:`MAX_PANELS`) groups to draw, largest first, and how many are left out."""
    ordered = sorted(groups, key=lambda g: (-counts.get(g, 0), str(g)))
    return ordered[:MAX_PANELS], max(len(ordered) - MAX_PANELS, 0)
