"""The plain-text summary the CLI prints: verdict, certificate table, reasons, warnings.

Fits ``width`` columns (default 100). No colour codes; user-supplied strings are put on one
line and stripped of control characters (a group name cannot move the cursor or clear the
screen). ``ascii_only=True`` spells ε/δ as eps/delta and uses ``...`` for a cut, for
terminals whose encoding lacks them.
"""

from __future__ import annotations

import textwrap
from typing import Any

from faro_audit.audit.result import AuditResult
from faro_audit.report import fmt


def _clean(value: Any) -> str:
    return fmt.one_line(fmt.clean_text(value))


def _cut(text: str, limit: int, ascii_only: bool) -> str:
    if len(text) <= limit:
        return text
    if ascii_only:
        return text[: max(limit - 3, 0)] + "..."
    return fmt.truncate(text, limit)[0]


def _cut_label(label: str, limit: int, ascii_only: bool) -> str:
    """Cut a constraint label in its middle so that its ``=ε`` tail stays visible."""
    if len(label) <= limit or "=" not in label:
        return _cut(label, limit, ascii_only)
    head, _, tail = label.rpartition("=")
    tail = "=" + tail
    return _cut(head, max(limit - len(tail), 1), ascii_only) + tail


_DESIGN = {"paired": "paired", "unpaired": "box", "twin-set spreads": "spread"}


def render_text(result: AuditResult, *, width: int = 100, ascii_only: bool = False) -> str:
    """The terminal summary of ``result``.

    Parameters
    ----------
    result
        The audit result.
    width
        Line width to fit (at least 60).
    ascii_only
        Use only ASCII characters.
    """
    width = max(int(width), 60)
    eps, delta_s = ("eps", "delta") if ascii_only else ("ε", "δ")
    v = str(result.verdict)
    code = fmt.exit_code(v)
    delta = result.settings.get("delta")
    wrap = textwrap.TextWrapper(width=width, subsequent_indent="  ")
    meaning = fmt.verdict_meaning(v)
    if ascii_only:
        meaning = meaning.replace("ε", "eps")
    lines = [
        f"faro-audit: {fmt.verdict_word(v)} (exit code {code if code is not None else '?'})",
        *wrap.wrap(meaning),
        _cut(f"target: {_clean(result.target.get('path') or result.target.get('kind'))}",
             width, ascii_only),
        _cut(f"data: {_clean(result.data.get('path') or 'in memory')} "
             f"({fmt.integer(result.data.get('n_rows'))} rows, "
             f"{_clean(result.data.get('shape', ''))}); {delta_s} = {fmt.num(delta)}, "
             f"bound {_clean(result.settings.get('bound', fmt.MISSING))}", width, ascii_only),
        "",
    ]
    certs = list(result.certificates)
    if certs:
        design_col = width >= 96  # the design column only where it fits
        fixed = {"eps": 6, "est": 8, "interval": 16, "verdict": 12, "rows": 11}
        if design_col:
            fixed["design"] = 8
        label_w = max(12, min(max(len(_clean(fmt.certificate_label(c))) for c in certs),
                              width - sum(fixed.values()) - 2 * len(fixed)))
        head = (f"{'constraint':<{label_w}}  {eps:>6}  {'estimate':>8}  {'interval':>16}  "
                f"{'verdict':<12}  " + (f"{'design':<8}  " if design_col else "") + f"{'rows needed':>11}")
        lines += [head, "-" * len(head)]
        for c in certs:
            rows = fmt.integer(c.n_required) if c.n_required is not None else ""
            lines.append(
                f"{_cut_label(_clean(fmt.certificate_label(c)), label_w, ascii_only):<{label_w}}  "
                f"{fmt.num(c.epsilon):>6}  {fmt.num(c.estimate):>8}  "
                f"{fmt.interval(c.lower, c.upper):>16}  {fmt.verdict_word(c.verdict):<12}  "
                + (f"{_DESIGN.get(str(c.design), 'box'):<8}  " if design_col else "") + f"{rows:>11}"
            )
        counts = {k: sum(1 for c in certs if str(c.verdict) == k) for k in fmt.VERDICTS}
        lines += ["", ", ".join(f"{n} {k}" for k, n in counts.items()) + "."]
        seq = result.extras.get("sequential")
        if isinstance(seq, dict) and seq.get("statement"):
            lines += textwrap.TextWrapper(width=width).wrap(_clean(str(seq["statement"])))
        reasons = [c for c in certs if str(c.verdict) != "certified" and c.reason]
        if reasons:
            lines += ["", "Why not certified:"]
            for c in reasons:
                item = textwrap.TextWrapper(width=width, initial_indent="  - ",
                                            subsequent_indent="    ")
                lines += item.wrap(f"{_clean(fmt.certificate_label(c))}: {_clean(c.reason)}")
    else:
        lines.append("No constraints were certified.")
    for s in result.slack_checks:
        claim = {True: "holds", False: "DOES NOT HOLD", None: "undetermined"}[s.holds]
        lines += textwrap.TextWrapper(width=width, subsequent_indent="  ").wrap(
            f"Faro slack check {_clean(s.constraint)}: {claim} (upper bound {fmt.num(s.upper)}, "
            f"{eps} + s = {fmt.num(s.epsilon)} + {fmt.num(s.declared_slack)})")
    if result.warnings:
        lines += ["", f"Warnings ({len(result.warnings)}):"]
        item = textwrap.TextWrapper(width=width, initial_indent="  - ", subsequent_indent="    ")
        for w in fmt.aggregate_notes(result.warnings):  # repeats: one line with a count
            lines += item.wrap(_clean(w))
    text = "\n".join(lines) + "\n"
    if ascii_only:
        text = text.encode("ascii", "replace").decode("ascii")
    return text
