"""matplotlib plumbing shared by the charts: reused figures, fixed layouts, light axes.

Drawing cost in matplotlib is mostly per artist and per measured string: an
:class:`~matplotlib.axes.Axes` is expensive to build (its axes, spines and prototype ticks),
each tick is five artists, and every label is shaped with FreeType. So:

- each chart kind draws on one :class:`Canvas`, a figure with one axes built once per thread
  and reused: a new chart removes the previous chart's artists, resizes the figure and moves
  the axes. Everything a chart shows is set on every draw (limits, ticks, labels), so the
  output does not depend on what was drawn before (the tests check it);
- the axes' own x and y axis are hidden; :func:`x_axis` and :func:`y_axis` draw ticks, tick
  labels, grid and axis label as one marker line, one line collection and a few
  :class:`~faro_audit.report.figures_labels.Label` texts, with matplotlib's default geometry
  (ticks 3.5 pt out, labels 3.5 pt beyond, axis label 4 pt beyond those) and its locators
  and formatters;
- legends are a few plain artists at fixed offsets instead of
  :class:`~matplotlib.legend.Legend`, whose layout machinery costs more than the chart;
- labels, legends and tick marks (all outside the axes, unclipped) belong to the figure,
  which adds them without computing a clip path; data artists belong to the axes, added
  without a data-limit pass (:func:`add`);
- layouts are fixed in inches (no tight-bbox pass, which draws twice); margins are sized from
  the widest label (:func:`~faro_audit.report.figures_labels.text_width`).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import TICKDOWN, TICKLEFT, Line2D
from matplotlib.markers import MarkerStyle
from matplotlib.patches import Rectangle
from matplotlib.path import Path
from matplotlib.transforms import Affine2D, ScaledTranslation, Transform

from faro_audit.report.figures_labels import Label, font_extent, text_width
from faro_audit.report.figures_style import AXIS_TEXT, DPI, RC

#: Inches: (left, right, top, bottom) margins around a panel.
Margins = tuple[float, float, float, float]
#: matplotlib's defaults, in points: tick length, tick-to-label pad, label-to-axis-label pad.
TICK, PAD, LABELPAD = 3.5, 3.5, 4.0
#: Inches of white space left beyond the outermost label.
EDGE = 0.15
#: Where :func:`line_legend` puts its handles (points right of the axes) and how long they are.
LEGEND_X, HANDLE = 8.0, 16.5

_local = threading.local()


class Canvas:
    """A figure with one axes, reused by every chart of one kind drawn in this thread.

    Parameters
    ----------
    setup
        Styles the new axes once (what every chart of the kind shares: spines, formatters);
        optional.
    """

    def __init__(self, setup: Callable[[Axes], None] | None = None) -> None:
        with mpl.rc_context(RC):
            self.fig = Figure(dpi=DPI)
            self.ax = self.fig.add_axes((0.0, 0.0, 1.0, 1.0))
            self.ax.patch.set_visible(False)  # white on the white figure; still the clip path
            self.ax.xaxis.set_visible(False)  # drawn by x_axis / y_axis
            self.ax.yaxis.set_visible(False)
            if setup is not None:
                setup(self.ax)

    def begin(self, *, panel: tuple[float, float], margins: Margins) -> Axes:
        """Clear the previous chart and size the figure: ``panel`` (w, h) plus ``margins``."""
        ax = self.ax
        for artist in (*ax.lines, *ax.collections, *ax.patches, *ax.texts, *ax.artists,
                       *self.fig.artists):
            artist.remove()
        (pw, ph), (left, right, top, bottom) = panel, margins
        width, height = left + pw + right, bottom + ph + top
        self.fig.set_size_inches(width, height)
        ax.set_position((left / width, bottom / height, pw / width, ph / height))
        return ax


def canvas(kind: str, setup: Callable[[Axes], None] | None = None) -> Canvas:
    """This thread's canvas for charts of ``kind`` (built with ``setup`` on first use)."""
    cache: dict[str, Canvas] | None = getattr(_local, "canvases", None)
    if cache is None:
        cache = _local.canvases = {}
    if kind not in cache:
        cache[kind] = Canvas(setup)
    return cache[kind]


