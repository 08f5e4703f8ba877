"""``summary.md``: a short GitHub-flavoured Markdown summary for a pull-request comment.

Verdict first (symbol, word, exit code, meaning), then the certificate table, the Faro slack
checks and the policy bounds if any, warnings, and what was audited. Every user-supplied string
goes through :func:`md_escape`: HTML-significant ``&``, ``<``, ``>`` become entities, Markdown
punctuation is backslash-escaped (``|`` included, so table cells stay cells), and ``@`` gets a
zero-width joiner so a group called ``@org/team`` cannot mention anyone.
"""

from __future__ import annotations

import re
from typing import Any

from faro_audit.audit.result import AuditResult
from faro_audit.report import fmt

#: Most certificate rows in the table; the rest are counted (GitHub comments cap at 65,536).
MAX_ROWS = 50
#: Longest escaped cell (reasons, paths).
MAX_CELL = 300

_MD_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-!|~$])")
_EMOJI = {"certified": "✅", "violated": "❌", "inconclusive": "⚠️"}


def md_escape(value: Any, limit: int = MAX_CELL) -> str:
    """Escape one user-supplied string for a Markdown table cell or paragraph.

    One line; cut to ``limit`` characters; ``& < >`` as HTML entities; Markdown punctuation
    (``\\ ` * _ { } [ ] ( ) # + - ! | ~ $``, ``$`` for GitHub math) backslash-escaped;
    ``@`` followed by U+2060 (word joiner) so it never forms an @-mention.
    """
    text, _ = fmt.truncate(fmt.one_line(fmt.clean_text(value)), limit)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_PUNCT.sub(r"\\\1", text)
    return text.replace("@", "@\u2060")


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def render_markdown(result: AuditResult, *, max_rows: int = MAX_ROWS) -> str:
    """The Markdown summary of ``result`` (see module docstring)."""
    v = str(result.verdict)
    code = fmt.exit_code(v)
    delta = result.settings.get("delta")
    conf = fmt.pct(1.0 - float(delta)) if fmt.is_number(delta) else fmt.MISSING
    counts = {k: sum(1 for c in result.certificates if str(c.verdict) == k) for k in fmt.VERDICTS}
    out = [
        f"## {_EMOJI.get(v, '•')} faro-audit: **{md_escape(fmt.verdict_word(v))}**"
        f" (exit code {code if code is not None else '?'})",
        "",
        fmt.verdict_meaning(v),
        "",
        f"**Target:** {md_escape(result.target.get('path') or result.target.get('kind'))}"
        f" · **data:** {md_escape(result.data.get('path') or 'in memory')}"
        f" ({fmt.integer(result.data.get('n_rows'))} rows)"
        f" · **confidence:** {conf} (δ = {fmt.num(delta)}, "
        f"{md_escape(result.settings.get('bound', fmt.MISSING))} bound, all constraints together)",
        "",
        f"**{len(result.certificates)} constraints:** " + ", ".join(
            f"{n} {k}" for k, n in counts.items()) + ".",
        "",
    ]
    if result.certificates:
        out += [
            _row(["", "Constraint", "ε", "Estimate", "Interval", "Verdict", "Design", "Rows needed",
                  "Reason"]),
            "|---|---|---:|---:|---|---|---|---:|---|",
        ]
        order = {"violated": 0, "inconclusive": 1, "certified": 2}
        certs = sorted(result.certificates, key=lambda c: order.get(str(c.verdict), 3))
        for c in certs[:max_rows]:
            out.append(_row([
                fmt.verdict_symbol(c.verdict),
                md_escape(fmt.certificate_label(c)),
                fmt.num(c.epsilon),
                fmt.num(c.estimate),
                fmt.interval(c.lower, c.upper),
                md_escape(fmt.verdict_word(c.verdict)),
                md_escape(str(c.design)),
                fmt.integer(c.n_required) if c.n_required is not None else "",
                md_escape(c.reason),
            ]))
        if len(certs) > max_rows:
            out += ["", f"…and {len(certs) - max_rows} more constraints "
                        "(all are in `report.html` and `report.json`)."]
        out.append("")
    if v == "inconclusive":
        out += ["**Inconclusive is not a pass.** Collect the rows shown under *Rows needed* for "
                "the groups involved (or for the flagged small groups) and run the audit again.",
                ""]
    if result.slack_checks:
        out += ["### Faro slack checks", "",
                _row(["Constraint", "ε", "slack s", "upper bound", "claim"]),
                "|---|---:|---:|---:|---|"]
        for s in result.slack_checks:
            claim = {True: "✅ holds", False: "❌ does not hold",
                     None: "⚠️ undetermined"}[s.holds]
            out.append(_row([md_escape(s.constraint), fmt.num(s.epsilon),
                             fmt.num(s.declared_slack), fmt.num(s.upper), claim]))
        out.append("")
    if result.policy_bounds:
        out += ["### Reward → policy bounds (exact KL-regularised optimum)", ""]
        for p in result.policy_bounds:
            out.append(f"- β = {fmt.num(p.beta)}, reward gap Δ = {fmt.num(p.reward_gap)} "
                       f"({md_escape(p.reward_gap_source)}): log-ratio ≤ {fmt.num(p.log_ratio)}, "
                       f"KL ≤ {fmt.num(p.kl)}, TV ≤ {fmt.num(p.tv)}")
        out.append("")
    if result.warnings:
        out += [f"<details><summary>{len(result.warnings)} warning"
                f"{'s' if len(result.warnings) != 1 else ''}</summary>", ""]
        out += [f"- {md_escape(w, 1000)}" for w in fmt.aggregate_notes(result.warnings)]
        out += ["", "</details>", ""]
    out.append(f"<sub>faro-audit {md_escape(result.faro_audit_version)} · full report in "
               "`report.html` (self-contained) and `report.json`.</sub>")
    return "\n".join(out) + "\n"
