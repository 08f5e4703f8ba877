"""Report figures as inline SVG strings (matplotlib, imported lazily; no pyplot, no GUI).

Every figure is drawn on a bare :class:`matplotlib.figure.Figure` (which renders with the
non-interactive backends, Agg for rasters and the SVG backend here) and returned as an ``<svg>``
element ready to inline into HTML: the XML prolog, DOCTYPE, metadata and comments are stripped,
text stays text (``svg.fonttype = "none"``, escaped by matplotlib), and the element ids are
salted with a per-figure key so several figures in one page never share an id and the output is
byte-for-byte reproducible.

Only aggregates are drawn (group means with intervals, reliability curves, histograms), so a
figure's size does not grow with the number of audited rows.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from faro_audit.audit.result import AttributeSummary, GroupRow
from faro_audit.report.fmt import clean_text, is_number, num, one_line, truncate

if TYPE_CHECKING:  # matplotlib is imported inside the functions that draw
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Okabe–Ito palette: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
VERDICT_COLOURS = {"certified": "#1a7f37", "violated": "#b42318", "inconclusive": "#9a6700"}

#: Most groups drawn in a reliability diagram or distribution figure; the groups with the most
#: rows are drawn.
MAX_PANELS = 12
#: Most bars in a group-means chart; beyond it the highest and lowest halves are drawn.
MAX_BARS = 40

_RC = {
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
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "path.simplify": True,
}

_STRIP = (
    re.compile(r"<\?xml[^>]*\?>\s*"),
    re.compile(r"<!DOCTYPE[^>]*>\s*", re.IGNORECASE),
    re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL),
    re.compile(r"<!--.*?-->\s*", re.DOTALL),
    # matplotlib's global "*{stroke-linejoin: round; stroke-linecap: butt}": a <style> inside an
    # inline SVG would apply to the whole page, so it moves to the page CSS (svg.mpl *).
    re.compile(r"<style[^>]*>.*?</style>\s*", re.DOTALL),
    re.compile(r"<defs>\s*</defs>\s*"),
)
#: What an inlined SVG may not carry: tags that run, load or restyle, event-handler attributes,
#: and references other than to an id in the same figure (``#id``, ``url(#id)``).
_BANNED_TAGS = {"script", "foreignobject", "iframe", "image", "style", "a"}
_TAG = re.compile(r"<([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+=\"[^\"]*\")*)\s*/?>")
_ATTR = re.compile(r"([\w:.-]+)=\"([^\"]*)\"")
_URL = re.compile(r"url\(\s*(?!#)", re.IGNORECASE)


def check_svg(svg: str) -> None:
    """Raise ``RuntimeError`` if ``svg`` holds anything that could run or load (see above).

    matplotlib never writes these, so a failure is a bug, not bad input; attribute values and
    text are escaped, so a user string cannot trip the check.
    """
    for m in _TAG.finditer(svg):
        if m.group(1).lower() in _BANNED_TAGS:
            raise RuntimeError(f"refusing to inline an SVG with a <{m.group(1)}> element")
        for name, value in _ATTR.findall(m.group(2)):
            low = name.lower()
            if low.startswith("on"):
                raise RuntimeError(f"refusing to inline an SVG with an {name} attribute")
            if low in ("href", "xlink:href", "src") and not value.startswith("#"):
                raise RuntimeError(f"refusing to inline an SVG referring to {value!r}")
            if _URL.search(value):
                raise RuntimeError(f"refusing to inline an SVG with {value!r}")


def label_text(value: Any, limit: int = 28) -> str:
    """A user-supplied label made safe for matplotlib text: one line, cut, ``$`` escaped.

    matplotlib parses ``$...$`` as mathtext (an unbalanced ``$`` raises at draw time), so every
    ``$`` is escaped; markup characters are escaped by the SVG writer itself.
    """
    text, _ = truncate(clean_text(one_line(value)), limit)
    return text.replace("$", r"\$")


def to_svg(fig: Figure, *, key: str, alt: str = "") -> str:
    """Serialise ``fig`` to an inline ``<svg>`` element (see module docstring).

    Parameters
    ----------
    fig
        The figure.
    key
        A string unique to the figure within the page; salts the element ids.
    alt
        Accessible name for the image (``aria-label``); escaped here.
    """
    import matplotlib as mpl
    from markupsafe import escape

    buf = io.StringIO()
    with mpl.rc_context({"svg.hashsalt": f"faro-{key}", "svg.fonttype": "none"}):
        fig.savefig(
            buf,
            format="svg",
            metadata={"Creator": None, "Date": None, "Format": None, "Type": None},
        )
    svg = buf.getvalue()
    for pattern in _STRIP:
        svg = pattern.sub("", svg)
    svg = svg.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    svg = svg.replace(' xmlns="http://www.w3.org/2000/svg"', "")
    svg = _drop_unreferenced_ids(svg)
    label = escape(clean_text(alt))
    svg = re.sub(r"<svg\b", f'<svg class="mpl" role="img" aria-label="{label}"', svg, count=1)
    check_svg(svg)
    return svg.strip()


def _drop_unreferenced_ids(svg: str) -> str:
    """Remove ``id`` attributes nothing refers to (``figure_1``, ``axes_1``...).

    matplotlib numbers these per figure, so several inlined figures would repeat them (duplicate
    ids are invalid HTML); the referenced ones (clip paths, markers) are salted hashes.
    """
    used = set(re.findall(r"#([A-Za-z_][\w.:-]*)", svg))
    return re.sub(r'\sid="([^"]*)"', lambda m: m.group(0) if m.group(1) in used else "", svg)


def _layout(nrows: int, ncols: int, *, panel: tuple[float, float],
            margins: tuple[float, float, float, float], gaps: tuple[float, float],
            **kw: Any) -> tuple[Figure, Any]:
    """A figure of ``nrows`` x ``ncols`` panels laid out in inches (no tight-bbox pass).

    ``panel`` is (width, height) of one panel, ``margins`` (left, right, top, bottom) and
    ``gaps`` (between columns, between rows). Fixed geometry draws once instead of twice.
    """
    from matplotlib.figure import Figure

    (pw, ph), (left, right, top, bottom), (wg, hg) = panel, margins, gaps
    width = left + right + ncols * pw + (ncols - 1) * wg
    height = top + bottom + nrows * ph + (nrows - 1) * hg
    fig = Figure(figsize=(width, height), dpi=96)
    fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height,
                        bottom=bottom / height, wspace=wg / pw, hspace=hg / ph)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def _panel_groups(groups: Sequence[str], counts: dict[str, int]) -> tuple[list[str], int]:
    """The (at most MAX_PANELS) groups to draw, largest first, and how many were left out."""
    ordered = sorted(groups, key=lambda g: (-counts.get(g, 0), str(g)))
    return ordered[:MAX_PANELS], max(len(ordered) - MAX_PANELS, 0)


def _style(i: int) -> tuple[str, str]:
    """Colour and marker of the ``i``-th group drawn on a shared axes.

    Seven Okabe–Ito colours (yellow is left out: too pale on white) and seven markers, the
    marker shifted every seven groups, so the first 49 groups all get a distinct pair.
    """
    colours = PALETTE[:6] + PALETTE[7:]
    return colours[i % 7], _MARKERS[(i + i // 7) % 7]


_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def _fixed_title(ax: Axes, text: str, **kw: Any) -> None:
    """A title at a fixed height (skips matplotlib's per-draw title placement pass)."""
    ax.set_title(text, y=1.0, pad=4.0, **kw)


def group_means_svg(attr: AttributeSummary, *, key: str) -> tuple[str, str] | None:
    """Horizontal bars of group outcome means with their interval whiskers, on one axes.

    Each group gets one bar per outcome present (soft on top, hard below it, coloured as in the
    legend); groups are sorted by the soft mean (else hard), so the gap reads as the distance
    between the top and bottom bars of one colour. Small groups are hatched and labelled
    "(small)". Returns ``(svg, note)`` or ``None`` when no group has an outcome mean.
    """
    import matplotlib as mpl

    outcomes = [
        o for o in ("soft", "hard") if any(is_number(_est(getattr(g, o))) for g in attr.groups)
    ]
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
    with mpl.rc_context(_RC):
        labels = [label_text(g.group) + (" (small)" if g.small else "") for g in rows]
        left = 0.25 + 0.068 * max(len(t) for t in labels)
        fig, grid = _layout(1, 1, panel=(4.2, (0.14 + 0.13 * k) * len(rows) + 0.15),
                            margins=(left, 0.25, 0.45, 0.5), gaps=(0.0, 0.0))
        ax = grid[0, 0]
        ypos = list(range(len(rows)))[::-1]
        for j, (outcome, colour) in enumerate(zip(outcomes, PALETTE)):
            shift = (k - 1) / 2 * height - j * height
            _bars(ax, rows, [y + shift for y in ypos], outcome, colour, height=0.85 * height)
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xticks([0.0, 0.25, 0.5, 0.75, 1.0])
        ax.set_xlabel("group mean (whiskers: bootstrap interval)")
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_yticks(ypos)
        ax.set_yticklabels(labels)
        ax.tick_params(axis="y", length=0)
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=k, frameon=False,
                  fontsize=8, borderaxespad=0.2, handlelength=1.4)
    alt = f"Group outcome means with intervals for attribute {one_line(attr.attribute)}"
    return to_svg(fig, key=key, alt=alt), note


