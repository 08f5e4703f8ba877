"""Report figures as inline SVG strings (matplotlib, imported only when a chart is drawn).

Every chart is drawn on a bare :class:`matplotlib.figure.Figure` (no pyplot, no GUI) and
returned as an ``<svg>`` element ready to inline into HTML (:func:`to_svg`): text stays text, ids
are salted per figure, output is byte-for-byte reproducible. Only aggregates are drawn (group
means with intervals, reliability curves, histograms), so a figure's size does not grow with the
number of audited rows.

This module is the public face; the work is in the ``figures_*`` modules next to it:

- :mod:`~faro_audit.report.figures_style`: palette, markers, caps, matplotlib settings;
- :mod:`~faro_audit.report.figures_svg`: :func:`to_svg`, :func:`check_svg`,
  :func:`label_text`;
- :mod:`~faro_audit.report.figures_strip`: :func:`interval_strip_svg`, hand-written SVG;
- :mod:`~faro_audit.report.figures_canvas` and :mod:`~faro_audit.report.figures_labels`:
  reused figures, hand-drawn axes and legends, unmeasured text (why the charts are fast);
- :mod:`~faro_audit.report.figures_groups` (:func:`group_means_svg`),
  :mod:`~faro_audit.report.figures_calibration` (:func:`reliability_svg`),
  :mod:`~faro_audit.report.figures_distributions` (:func:`reward_hist_svg`),
  :mod:`~faro_audit.report.figures_pareto` (:func:`pareto_svg`): one chart kind each.

Importing this module does not import matplotlib (only the chart modules and the canvas do):
the chart functions are loaded on first use, and ``figures.group_means_svg`` and
``from faro_audit.report.figures import pareto_svg`` work as for ordinary attributes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from faro_audit._lazy import lazy_exports
from faro_audit.report.figures_strip import interval_strip_svg
from faro_audit.report.figures_style import (
    MAX_BARS,
    MAX_PANELS,
    PALETTE,
    VERDICT_COLOURS,
)
from faro_audit.report.figures_svg import check_svg, label_text, to_svg

if TYPE_CHECKING:
    from faro_audit.report.figures_calibration import reliability_svg
    from faro_audit.report.figures_distributions import reward_hist_svg
    from faro_audit.report.figures_groups import group_means_svg
    from faro_audit.report.figures_pareto import pareto_svg

#: Chart function → the module that draws it (imports matplotlib).
_CHARTS = {
    "group_means_svg": "faro_audit.report.figures_groups",
    "reliability_svg": "faro_audit.report.figures_calibration",
    "reward_hist_svg": "faro_audit.report.figures_distributions",
    "pareto_svg": "faro_audit.report.figures_pareto",
}

__all__ = [
    "MAX_BARS",
    "MAX_PANELS",
    "PALETTE",
    "VERDICT_COLOURS",
    "check_svg",
    "group_means_svg",
    "interval_strip_svg",
    "label_text",
    "pareto_svg",
    "reliability_svg",
    "reward_hist_svg",
    "to_svg",
]


__getattr__, __dir__ = lazy_exports(__name__, _CHARTS, globals())
