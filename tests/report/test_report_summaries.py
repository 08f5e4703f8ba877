"""summary.md and the terminal summary."""

from __future__ import annotations

import re
from dataclasses import replace

from faro_audit.audit.result import AuditResult
from faro_audit.report import fmt
from faro_audit.report.markdown import render_markdown
from faro_audit.report.text import render_text


def test_markdown_summary(audit_result: AuditResult) -> None:
    md = render_markdown(audit_result)
    first = md.splitlines()[0]
    assert first.startswith("## ❌") and "VIOLATED" in first and "exit code 1" in first
    rows = [ln for ln in md.splitlines() if re.match(r"\| [✓✗?] \|", ln)]
    assert len(rows) == len(audit_result.certificates)
    assert "VIOLATED" in rows[0]  # violated first, then inconclusive, then certified
    assert "CERTIFIED" in rows[-1]
    bad = next(c for c in audit_result.certificates if c.verdict == "violated")
    assert fmt.interval(bad.lower, bad.upper) in rows[0] and "1,850" in md
    assert "Faro slack checks" in md and "does not hold" in md
    assert "exact KL-regularised optimum" in md
    assert "<details><summary>2 warnings</summary>" in md


def test_markdown_caps_rows(audit_result: AuditResult) -> None:
    md = render_markdown(audit_result, max_rows=2)
    assert len([ln for ln in md.splitlines() if re.match(r"\| [✓✗?] \|", ln)]) == 2
    assert f"…and {len(audit_result.certificates) - 2} more constraints" in md


def test_inconclusive_markdown_says_not_a_pass(audit_result: AuditResult) -> None:
    md = render_markdown(replace(audit_result, verdict="inconclusive"))
    assert "⚠️" in md.splitlines()[0] and "exit code 3" in md
    assert "Inconclusive is not a pass" in md


def test_text_summary_fits_100_columns(audit_result: AuditResult) -> None:
    text = render_text(audit_result)
    lines = text.splitlines()
    assert lines[0] == "faro-audit: VIOLATED (exit code 1)"
    assert max(len(ln) for ln in lines) <= 100
    table = [ln for ln in lines if re.search(r"(CERTIFIED|VIOLATED|INCONCLUSIVE)\s", ln)
             and "@" in ln]
    assert len(table) == len(audit_result.certificates)
    assert "Why not certified:" in text and "DOES NOT HOLD" in text and "Warnings (2):" in text


def test_text_long_labels_keep_epsilon(make_result) -> None:
    result = make_result({"a_very_long_attribute_name_" * 4: {"x": 40, "y": 50}})
    text = render_text(result, width=80)
    assert max(len(ln) for ln in text.splitlines()) <= 80
    rows = [ln for ln in text.splitlines() if "…=0.05" in ln or "…=0.1" in ln]
    assert rows  # cut in the middle, ε still visible


def test_text_ascii_only(audit_result: AuditResult) -> None:
    text = render_text(audit_result, ascii_only=True)
    text.encode("ascii")
    assert "eps" in text and "delta = 0.050" in text