def layout(nrows: int, ncols: int, *, panel: tuple[float, float], margins: Margins,
           gaps: tuple[float, float], **kw: Any) -> tuple[Figure, Any]:
    """A new figure of ``nrows`` x ``ncols`` panels laid out in inches (no tight-bbox pass).

    ``panel`` is (width, height) of one panel, ``margins`` (left, right, top, bottom) and
    ``gaps`` (between columns, between rows); ``kw`` goes to :meth:`Figure.subplots`.
    """
    (pw, ph), (left, right, top, bottom), (wg, hg) = panel, margins, gaps
    width = left + right + ncols * pw + (ncols - 1) * wg
    height = top + bottom + nrows * ph + (nrows - 1) * hg
    fig = Figure(figsize=(width, height), dpi=DPI)
    fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height,
                        bottom=bottom / height, wspace=wg / pw, hspace=hg / ph)
    return fig, fig.subplots(nrows, ncols, squeeze=False, **kw)


def add(ax: Axes, *artists: Artist) -> None:
    """Add artists to ``ax``'s chart without updating data limits (every chart sets its own).

    ``add_line`` and ``add_collection`` would measure each artist's extent first. Artists
    drawn unclipped (labels, legends, tick marks: all outside the axes) go to the figure,
    which does not give them the axes' clip path first; the figure draws them after the axes.
    """
    fig = ax.get_figure()
    assert fig is not None
    for artist in artists:
        if artist.get_clip_on():
            ax.add_artist(artist)
        else:
            fig.add_artist(artist)


@dataclass(frozen=True)
class Series:
    """How one series is drawn: what ``Line2D(color=..., marker=...)`` would draw."""

    colour: str
    marker: str | None = None
    linestyle: str = "-"
    linewidth: float = 1.0
    markersize: float = 4.5
    markeredgecolor: str = "white"
    markeredgewidth: float = 0.4


def draw_series(ax: Axes, series: Sequence[Series],
                lines: Sequence[Sequence[tuple[float, float]]], *, zorder: float = 2.0) -> None:
    """Each series' polyline in data coordinates, with its marker at every point."""
    for s, pts in zip(series, lines):
        add(ax, Line2D([p[0] for p in pts], [p[1] for p in pts], color=s.colour,
                       linestyle=s.linestyle, linewidth=s.linewidth, marker=s.marker,
                       markersize=s.markersize, markeredgecolor=s.markeredgecolor,
                       markeredgewidth=s.markeredgewidth, zorder=zorder))


def _marker_path(marker: str) -> Path:
    style = MarkerStyle(marker)
    return style.get_path().transformed(style.get_transform())


def _dpi(ax: Axes) -> Transform:
    fig = ax.get_figure()
    assert fig is not None
    return fig.dpi_scale_trans  # live: the SVG backend draws at 72 dpi


def offset(base: Transform, ax: Axes, dx: float = 0.0, dy: float = 0.0) -> Transform:
    """``base`` shifted by (``dx``, ``dy``) points."""
    return base + ScaledTranslation(dx / 72, dy / 72, _dpi(ax))


def from_corner(ax: Axes, corner: tuple[float, float]) -> Transform:
    """Coordinates in points from an axes ``corner`` (axes fraction, e.g. ``(1, 1)``)."""
    return Affine2D().scale(1 / 72) + _dpi(ax) + ScaledTranslation(corner[0], corner[1],
                                                                   ax.transAxes)


def _inside(locs: Sequence[float], lims: tuple[float, float]) -> list[float]:
    lo, hi = sorted(lims)
    tol = (hi - lo) * 1e-9
    return [float(v) for v in locs if lo - tol <= v <= hi + tol]


