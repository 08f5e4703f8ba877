"""Text for the SVG figures without matplotlib's per-string measurement.

matplotlib lays out every :class:`~matplotlib.text.Text` by shaping the string with FreeType,
about a millisecond per label, which is most of the cost of a small chart. For SVG with
``svg.fonttype = "none"`` the measurement is not needed: the SVG backend anchors single-line
text at its position with ``text-anchor`` (start / middle / end, so the browser does the
horizontal alignment), and the vertical alignment of a single line depends only on the font's
ascent and descent (matplotlib uses the font's typographic ascender and descender, from its
OS/2 table, as the minimum extent of any line), which :func:`font_extent` reads once per font.

:class:`Label` is a ``Text`` that draws that way; anything else (mathtext, several lines,
rotation outside ``rotation_mode="anchor"``, a bounding box, a non-SVG renderer) falls back to
``Text.draw``, so the result is always right.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import matplotlib as mpl
from matplotlib import colors as mcolors
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.text import Text

try:  # matplotlib >= 3.10
    from matplotlib.ft2font import LoadFlags

    _NO_HINTING: Any = LoadFlags.NO_HINTING
except ImportError:  # pragma: no cover - older matplotlib
    from matplotlib.ft2font import LOAD_NO_HINTING as _NO_HINTING


@functools.lru_cache(maxsize=32)
def _extent(path: str) -> tuple[float, float]:
    font = get_font(path)
    os2 = font.get_sfnt_table("OS/2")
    upem = font.get_sfnt_table("head")["unitsPerEm"]
    if os2:
        return os2["sTypoAscender"] / upem, -os2["sTypoDescender"] / upem
    return font.ascender / upem, -font.descender / upem


def font_extent(prop: FontProperties) -> tuple[float, float]:
    """Ascent and descent of a line of text in ``prop``, in points.

    ``a = sTypoAscender / unitsPerEm · size`` and ``d = −sTypoDescender / unitsPerEm · size``
    from the font's OS/2 table (the ``hhea`` ascender and descender if it has none): what
    matplotlib takes as the smallest extent of any line (``Text._get_layout``, matplotlib
    3.11 ``text.py``).

    Parameters
    ----------
    prop
        The font; resolved with :func:`matplotlib.font_manager.findfont`.

    Returns
    -------
    tuple of (float, float)
        ``(a, d)``, both ≥ 0.
    """
    a, d = _extent(findfont(prop))
    size = prop.get_size_in_points()
    return a * size, d * size


@functools.lru_cache(maxsize=4096)
def _advance(path: str, char: str) -> float:
    """Unhinted advance width of ``char`` in the font at ``path``, in em."""
    font = get_font(path)
    font.set_size(100.0, 72)
    return font.load_char(ord(char), flags=_NO_HINTING).linearHoriAdvance / 65536 / 100.0


def text_width(text: str, prop: FontProperties) -> float:
    """Width of ``text`` set in ``prop``, in points, for sizing margins.

    ``w = size · Σ_c advance(c)``, each character's unhinted advance in em read from the font
    once (FreeType ``linearHoriAdvance``). Kerning is left out: it moves a line by well under a
    character, and the margins that use this keep a 0.15-inch edge.

    Parameters
    ----------
    text
        One line of text.
    prop
        The font.

    Returns
    -------
    float
        The width in points.
    """
    path = findfont(prop)
    return prop.get_size_in_points() * sum(_advance(path, c) for c in text)


def baseline_shift(va: str, ascent: float, descent: float) -> float:
    """Height of the baseline above the anchor of one line of text aligned ``va``.

    The line box spans ``d = descent`` below to ``a = ascent`` above the baseline, so the
    baseline sits at ``−a`` (top), ``d`` (bottom), ``(d − a)/2`` (center), ``0`` (baseline)
    or ``−a/2`` (center_baseline) from the anchor: matplotlib's offsets for one unrotated line
    (``Text._get_layout``, matplotlib 3.11 ``text.py``), also along the text's own up direction
    with ``rotation_mode="anchor"``.

    Parameters
    ----------
    va
        ``"top"``, ``"bottom"``, ``"center"``, ``"baseline"`` or ``"center_baseline"``.
    ascent, descent
        The line's extent, from :func:`font_extent`.

    Returns
    -------
    float
        The shift, in the units of ``ascent``.
    """
    return {"top": -ascent, "bottom": descent, "center": (descent - ascent) / 2,
            "baseline": 0.0, "center_baseline": -ascent / 2}[va]


class Label(Text):
    """A :class:`~matplotlib.text.Text` drawn into SVG without measuring it (module docstring).

    Takes the ``Text`` arguments; ``ha`` and ``va`` behave as for ``Text``.
    """

    def draw(self, renderer: Any) -> None:
        """Write the text element; see the module docstring for when it defers to ``Text``."""
        if not self.get_visible() or self.get_text() == "":
            return
        text, ismath = self._preprocess_math(self.get_text())
        angle = self.get_rotation()
        if (ismath or "\n" in text or self.get_bbox_patch() is not None
                or (angle != 0 and self.get_rotation_mode() != "anchor")
                or mpl.rcParams["svg.fonttype"] != "none"
                or not isinstance(getattr(renderer, "_renderer", renderer), RendererSVG)):
            super().draw(renderer)
            return
        x, y = self.get_transform().transform(self.get_unitless_position())
        if not (math.isfinite(x) and math.isfinite(y)):
            return
        up = baseline_shift(self.get_verticalalignment(), *font_extent(self._fontproperties))
        up = renderer.points_to_pixels(up)
        rad = math.radians(angle)
        x, y = x - up * math.sin(rad), y + up * math.cos(rad)  # along the text's "up"
        if renderer.flipy():
            y = renderer.get_canvas_width_height()[1] - y
        gc = renderer.new_gc()
        gc.set_foreground(mcolors.to_rgba(self.get_color()), isRGBA=True)
        gc.set_alpha(self.get_alpha())
        self._set_gc_clip(gc)
        renderer.draw_text(gc, x, y, text, self._fontproperties, angle, ismath=False,
                           mtext=self)
        gc.restore()
        self.stale = False
