"""The figure plumbing: reused canvases, unmeasured labels and hand-drawn axes.

Known answers come from matplotlib itself: a :class:`Label` must land where a matplotlib
``Text`` would, and :func:`x_axis` / :func:`y_axis` must put ticks, tick labels and axis labels
where matplotlib's own axis puts them.
"""

from __future__ import annotations

import io
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import matplotlib as mpl
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from faro_audit.audit.result import AttributeSummary, AuditResult
from faro_audit.report import figures
from faro_audit.report.figures_canvas import canvas, x_axis, y_axis
from faro_audit.report.figures_labels import Label
from faro_audit.report.figures_style import RC

CHARTS = ("group_means_svg", "reliability_svg", "reward_hist_svg")
_TEXT = re.compile(r'<text style="([^"]*)" x="([-\d.]+)" y="([-\d.]+)"[^>]*>([^<]*)</text>')


def _in_fresh_thread(func: Callable[[], Any]) -> Any:
    """Run ``func`` in a new thread, so it draws on new canvases (they are per thread)."""
    out: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            out.append(func())
        except Exception as err:  # noqa: BLE001 - re-raised in the calling thread
            errors.append(err)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    if errors:
        raise errors[0]
    return out[0]


def _variants(audit_result: AuditResult) -> list[AttributeSummary]:
    """Attributes that differ in group count, small groups, missing outcomes, bin sizes."""
    a, b = audit_result.attributes[:2]
    no_hard = replace(b, groups=tuple(replace(g, hard=None) for g in b.groups))
    one_missing = replace(a, groups=(replace(a.groups[0], soft=None),) + a.groups[1:])
    unequal = replace(a, reliability=tuple(  # shaded discs show each bin's share
        replace(c, count=tuple(5 + 40 * (j % 3) for j in range(len(c.count))))
        for c in a.reliability))
    return [a, b, no_hard, one_missing, unequal]


@pytest.mark.parametrize("name", CHARTS)
def test_reused_canvas_draws_what_a_new_one_draws(audit_result: AuditResult, name: str) -> None:
    """A chart's SVG does not depend on what its canvas drew before (any order, any data)."""
    make = getattr(figures, name)
    attrs = _variants(audit_result)
    fresh = [_in_fresh_thread(lambda a=a, i=i: make(a, key=f"k{i}"))
             for i, a in enumerate(attrs)]

    def reused() -> list[Any]:
        return [make(a, key=f"k{i}") for i, a in reversed(list(enumerate(attrs)))][::-1]

    assert _in_fresh_thread(reused) == fresh


@pytest.mark.parametrize("va", ["top", "bottom", "center", "baseline", "center_baseline"])
@pytest.mark.parametrize("ha", ["left", "center", "right"])
@pytest.mark.parametrize("rotation", [0, 90])
def test_label_lands_where_text_does(va: str, ha: str, rotation: int) -> None:
    def draw(cls: type) -> tuple[str, float, float]:
        with mpl.rc_context({**RC, "svg.hashsalt": "t"}):
            fig = Figure(figsize=(3, 2), dpi=96)
            fig.add_artist(cls(0.4, 0.3, "Jewish (n=108) ×2", ha=ha, va=va, fontsize=8.5,
                               rotation=rotation, rotation_mode="anchor"))
            buf = io.StringIO()
            fig.savefig(buf, format="svg")
        (style, x, y, text), = _TEXT.findall(buf.getvalue())
        assert text == "Jewish (n=108) ×2"
        return style, float(x), float(y)

    style, x, y = draw(Label)
    style_ref, x_ref, y_ref = draw(Text)
    assert style == style_ref
    assert x == pytest.approx(x_ref, abs=0.01) and y == pytest.approx(y_ref, abs=0.01)


def test_label_falls_back_to_text_where_it_must() -> None:
    """Several lines, or a raster backend: drawn by ``Text.draw``, nothing lost."""
    with mpl.rc_context({**RC, "svg.hashsalt": "t"}):
        fig = Figure(figsize=(3, 2), dpi=96)
        fig.add_artist(Label(0.5, 0.5, "first\nsecond", ha="center", va="center"))
        buf = io.StringIO()
        fig.savefig(buf, format="svg")
        png = io.BytesIO()
        fig.savefig(png, format="png")
    texts = re.findall(r"<text\b[^>]*>([^<]*)</text>", buf.getvalue())
    assert texts == ["first", "second"]
    assert png.getvalue().startswith(b"\x89PNG")


def _positions(svg: str) -> dict[str, tuple[float, float]]:
    return {text: (float(x), float(y)) for _, x, y, text in _TEXT.findall(svg)}


