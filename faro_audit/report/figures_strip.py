"""The certificate's interval strip: a tiny hand-written SVG (numbers only, no matplotlib)."""

from __future__ import annotations

from typing import Any

from faro_audit.report.figures_style import VERDICT_COLOURS
from faro_audit.report.fmt import is_number, num


def interval_strip_svg(lower: Any, estimate: Any, upper: Any, epsilon: Any, *, verdict: str,
                       scale_max: float, width: int = 170, height: int = 26) -> str:
    """A tiny hand-written SVG: the certificate's interval against its tolerance ε.

    The axis runs from 0 to ``scale_max``; the bar is [lower, upper] in the verdict's colour,
    the dot the estimate, the black tick ε. Numbers only, so nothing user-supplied is inside.
    """
    from markupsafe import escape

    if not is_number(scale_max) or float(scale_max) <= 0:
        scale_max = 1.0
    pad = 6.0
    span = width - 2 * pad

    def x(v: float) -> float:
        return round(pad + span * min(max(float(v), 0.0), float(scale_max)) / float(scale_max), 2)

    colour = VERDICT_COLOURS.get(verdict, "#555555")
    mid = height / 2 + 3
    parts = [(f'<line x1="{pad}" y1="{mid}" x2="{width - pad}" y2="{mid}" stroke="#cccccc" '
              'stroke-width="1"/>')]
    if is_number(lower) and is_number(upper):
        x0, x1 = x(lower), x(upper)
        parts.append(f'<rect x="{x0}" y="{mid - 4}" width="{max(x1 - x0, 1.5)}" height="8" '
                     f'rx="2" fill="{colour}" fill-opacity="0.35" stroke="{colour}"/>')
    if is_number(estimate):
        parts.append(f'<circle cx="{x(estimate)}" cy="{mid}" r="3" fill="{colour}"/>')
    if is_number(epsilon):
        xe = x(epsilon)
        parts.append(f'<line x1="{xe}" y1="{mid - 9}" x2="{xe}" y2="{mid + 8}" stroke="#111111" '
                     'stroke-width="1.6"/>')
        parts.append(f'<text x="{xe}" y="{mid - 10}" font-size="9" text-anchor="middle" '
                     'fill="#111111">ε</text>')
    title = escape(f"interval [{num(lower)}, {num(upper)}], estimate {num(estimate)}, "
                   f"tolerance ε = {num(epsilon)}; axis 0 to {num(scale_max)}")
    return (f'<svg class="strip" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'role="img" aria-label="{title}"><title>{title}</title>{"".join(parts)}</svg>')
