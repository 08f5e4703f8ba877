"""Formatting helpers and figures: known answers, properties, safety checks."""

from __future__ import annotations

import math
import re
import sys
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faro_audit.audit.result import AttributeSummary, AuditResult
from faro_audit.report import figures, fmt


@pytest.mark.parametrize("x,expected", [
    (0.04213, "0.042"), (0.0, "0.000"), (1, "1.000"), (-0.1236, "-0.124"), (0.00042, "0.00042"),
    (123456.0, "1.23e+05"), (None, "—"), (math.nan, "—"), (math.inf, "—"), ("x", "—"),
    (True, "—"),
])
def test_num(x: object, expected: str) -> None:
    assert fmt.num(x) == expected


def test_known_formats() -> None:
    assert fmt.interval(0.0612, 0.2214) == "[0.061, 0.221]"
    assert fmt.interval(None, 0.2) == "[—, 0.200]"
    assert fmt.interval(None, None) == "—"
    assert fmt.ci((0.1, 0.2)) == "[0.100, 0.200]" and fmt.ci(None) == "—"
    assert fmt.pvalue(0.0004) == "<0.001" and fmt.pvalue(0.0456) == "0.046"
    assert fmt.integer(1850) == "1,850" and fmt.integer(None) == "—"
    assert fmt.pct(0.075) == "7.5%"
    assert fmt.truncate("abcdef", 4) == ("abc…", True)
    assert fmt.clean_text("a\x00b\x1b[2J\x9bc\td") == "a\ufffdb\ufffd[2J\ufffdc\td"
    assert [fmt.exit_code(v) for v in ("certified", "violated", "inconclusive")] == [0, 1, 3]


@given(st.floats(allow_nan=True, allow_infinity=True), st.integers(1, 6))
def test_num_total(x: float, digits: int) -> None:
    out = fmt.num(x, digits)
    assert isinstance(out, str) and out
    if math.isfinite(x) and 1e-3 <= abs(x) < 1e5:
        assert abs(float(out) - x) <= 0.5 * 10 ** -digits + 1e-12


@given(st.floats(-10, 10), st.floats(-10, 10))
def test_interval_shape(a: float, b: float) -> None:
    out = fmt.interval(a, b)
    assert re.fullmatch(r"\[\S+, \S+\]", out)


def test_label_text_defuses_mathtext() -> None:
    assert figures.label_text("cost $5") == r"cost \$5"
    assert figures.label_text("a\nb\x00") == "a b\ufffd"
    assert figures.label_text("x" * 50, 10).endswith("…")


@pytest.mark.parametrize("bad", [
    '<svg><script>alert(1)</script></svg>',
    '<svg onload="alert(1)"></svg>',
    '<svg><use xlink:href="http://e.example/a.svg#x"/></svg>',
    '<svg><g clip-path="url(http://e.example/x)"></g></svg>',
    '<svg><image href="data:image/png;base64,AAAA"/></svg>',
    '<svg><foreignObject></foreignObject></svg>',
])
def test_check_svg_rejects(bad: str) -> None:
    with pytest.raises(RuntimeError):
        figures.check_svg(bad)


def test_check_svg_accepts_internal_refs() -> None:
    figures.check_svg('<svg><use xlink:href="#m1" x="1"/><g clip-path="url(#p1)"></g>'
                      '<text x="1">onload=&lt;script&gt; src=x</text></svg>')


def test_figures_unique_ids_and_deterministic(audit_result: AuditResult) -> None:
    attr = audit_result.attributes[0]
    a1, _ = figures.reliability_svg(attr, key="one")
    a2, _ = figures.reliability_svg(attr, key="one")
    b, _ = figures.reliability_svg(attr, key="two")
    assert a1 == a2
    ids_a = set(re.findall(r'\sid="([^"]+)"', a1))
    ids_b = set(re.findall(r'\sid="([^"]+)"', b))
    assert ids_a and not ids_a & ids_b
    assert a1.startswith("<svg") and "<?xml" not in a1 and "DOCTYPE" not in a1
    assert "<metadata" not in a1 and "<style" not in a1 and "http" not in a1


def test_shared_axes_figures_name_every_drawn_group(audit_result: AuditResult) -> None:
    """Each drawn group is named with its n (legend entry or row label), largest first."""
    attr = audit_result.attributes[0]
    for make in (figures.reliability_svg, figures.reward_hist_svg):
        svg, note = make(attr, key="k")
        assert note == ""  # no cap reached
        texts = re.findall(r"<text\b[^>]*>([^<]*)</text>", svg)
        for g in attr.groups:
            assert f"{g.group} (n={g.n})" in texts, (make.__name__, g.group)
    counts = {g.group: g.n for g in attr.groups}
    svg, _ = figures.reliability_svg(attr, key="k")
    drawn = [t for t in re.findall(r"<text\b[^>]*>([^<]*)</text>", svg) if "(n=" in t]
    assert drawn == [f"{g} (n={n})" for g, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))]


def test_figures_none_without_data(audit_result: AuditResult) -> None:
    attr = audit_result.attributes[0]
    bare = AttributeSummary(attribute="x", n_rows=0, groups=tuple(
        replace(g, soft=None, hard=None) for g in attr.groups))
    assert figures.group_means_svg(bare, key="k") is None
    assert figures.reliability_svg(bare, key="k") is None
    assert figures.reward_hist_svg(bare, key="k") is None


def test_interval_strip() -> None:
    svg = figures.interval_strip_svg(0.06, 0.14, 0.22, 0.1, verdict="violated", scale_max=0.25)
    assert "<rect" in svg and "<circle" in svg and "ε" in svg and "#b42318" in svg
    figures.check_svg(svg)
    partial = figures.interval_strip_svg(None, None, None, 0.1, verdict="x", scale_max=math.nan)
    assert "<rect" not in partial and "<circle" not in partial


def test_import_does_not_load_matplotlib() -> None:
    import subprocess

    code = ("import sys, faro_audit.report; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_overall_value_sources(audit_result: AuditResult) -> None:
    from faro_audit.audit.result import MetricResult
    from faro_audit.report.context import overall_value

    # overall float + the same estimate on an attribute metric → that metric's interval
    assert overall_value(audit_result, "pairwise_accuracy") == (0.713, (0.688, 0.739))
    assert overall_value(audit_result, "ece") == (0.041, None)
    assert overall_value(audit_result, "auc") == (None, None)
    pooled = MetricResult(name="ece", outcome=None, attribute=None, label=None, method="mean",
                          estimate=0.05, ci=(0.04, 0.06))
    with_pooled = replace(audit_result, metrics=(pooled, *audit_result.metrics))
    assert overall_value(with_pooled, "ece") == (0.05, (0.04, 0.06))
    as_dict = replace(audit_result, overall={"brier": {"estimate": 0.2, "ci": [0.1, 0.3]}})
    assert overall_value(as_dict, "brier") == (0.2, [0.1, 0.3])