def test_hand_drawn_axes_match_matplotlib_axes() -> None:
    """Tick labels, tick marks and axis labels where matplotlib's own axes put them."""
    xt, yt = [0.0, 0.25, 0.5, 0.75, 1.0], [0.4, 0.6, 0.8, 1.0]

    def save(fig: Figure) -> str:
        buf = io.StringIO()
        fig.savefig(buf, format="svg")
        return buf.getvalue()

    with mpl.rc_context({**RC, "svg.hashsalt": "t"}):
        fig = Figure(figsize=(4.0, 3.0), dpi=96)
        ax = fig.add_axes((0.2, 0.2, 0.7, 0.7))
        ax.set_xlim(-0.02, 1.01)
        ax.set_ylim(0.35, 1.01)
        ax.set_xticks(xt)
        ax.set_yticks(yt)
        ax.set_xlabel("confidence")
        ax.set_ylabel("accuracy")
        ref = save(fig)
        mine = canvas("test-axes").begin(panel=(2.8, 2.1), margins=(0.8, 0.4, 0.3, 0.6))
        mine.set_xlim(-0.02, 1.01)
        mine.set_ylim(0.35, 1.01)
        x_axis(mine, xt, text="confidence")
        y_axis(mine, yt, text="accuracy")
        got = save(mine.figure)
    want, have = _positions(ref), _positions(got)
    assert set(have) == set(want) == {"0.00", "0.25", "0.50", "0.75", "1.00", "0.4", "0.6",
                                      "0.8", "1.0", "confidence", "accuracy"}
    for text, (x, y) in want.items():
        assert have[text] == pytest.approx((x, y), abs=0.05), text
    marks = re.compile(r'<use xlink:href="#[^"]+" x="([-\d.]+)" y="([-\d.]+)"')
    assert sorted(marks.findall(got)) == sorted(marks.findall(ref))


def test_hostile_group_names_stay_text(audit_result: AuditResult) -> None:
    """A label that looks like markup or an attribute is drawn as it is, and passes the check."""
    evil = 'x id="p0" onload="go()" <script> $a$ url(http://e.example)'
    attr = audit_result.attributes[0]
    attr = replace(attr,
                   groups=tuple(replace(g, group=f"{g.group}{evil}") for g in attr.groups),
                   reliability=tuple(replace(c, group=f"{c.group}{evil}")
                                     for c in attr.reliability),
                   reward_histograms=tuple(replace(h, group=f"{h.group}{evil}")
                                           for h in attr.reward_histograms))
    for name in CHARTS:
        svg, _ = getattr(figures, name)(attr, key="evil")
        figures.check_svg(svg)
        texts = re.findall(r"<text\b[^>]*>([^<]*)</text>", svg)
        shown = figures.label_text(f"{attr.groups[0].group}", 28 if name == CHARTS[0] else 22)
        shown = shown.replace(r"\$", "$").replace("<", "&lt;")
        assert any(t.startswith(shown) for t in texts), (name, texts)


def test_page_ids_are_unique(default_html: str) -> None:
    ids = Counter(re.findall(r'\sid="([^"]+)"', default_html))
    assert ids and max(ids.values()) == 1, [i for i, n in ids.items() if n > 1]


def _overflow(svg: str) -> list[str]:
    """Texts that reach past the SVG's edges (measured with the font matplotlib uses)."""
    from matplotlib.font_manager import FontProperties

    from faro_audit.report.figures_labels import text_width

    width = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))
    out = []
    for m in _TEXT.finditer(svg):
        style, x, _, text = m.groups()
        size = float(re.search(r"font-size: ([\d.]+)px", style).group(1))
        if "rotate(-90" in m.group(0):  # reads upwards: only its height extends left of x
            if float(x) - size < 0:
                out.append(text)
            continue
        anchor = re.search(r"text-anchor: (\w+)", style).group(1)
        w = text_width(text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"),
                       FontProperties(size=size))
        lo = {"start": 0.0, "middle": 0.5, "end": 1.0}[anchor] * w
        if float(x) - lo < -0.5 or float(x) - lo + w > width + 0.5:
            out.append(text)
    return out


@pytest.mark.parametrize("name", CHARTS)
def test_no_text_cut_off(make_result, name: str) -> None:
    """Short and long group names alike: every label and legend entry fits in the figure."""
    result = make_result({"short": {"a": 400, "b": 380},
                          "long": {"a rather long group name, cut": 400, "WWWWWWWWWW": 300},
                          "wide": {"WWWWWWWWWWWWWWWWWWWW": 400, "ii": 300}})
    for a in result.attributes:
        svg, _ = getattr(figures, name)(a, key="fit")
        assert _overflow(svg) == [], (a.attribute, name)