def _est(ge: Any) -> float | None:
    return float(ge.estimate) if ge is not None and is_number(ge.estimate) else None


def _bars(ax: Axes, rows: Sequence[GroupRow], ypos: Sequence[float], outcome: str,
          colour: str, *, height: float) -> None:
    """One outcome's bars, drawn with one ``barh`` (plus one for hatches, one for whiskers)."""
    from matplotlib.colors import to_rgba

    ys, ms, faces, hatched, err = [], [], [], [], ([], [], [])
    for y, g in zip(ypos, rows):
        ge = getattr(g, outcome)
        m = _est(ge)
        if m is None:
            ax.text(0.01, y, f"{outcome}: n/a", va="center", fontsize=7, color="#666666")
            continue
        ys.append(y)
        ms.append(m)
        faces.append(to_rgba(colour, 0.3 if g.small else 0.85))
        if g.small:
            hatched.append((y, m))
        lo, hi = (ge.ci or (None, None)) if ge is not None else (None, None)
        if is_number(lo) and is_number(hi):
            err[0].append((m, y))
            err[1].append(max(m - float(lo), 0.0))
            err[2].append(max(float(hi) - m, 0.0))
    if ys:
        ax.barh(ys, ms, height=height, color=faces, edgecolor=colour, linewidth=0.8,
                label=f"{outcome} outcome mean")
    if hatched:  # hatch on an unfilled copy, so the lines keep full contrast
        ax.barh([h[0] for h in hatched], [h[1] for h in hatched], height=height, fill=False,
                hatch="////", edgecolor=colour, linewidth=0.0)
    if err[0]:
        ax.errorbar([p[0] for p in err[0]], [p[1] for p in err[0]], xerr=[err[1], err[2]],
                    fmt="none", ecolor="#222222", elinewidth=1.0, capsize=2.0)


