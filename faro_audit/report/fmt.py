"""Number and label formatting shared by every renderer (HTML, Markdown, text, JUnit).

Plain strings out, no markup: escaping is each renderer's job (Jinja2 autoescape for HTML,
:func:`faro_audit.report.markdown.md_escape` for Markdown, ElementTree for XML).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from faro_audit.audit.result import CertificateResult

T = TypeVar("T")

#: Control characters: illegal in XML 1.0 (C0 except tab/newline/return, lone surrogates,
#: U+FFFE/U+FFFF), or able to drive a terminal (ESC, DEL, the C1 range including CSI U+009B).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

#: What is shown where a number is missing (not computed, undefined, or NaN in the source).
MISSING = "—"

#: Verdict → (exit code, one-line meaning). SPEC §5.4 and §8.
VERDICTS: dict[str, tuple[int, str]] = {
    "certified": (
        0,
        "Every constraint holds: with the stated confidence, each gap's upper confidence bound "
        "is at or below its tolerance ε.",
    ),
    "violated": (
        1,
        "At least one constraint is violated: with the stated confidence, that gap's lower "
        "confidence bound is above its tolerance ε.",
    ),
    "inconclusive": (
        3,
        "No constraint is shown to be violated, but at least one could not be decided: its "
        "interval straddles ε, or it involves a group below the minimum size. This is not a pass.",
    ),
}

METRIC_NAMES: dict[str, str] = {
    "dp": "Demographic-parity gap",
    "dp_gap": "Demographic-parity gap",
    "eo": "Equalized-odds gap",
    "eo_gap": "Equalized-odds gap",
    "cf": "Counterfactual gap",
    "cf_gap": "Counterfactual gap",
    "pairwise_accuracy": "Pairwise accuracy",
    "auc": "AUC",
    "ece": "Expected calibration error",
    "brier": "Brier score",
    "bt_nll": "Bradley–Terry negative log-likelihood",
    "cf_flip_rate": "Counterfactual flip rate",
    "ece_gap": "Calibration gap (worst − best group ECE)",
}

OUTCOME_NAMES: dict[str, str] = {
    "soft": "soft outcome σ(d/T)",
    "hard": "hard outcome 1[d > 0]",
}

METHOD_NAMES: dict[str, str] = {
    "between_groups": "max − min of group means",
    "to_overall": "anchored: max |group mean − pooled mean|",
    "mean_spread": "mean spread within twin sets",
    "mean": "mean",
    "equal_mass_15": "15 equal-mass bins",
    "worst_minus_best": "worst − best group",
    "mann_whitney": "Mann–Whitney",
}


def is_number(x: Any) -> bool:
    """True for a finite real number (bools excluded)."""
    if isinstance(x, bool) or x is None:
        return False
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def num(x: Any, digits: int = 3) -> str:
    """Format a number with ``digits`` decimals; very large or very small values in ``g`` form.

    ``None``, NaN and non-numbers give :data:`MISSING`. Zero is ``0.000``; a value that would
    print as ``0.000`` but is not zero (e.g. 0.00042) prints as ``0.00042`` so it is not mistaken
    for an exact zero.
    """
    if not is_number(x):
        return MISSING
    v = float(x)
    if v == 0.0:
        return f"{0.0:.{digits}f}"
    if abs(v) >= 1e5:
        return f"{v:.{digits}g}"
    if abs(v) < 0.5 * 10**-digits:
        return f"{v:.2g}"
    return f"{v:.{digits}f}"


def integer(x: Any) -> str:
    """Integer with thousands separators (``12,345``); :data:`MISSING` if absent."""
    if not is_number(x):
        return MISSING
    return f"{round(float(x)):,}"


def pct(x: Any, digits: int = 1) -> str:
    """A share in [0, 1] as a percentage (``0.25`` → ``25.0%``)."""
    if not is_number(x):
        return MISSING
    return f"{100.0 * float(x):.{digits}f}%"


def interval(lo: Any, hi: Any, digits: int = 3) -> str:
    """An interval as ``[a, b]``; :data:`MISSING` if both ends are missing."""
    if not is_number(lo) and not is_number(hi):
        return MISSING
    return f"[{num(lo, digits)}, {num(hi, digits)}]"


def ci(pair: Iterable[Any] | None, digits: int = 3) -> str:
    """Format a ``(lower, upper)`` tuple as :func:`interval` does."""
    if pair is None:
        return MISSING
    vals = list(pair)
    if len(vals) != 2:
        return MISSING
    return interval(vals[0], vals[1], digits)


def pvalue(p: Any) -> str:
    """A p-value: three decimals, ``<0.001`` below that."""
    if not is_number(p):
        return MISSING
    v = float(p)
    if v < 0.001:
        return "<0.001"
    return f"{v:.3f}"


def verdict_word(verdict: str) -> str:
    """Upper-case verdict word (shown beside colour, never colour alone)."""
    return str(verdict).upper()


def verdict_symbol(verdict: str) -> str:
    """A text symbol for a verdict, so it reads without colour."""
    return {"certified": "✓", "violated": "✗", "inconclusive": "?"}.get(str(verdict), "•")


def exit_code(verdict: str) -> int | None:
    """The exit code a gating command returns for ``verdict`` (SPEC §8)."""
    entry = VERDICTS.get(str(verdict))
    return entry[0] if entry else None


def verdict_meaning(verdict: str) -> str:
    """One-sentence meaning of an overall verdict."""
    entry = VERDICTS.get(str(verdict))
    return entry[1] if entry else f"Unknown verdict {verdict!r}."


def certificate_label(cert: CertificateResult) -> str:
    """The constraint as the CLI spells it (``dp_anchored:soft@gender=0.05``)."""
    try:
        return cert.label
    except (TypeError, ValueError):  # a malformed epsilon from a hand-edited report.json
        return f"{cert.metric}:{cert.outcome}@{cert.attribute}={cert.epsilon}"


def certificate_description(cert: CertificateResult) -> str:
    """Plain-language description of a constraint, e.g. 'Demographic-parity gap, soft ...'."""
    parts = [METRIC_NAMES.get(cert.metric, str(cert.metric))]
    if cert.outcome:
        parts.append(OUTCOME_NAMES.get(cert.outcome, str(cert.outcome)))
    if cert.method:
        parts.append(METHOD_NAMES.get(cert.method, str(cert.method)))
    return ", ".join(parts)


def metric_name(name: str) -> str:
    """Readable name of a metric key (falls back to the key)."""
    return METRIC_NAMES.get(str(name), str(name).replace("_", " "))


def truncate(text: Any, limit: int) -> tuple[str, bool]:
    """``(text cut to limit characters with an ellipsis, whether it was cut)``."""
    s = "" if text is None else str(text)
    if limit <= 0 or len(s) <= limit:
        return s, False
    return s[: max(limit - 1, 0)] + "…", True


def one_line(text: Any) -> str:
    """Collapse all whitespace (newlines, tabs) to single spaces."""
    return " ".join(("" if text is None else str(text)).split())


def clean_text(text: Any, *, keep_cr: bool = True) -> str:
    """``str(text)`` with control characters replaced by U+FFFD.

    Replaced: C0 controls except tab, newline (and carriage return unless ``keep_cr`` is
    False), DEL, C1 controls (U+0080–U+009F), lone surrogates and U+FFFE/U+FFFF: everything
    XML 1.0 forbids plus what a terminal or browser would act on. The one sanitiser of every
    report output (junit.xml, summary.md, the terminal summary and report.html).
    """
    out = _CONTROL.sub("\ufffd", "" if text is None else str(text))
    return out if keep_cr else out.replace("\r", "\ufffd")


#: Per-group listings longer than this are cut to the :data:`SHOW_GROUPS` most extreme.
LIST_GROUPS = 100
#: Groups shown when a listing is cut.
SHOW_GROUPS = 50
#: Notes repeated (same wording up to quoted names and numbers) more often than this are
#: shown once, with a count.
REPEAT_NOTES = 3

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:e[+-]?\d+)?")


def note_pattern(note: str) -> str:
    """The wording of a note with quoted names and numbers blanked (its repeat key)."""
    return _NUMBER.sub("#", _QUOTED.sub("'…'", str(note)))


def aggregate_notes(notes: Iterable[Any], *, repeat: int = REPEAT_NOTES) -> list[str]:
    """Notes with repeats folded into one line each, in order of first appearance.

    Notes of one pattern (:func:`note_pattern`) that occur at most ``repeat`` times are kept as
    they are; a pattern that occurs N > ``repeat`` times becomes its first note followed by
    ``" (and N − 1 more like this, all in report.json)"``. Nothing else changes, so a handful of
    distinct notes read exactly as before.

    Parameters
    ----------
    notes : iterable of str
    repeat : int

    Returns
    -------
    list of str
    """
    items = ["" if n is None else str(n) for n in notes]
    groups: dict[str, list[int]] = {}
    for i, n in enumerate(items):
        groups.setdefault(note_pattern(n), []).append(i)
    out: list[str] = []
    for idx in groups.values():
        if len(idx) <= repeat:
            out.extend(items[i] for i in idx)
        else:
            out.append(f"{items[idx[0]]} (and {len(idx) - 1:,} more like this, all in report.json)")
    return out


def more_groups(n_more: int) -> str:
    """The line that stands for the groups a listing leaves out."""
    return f"… and {n_more:,} more group{'s' if n_more != 1 else ''}, all in report.json"


def cap_listing(items: Sequence[T], extremeness: Callable[[T], float], *, limit: int = LIST_GROUPS,
                show: int = SHOW_GROUPS) -> tuple[list[T], int]:
    """At most ``limit`` items as they are; above it the ``show`` most extreme, in input order.

    Parameters
    ----------
    items : sequence
        Per-group entries, in display order.
    extremeness : callable
        Larger is more extreme (e.g. |m_a − m_pool|, or −p); NaN counts as least extreme.
    limit, show : int

    Returns
    -------
    (shown, n_more) : list, int
        The kept entries (display order preserved) and how many were left out.
    """
    if len(items) <= limit:
        return list(items), 0

    def key(i: int) -> float:
        v = extremeness(items[i])
        return -math.inf if v is None or not math.isfinite(float(v)) else float(v)

    keep = sorted(sorted(range(len(items)), key=key, reverse=True)[:show])
    return [items[i] for i in keep], len(items) - len(keep)
