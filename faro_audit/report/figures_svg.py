"""Inline-SVG plumbing: serialise a matplotlib figure for the page, and check what is inlined.

:func:`to_svg` saves a figure with matplotlib's SVG backend and turns the document into an
``<svg>`` element ready to inline into HTML: the XML prolog, DOCTYPE, metadata, comments and
matplotlib's page-wide ``<style>`` are stripped, text stays text (``svg.fonttype = "none"``,
escaped by matplotlib), the ids nothing refers to are dropped and the others are salted with a
per-figure key (``svg.hashsalt``), so several figures in one page never share an id and the
output is byte-for-byte reproducible. :func:`check_svg` refuses anything that could run or load.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any

from faro_audit.report.fmt import clean_text, one_line, truncate

if TYPE_CHECKING:  # matplotlib is imported by the chart modules, when a figure is drawn
    from matplotlib.figure import Figure

#: Saved without the metadata matplotlib would write (creator, date), so output is reproducible.
_METADATA = {"Creator": None, "Date": None, "Format": None, "Type": None}

_STRIP = (
    re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL),
    re.compile(r"<!--.*?-->\s*", re.DOTALL),
    # matplotlib's global "*{stroke-linejoin: round; stroke-linecap: butt}": a <style> inside an
    # inline SVG would apply to the whole page, so it lives in the page CSS (svg.mpl *).
    re.compile(r"<style[^>]*>.*?</style>\s*", re.DOTALL),
    re.compile(r"<defs>\s*</defs>\s*"),
)
#: Redundant on every text matplotlib writes unrotated. This and ``_ID`` match inside a tag
#: only: text content cannot hold "<" (the SVG writer escapes it).
_NO_ROTATION = re.compile(r'(<text\b[^<>]*?) transform="rotate\(-0 [-\d.e]+ [-\d.e]+\)"')
#: matplotlib writes ``id`` as a tag's first attribute (``<g id="axes_1">``, ``<path id=...``).
_ID = re.compile(r'<([A-Za-z][\w:.-]*) id="([^"]*)"')
_REF = re.compile(r"#([A-Za-z_][\w.:-]*)")

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

    Returns
    -------
    str
        The ``<svg class="mpl" role="img" aria-label=...>`` element.
    """
    import matplotlib as mpl

    with mpl.rc_context({"svg.hashsalt": f"faro-{key}", "svg.fonttype": "none"}):
        return svg_element(fig, alt=alt)


def svg_element(fig: Figure, *, alt: str = "") -> str:
    """:func:`to_svg` for a caller that has set ``svg.hashsalt`` and ``svg.fonttype`` itself.

    The charts draw inside one ``rc_context`` holding their style and the salt
    (:func:`faro_audit.report.figures_style.chart_rc`), which saves a second context per figure.
    """
    from markupsafe import escape

    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata=_METADATA)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]  # the XML prolog and DOCTYPE
    for pattern in _STRIP:
        svg = pattern.sub("", svg)
    svg = svg.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    svg = svg.replace(' xmlns="http://www.w3.org/2000/svg"', "")
    svg = _NO_ROTATION.sub(r"\1", svg)
    svg = _drop_unreferenced_ids(svg)
    label = escape(clean_text(alt))
    svg = svg.replace("<svg", f'<svg class="mpl" role="img" aria-label="{label}"', 1)
    check_svg(svg)
    return svg.strip()


def _drop_unreferenced_ids(svg: str) -> str:
    """Remove ``id`` attributes nothing refers to (``figure_1``, ``axes_1``...).

    matplotlib numbers these per figure, so several inlined figures would repeat them (duplicate
    ids are invalid HTML); the referenced ones (clip paths, markers) are salted hashes.
    """
    used = set(_REF.findall(svg))
    return _ID.sub(lambda m: m.group(0) if m.group(2) in used else "<" + m.group(1), svg)