def _ticks(lo: float, hi: float) -> list[float]:
    """Three to six round ticks in [lo, hi] (steps of 0.05, 0.1, 0.25 or 0.5)."""
    for step in (0.05, 0.1, 0.25, 0.5):
        first = math.ceil(lo / step - 1e-9) * step
        ticks = [round(first + k * step, 10) for k in range(int((hi - first) / step + 1e-9) + 1)]
        if len(ticks) <= 6:
            return ticks
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
    import matplotlib as mpl

    curves = {c.group: c for c in attr.reliability if len(c.confidence) > 0}
    if not curves:
        return None
    counts = {g.group: g.n for g in attr.groups}
    shown, left = _panel_groups(list(curves), counts)
    lo = min([0.5] + [float(x) for c in curves.values() for x in c.confidence if is_number(x)])
    ylo = min([lo] + [float(y) for c in curves.values() for y in c.accuracy if is_number(y)])
    labels = [f"{label_text(g, 22)} (n={counts.get(g, sum(curves[g].count))})" for g in shown]
    with mpl.rc_context(_RC):
        right = 0.45 + 0.062 * max(len(t) for t in labels)
        fig, axes = _layout(1, 1, panel=(3.4, 3.0), margins=(0.6, right, 0.3, 0.5),
                            gaps=(0.0, 0.0))
        ax = axes[0, 0]
        ax.plot([lo, 1.0], [lo, 1.0], color="#999999", linestyle="--", linewidth=0.8,
                label="perfect calibration")
        for i, g in enumerate(shown):
            c = curves[g]
            colour, marker = _style(i)
            pts = [(float(x), float(y), int(n))
                   for x, y, n in zip(c.confidence, c.accuracy, c.count)
                   if is_number(x) and is_number(y)]
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            ax.plot(xs, ys, color=colour, linewidth=1.0, marker=marker, markersize=4.5,
                    markeredgecolor="white", markeredgewidth=0.4, label=labels[i])
            ns = [p[2] for p in pts]
            if ns and max(ns) > 2 * max(min(ns), 1):  # unequal bins: area shows each bin's share
                tot = max(sum(ns), 1)
                ax.scatter(xs, ys, color=colour, marker=marker, zorder=3, alpha=0.45,
                           s=[6 + 150 * n / tot for n in ns], linewidths=0)
        ax.set_xlim(lo - 0.02, 1.01)
        ax.set_ylim(ylo - 0.03, 1.01)
        ax.set_xticks(_ticks(lo, 1.0))
        ax.set_yticks(_ticks(ylo, 1.0))
        ax.set_xlabel("confidence")
        ax.set_ylabel("accuracy")
        ax.grid(color="#eeeeee", linewidth=0.5)
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=7.5,
                  handlelength=2.2, borderaxespad=0.0)
    note = (f"Lines show the {len(shown)} largest of {len(curves)} groups." if left else "")
    alt = f"Reliability diagram of all groups for attribute {one_line(attr.attribute)}"
    return to_svg(fig, key=key, alt=alt), note


