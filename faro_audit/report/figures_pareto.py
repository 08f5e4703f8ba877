"""Retraining's tolerance sweep: accuracy and BT NLL against each gap (a Pareto view)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib as mpl

from faro_audit.report.figures_canvas import layout
from faro_audit.report.figures_style import PALETTE, RC
from faro_audit.report.figures_svg import label_text, to_svg
from faro_audit.report.fmt import is_number, one_line


def pareto_svg(points: Sequence[Any], gaps: Sequence[str], *, key: str) -> tuple[str, str] | None:
    """Tolerance-sweep trade-offs: pairwise accuracy and BT NLL against each gap.

    One column per gap, two rows (pairwise accuracy, higher is better; BT NLL, lower is
    better). Every sweep point is drawn; the non-dominated ones (no other point at least as good
    in every gap, accuracy and NLL, and strictly better in one — ``sweep.pareto_mask``) are
    filled, the dominated ones hollow grey. Each point is labelled with its
    tolerance factor f (ε′ = min(1, f·ε)).

    Parameters
    ----------
    points
        Sweep points as mappings (``SweepResult.to_dict()["points"]``): ``factor``, ``gaps``
        (gap name → value), ``pairwise_accuracy``, ``bt_nll``, ``non_dominated``.
    gaps
        Gap names to plot (keys of each point's ``gaps``), one column each.
    key
        Unique figure key within the page.

    Returns
    -------
    tuple of (str, str) or None
        ``(svg, note)``, or ``None`` when no point has the numbers to draw.
    """
    def val(p: Any, k: str) -> float | None:
        v = p.get(k) if hasattr(p, "get") else None
        return float(v) if is_number(v) else None

    def gap(p: Any, g: str) -> float | None:
        gs = p.get("gaps") if hasattr(p, "get") else None
        v = gs.get(g) if hasattr(gs, "get") else None
        return float(v) if is_number(v) else None

    names = [g for g in gaps if any(gap(p, g) is not None for p in points)]
    if not names or not points:
        return None
    rows = (("pairwise_accuracy", "pairwise accuracy (higher)"), ("bt_nll", "BT NLL (lower)"))
    with mpl.rc_context(RC):
        fig, axes = layout(2, len(names), panel=(2.6, 1.9), margins=(0.7, 0.2, 0.35, 0.55),
                            gaps=(0.45, 0.7), sharey="row")
        for c, g in enumerate(names):
            for r, (metric, ylabel) in enumerate(rows):
                ax = axes[r, c]
                pts = [(gap(p, g), val(p, metric), bool(p.get("non_dominated")), p.get("factor"))
                       for p in points]
                pts = [q for q in pts if q[0] is not None and q[1] is not None]
                dom = [q for q in pts if not q[2]]
                front = sorted((q for q in pts if q[2]), key=lambda q: q[0])
                if dom:
                    ax.scatter([q[0] for q in dom], [q[1] for q in dom], s=28, facecolors="none",
                               edgecolors="#888888", linewidths=1.0, label="dominated", zorder=2)
                if front:  # no joining line: with several criteria a 2-D projection of the
                    # non-dominated set need not be monotone
                    ax.scatter([q[0] for q in front], [q[1] for q in front], s=34,
                               color=PALETTE[0], edgecolors="white", linewidths=0.5,
                               label="non-dominated", zorder=3)
                for x, y, _, f in pts:
                    if is_number(f):
                        ax.annotate(f"×{float(f):g}", (x, y), textcoords="offset points",
                                    xytext=(4, 3), fontsize=7, color="#333333")
                ax.grid(color="#eeeeee", linewidth=0.5)
                ax.margins(x=0.15, y=0.15)
                if c == 0:
                    ax.set_ylabel(ylabel)
                if r == 1:
                    ax.set_xlabel(label_text(g, 40) + " gap")
                else:
                    ax.set_title(label_text(g, 40), fontsize=8.5)
        handles, labels = axes[0, 0].get_legend_handles_labels()
        if handles:
            axes[0, 0].legend(handles, labels, fontsize=7, frameon=False, loc="best")
        n_front = sum(1 for p in points if p.get("non_dominated"))
        note = f"{n_front} of {len(points)} sweep points are non-dominated."
        alt = "Tolerance sweep: pairwise accuracy and BT NLL against " + ", ".join(
            one_line(g) for g in names)
        return to_svg(fig, key=key, alt=alt), note