def tick_labels(ax: Axes, which: str, locs: Sequence[float]) -> list[str]:
    """The axis formatter's labels for ``locs`` (the formatter matplotlib would use)."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    return list(axis.get_major_formatter().format_ticks(list(locs)))


def label(ax: Axes, x: float, y: float, text: str, transform: Transform, **kw: Any) -> None:
    """Add an unclipped :class:`Label` (tick label colour unless ``color`` is given)."""
    kw.setdefault("color", AXIS_TEXT)
    add(ax, Label(x, y, text, transform=transform, clip_on=False, **kw))


def _tick_marks(xs: Sequence[float], ys: Sequence[float], trans: Transform,
                marker: int) -> Line2D:
    return Line2D(xs, ys, transform=trans, linestyle="none", marker=marker, markersize=TICK,
                  markeredgewidth=0.8, color=AXIS_TEXT, clip_on=False)


def x_axis(ax: Axes, locs: Sequence[float], *, text: str = "", ticks: bool = True,
           grid: dict[str, Any] | None = None) -> None:
    """Ticks, tick labels, grid (``grid``: ``LineCollection`` style) and label ``text``.

    Call after the x limits are set; ``locs`` outside them are dropped.
    """
    locs = _inside(locs, ax.get_xlim())
    trans = ax.get_xaxis_transform()
    if grid is not None and locs:
        add(ax, LineCollection([[(x, 0.0), (x, 1.0)] for x in locs], transform=trans,
                               zorder=0.5, **grid))
    if ticks and locs:
        add(ax, _tick_marks(locs, [0.0] * len(locs), trans, TICKDOWN))
    below = (TICK if ticks else 0.0) + PAD
    at = offset(trans, ax, dy=-below)
    for x, tick in zip(locs, tick_labels(ax, "x", locs)):
        label(ax, x, 0.0, tick, at, ha="center", va="top")
    if text:
        a, d = font_extent(FontProperties(size=mpl.rcParams["xtick.labelsize"]))
        label(ax, 0.5, 0.0, text, offset(ax.transAxes, ax, dy=-(below + a + d + LABELPAD)),
              ha="center", va="top", color=mpl.rcParams["axes.labelcolor"])


def y_axis(ax: Axes, locs: Sequence[float], *, text: str = "",
           grid: dict[str, Any] | None = None) -> None:
    """Ticks, tick labels, grid and (rotated) label of the y axis; see :func:`x_axis`."""
    locs = _inside(locs, ax.get_ylim())
    trans = ax.get_yaxis_transform()
    if grid is not None and locs:
        add(ax, LineCollection([[(0.0, y), (1.0, y)] for y in locs], transform=trans,
                               zorder=0.5, **grid))
    if locs:
        add(ax, _tick_marks([0.0] * len(locs), locs, trans, TICKLEFT))
    at = offset(trans, ax, dx=-(TICK + PAD))
    ticks = tick_labels(ax, "y", locs)
    for y, tick in zip(locs, ticks):
        label(ax, 0.0, y, tick, at, ha="right", va="center_baseline")
    if text:
        wide = widest(ticks, FontProperties(size=mpl.rcParams["ytick.labelsize"]).get_size())
        label(ax, 0.0, 0.5, text, offset(ax.transAxes, ax, dx=-(TICK + PAD + wide + LABELPAD)),
              rotation=90, rotation_mode="anchor", ha="center", va="bottom",
              color=mpl.rcParams["axes.labelcolor"])


def row_labels(ax: Axes, ys: Sequence[float], texts: Sequence[str]) -> None:
    """Labels right-aligned :data:`PAD` points left of the axes at data heights ``ys``.

    What tick labels with zero-length ticks show, without the tick objects.
    """
    at = offset(ax.get_yaxis_transform(), ax, dx=-PAD)
    for y, text in zip(ys, texts):
        label(ax, 0.0, y, text, at, ha="right", va="center_baseline")


def widest(texts: Sequence[str], fontsize: float | None = None) -> float:
    """Width in points of the widest of ``texts`` in the current font (``fontsize`` or rc)."""
    prop = FontProperties(size=fontsize)
    return max((text_width(t, prop) for t in texts), default=0.0)


def _inches(points: float) -> float:
    """``points`` plus :data:`EDGE`, in inches, rounded up to a whole point.

    Whole points keep the SVG's coordinates short (they are written in points).
    """
    return math.ceil(points + 72 * EDGE) / 72


def row_label_margin(texts: Sequence[str]) -> float:
    """Left margin in inches that fits :func:`row_labels` ``texts``."""
    return _inches(PAD + widest(texts))


def line_legend_margin(texts: Sequence[str], fontsize: float) -> float:
    """Right margin in inches that fits a :func:`line_legend` with labels ``texts``."""
    return _inches(LEGEND_X + HANDLE + 0.8 * fontsize + widest(texts, fontsize))


def line_legend(ax: Axes, entries: Sequence[tuple[Series, str]], *, fontsize: float,
                x: float = LEGEND_X, handle: float = HANDLE) -> None:
    """A frameless legend of line handles, top-aligned, ``x`` points right of the axes.

    ``entries`` are (series, label); a handle is a ``handle``-point line with the series'
    marker, if any, at its middle, placed as :class:`~matplotlib.legend.Legend` places it.
    All handle lines are one line collection and all handle markers one path collection
    (which cycles through the markers' shapes and colours).
    """
    trans = from_corner(ax, (1.0, 1.0))
    a, d = font_extent(FontProperties(size=fontsize))
    step = a + d + 0.5 * fontsize  # Legend: text height plus labelspacing 0.5
    lines, marked = [], []
    for i, (s, text) in enumerate(entries):
        y = -0.4 * fontsize - (a + d) / 2 - i * step  # below Legend's borderpad
        hy = y + (d - a) / 2 + 0.35 * fontsize  # Legend: handle 0.35 em above the baseline
        lines.append([(x, hy), (x + handle, hy)])
        if s.marker is not None:
            marked.append((s, (x + handle / 2, hy)))
        label(ax, x + handle + 0.8 * fontsize, y, text, trans, fontsize=fontsize, ha="left",
              va="center", color=mpl.rcParams["text.color"])
    series = [s for s, _ in entries]
    add(ax, LineCollection(lines, colors=[s.colour for s in series],
                           linestyles=[s.linestyle for s in series],
                           linewidths=[s.linewidth for s in series], transform=trans,
                           clip_on=False))
    if marked:
        add(ax, PathCollection([_marker_path(s.marker) for s, _ in marked if s.marker],
                               sizes=[s.markersize ** 2 for s, _ in marked],
                               offsets=[p for _, p in marked], offset_transform=trans,
                               facecolors=[s.colour for s, _ in marked],
                               edgecolors=[s.markeredgecolor for s, _ in marked],
                               linewidths=[s.markeredgewidth for s, _ in marked],
                               transform=Affine2D(), clip_on=False))


def swatch_legend(ax: Axes, entries: Sequence[tuple[dict[str, Any], str]], *,
                  fontsize: float) -> None:
    """A one-row frameless legend of filled swatches just above the axes' top-left corner.

    ``entries`` are (``Rectangle`` keyword arguments, label), spaced as
    :class:`~matplotlib.legend.Legend` spaces its columns (handle 1.4 em, text pad 0.8 em,
    column gap 2 em).
    """
    trans = from_corner(ax, (0.0, 1.0))
    prop = FontProperties(size=fontsize)
    w, h = 1.4 * fontsize, 0.7 * fontsize
    pad = 0.6 * fontsize  # Legend's borderaxespad 0.2 plus borderpad 0.4
    x, y = pad, pad + 0.5 * sum(font_extent(prop))
    for style, text in entries:
        add(ax, Rectangle((x, y - h / 2), w, h, transform=trans, clip_on=False, **style))
        label(ax, x + w + 0.8 * fontsize, y, text, trans, fontsize=fontsize, ha="left",
              va="center", color=mpl.rcParams["text.color"])
        x += w + 0.8 * fontsize + text_width(text, prop) + 2.0 * fontsize