def reward_hist_svg(attr: AttributeSummary, *, key: str,
                    xlabel: str = "raw reward") -> tuple[str, str] | None:
    """Raw-reward distributions by group as a ridgeline: one row per group, one shared x axis.

    ``xlabel`` names what was histogrammed (for pairs, the margin r(chosen) − r(rejected)).
    Each row is the group's density histogram (count / (total · bin width)), filled, on its own
    baseline; every row uses the same density scale (the tallest bar of all groups fills 0.9 of a
    row), so heights compare across groups. A dark tick marks the group's mean. At most
    ``MAX_PANELS`` groups, the largest, are drawn. Returns ``(svg, note)`` or ``None``.
    """
    import matplotlib as mpl
    from matplotlib.colors import to_rgba
    from matplotlib.ticker import MaxNLocator

    hists = {h.group: h for h in attr.reward_histograms
             if len(h.counts) > 0 and len(h.edges) == len(h.counts) + 1}
    if not hists:
        return None
    counts = {g.group: g.n for g in attr.groups}
    means = {g.group: g.reward_mean for g in attr.groups}
    shown, left = _panel_groups(list(hists), counts)
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
    with mpl.rc_context(_RC):
        leftm = 0.25 + 0.062 * max(len(t) for t in labels)
        fig, axes = _layout(1, 1, panel=(4.6, 0.5 * len(shown) + 0.2),
                            margins=(leftm, 0.25, 0.15, 0.5), gaps=(0.0, 0.0))
        ax = axes[0, 0]
        base = list(range(len(shown)))[::-1]  # largest group on top
        mx, my0, my1 = [], [], []
        for i, g in enumerate(shown):
            y0 = base[i]
            colour, _ = _style(i)
            heights = [y0 + 0.9 * d / top for d in dens[g]]
            edges = [float(e) for e in hists[g].edges]
            ax.stairs(heights, edges, baseline=y0, fill=True, facecolor=to_rgba(colour, 0.35),
                      edgecolor=colour, linewidth=1.0)
            m = means.get(g)
            if is_number(m):
                mx.append(float(m))
                my0.append(y0)
                my1.append(y0 + 0.95)
        if mx:
            ax.vlines(mx, my0, my1, colors="#222222", linestyles="--", linewidth=0.9)
        ax.set_yticks([b + 0.3 for b in base])
        ax.set_yticklabels(labels)
        ax.tick_params(axis="y", length=0)
        ax.set_ylim(-0.1, len(shown))
        ax.hlines(base, min(xs, default=0.0), max(xs, default=1.0), colors="#cccccc",
                  linewidth=0.5, zorder=0)
        ax.spines["left"].set_visible(False)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
        if xs:
            ax.set_xlim(min(xs), max(xs))
        ax.set_xlabel(label_text(xlabel, 60))
    note = (f"Rows show the {len(shown)} largest of {len(hists)} groups." if left else "")
    alt = f"Distributions of {xlabel} by group for attribute {one_line(attr.attribute)}"
    return to_svg(fig, key=key, alt=alt), note


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
    import matplotlib as mpl

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
    with mpl.rc_context(_RC):
        fig, axes = _layout(2, len(names), panel=(2.6, 1.9), margins=(0.7, 0.2, 0.35, 0.55),
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
