"""The report written by ``retrain`` into ``out/report``: the held-out audit of the retrained
model with the "Retraining: before and after" section (comparison, slack check, sweep Pareto
plot), its JSON round trip, and the section's escaping on hostile strings."""

from __future__ import annotations

import json
import re

import pytest
from markupsafe import escape

from faro_audit.audit.result import (
    AuditResult,
    CertificateResult,
    SlackCheckResult,
)
from faro_audit.io.readers import validate_table
from faro_audit.report import fmt, render_html
from faro_audit.report.figures import pareto_svg
from faro_audit.report.retrain_section import METHOD_LABELS, build_retrain_context
from faro_audit.retrain.api import RetrainSettings, retrain
from faro_audit.retrain.proxygda import GDASettings
from faro_audit.retrain.sweep import pareto_mask

from .conftest import make_pairs

FACTORS = (0.5, 2.0)


@pytest.fixture(scope="module")
def run(biased_bert, tmp_path_factory):
    """One head-mode retraining with the baselines and a two-point sweep."""
    tmp = tmp_path_factory.mktemp("retrain-report")
    table = validate_table(make_pairs(800, seed=21), group=["gender"])
    s = RetrainSettings(gda=GDASettings(steps=40, eval_every=10, lr=0.05, eta_lambda=2.0),
                        batch_size=128, audit_fraction=0.3, margin=0.02, n_boot=0)
    messages: list[str] = []
    res = retrain(biased_bert, table, constraints=["dp_anchored@gender=0.05"], out=tmp / "out",
                  settings=s, sweep=FACTORS, progress=False, log=messages.append)
    return res, tmp, messages


def _section(html: str) -> str:
    start = html.index('<section id="retrain"')
    return html[start:html.index("</section>", start)]


def test_report_is_written_inside_the_model_directory(run):
    res, tmp, messages = run
    out = tmp / "out"
    assert res.report_dir == str(out / "report")
    assert {p.name for p in (out / "report").iterdir()} == {"report.html", "report.json",
                                                           "junit.xml", "summary.md"}
    assert [p.name for p in tmp.iterdir()] == ["out"]  # no temporary directory left behind
    assert f"report: {out / 'report' / 'report.html'}" in messages


def test_html_shows_every_method_with_its_values(run):
    res, tmp, _ = run
    html = (tmp / "out" / "report" / "report.html").read_text(encoding="utf-8")
    sec = _section(html)
    assert 'href="#retrain"' in html
    comp = res.comparison
    assert [m.method for m in comp.methods] == ["original", "unconstrained", "reweighting",
                                                "group_shift", "faro"]
    table = sec[:sec.index("</table>")]  # the comparison table comes first
    rows = re.findall(r"<tr[^>]*><th scope=\"row\">(.*?)</tr>", table, flags=re.DOTALL)
    assert len(rows) == 5
    key = "dp_anchored:soft@gender=0.05"
    for row, m in zip(rows, comp.methods):
        assert row.startswith(str(escape(METHOD_LABELS[m.method])))
        cells = re.findall(r'<td class="num">([^<]*)</td>', row)
        assert cells[:4] == [fmt.num(m.gaps[key]), fmt.num(m.pairwise_accuracy),
                             fmt.num(m.bt_nll), fmt.num(m.ece)]
    (check,) = res.audit.slack_checks
    assert fmt.num(res.manifest["declared_slack"]) in rows[-1]
    assert f"UCB {fmt.num(check.upper)}" in rows[-1]
    assert {True: "holds", False: "does not hold", None: "undetermined"}[check.holds] in rows[-1]
    assert res.audit_before.verdict.upper() in sec and res.audit.verdict.upper() in sec


def test_sweep_table_and_pareto_plot(run):
    res, tmp, _ = run
    sec = _section((tmp / "out" / "report" / "report.html").read_text(encoding="utf-8"))
    assert sec.count('<svg class="mpl"') == 1 and "<script" not in sec
    flags = re.findall(r"<td>(<strong>yes</strong>|no)</td></tr>", sec)
    assert flags == ["<strong>yes</strong>" if p.non_dominated else "no"
                     for p in res.sweep.points]
    assert len(res.sweep.points) == len(FACTORS)


def test_report_json_round_trips_and_rerenders(run):
    res, tmp, _ = run
    rep = tmp / "out" / "report"
    doc = json.loads((rep / "report.json").read_text(encoding="utf-8"))
    back = AuditResult.from_dict(doc)
    assert back.to_dict() == doc
    assert back.extras["retrain_comparison"] == res.comparison.to_dict()
    assert back.extras["retrain_sweep"] == res.sweep.to_dict()
    assert back.extras["audit_before_verdict"] == res.audit_before.verdict
    assert back.verdict == res.audit.verdict and back.slack_checks == res.audit.slack_checks
    # the page re-renders byte for byte from report.json alone
    assert render_html(back) == (rep / "report.html").read_text(encoding="utf-8")
    # the generic extras table does not repeat what the section shows
    assert '<th scope="row">retrain_comparison</th>' not in render_html(back)


EVIL = '<script>alert(1)</script>"&'


def _synthetic(*, with_comparison: bool = True, sweep: bool = True) -> AuditResult:
    text = f"dp_anchored:soft@{EVIL}=0.05"
    method = {"method": "faro", "description": EVIL, "gaps": {text: 0.0312},
              "pairwise_accuracy": 0.8125, "bt_nll": 0.4567, "ece": 0.0231,
              "accuracy_by_group": {}, "n_rows": 10, "extra": {"declared_slack": 0.0042}}
    comp = {"data": EVIL, "n_rows": 10, "temperature": 1.0,
            "constraints": [{"text": text}], "definitions": {EVIL: EVIL},
            "methods": [dict(method, method="original", gaps={text: 0.1234}, extra={}),
                        method]}
    points = [{"factor": f, "epsilons": {EVIL: 0.05 * f}, "gaps": {EVIL: g},
               "pairwise_accuracy": a, "bt_nll": n, "ece": 0.02, "declared_slack": 0.0,
               "dual_feasible": True, "non_dominated": nd}
              for f, g, a, n, nd in [(0.5, 0.02, 0.70, 0.60, True), (2.0, 0.08, 0.80, 0.50, True),
                                     (4.0, 0.09, 0.79, 0.55, False)]]
    extras: dict = {"other": EVIL}
    if with_comparison:
        extras.update(retrain_comparison=comp, audit_before_verdict="violated",
                      audit_before_certificates=[{"label": "dp_anchored:soft@g=0.05",
                                                  "estimate": 0.1, "lower": 0.08,
                                                  "upper": 0.12, "verdict": "violated"}])
        if sweep:
            extras["retrain_sweep"] = {"points": points, "criteria": []}
    cert = CertificateResult(metric="dp", outcome="soft", attribute="g", method="to_overall",
                             epsilon=0.05, delta=0.05, estimate=0.03, lower=0.01, upper=0.045,
                             verdict="certified", n_required=None, bound="betting")
    slack = SlackCheckResult(constraint=text, epsilon=0.05, declared_slack=0.0042, upper=0.045,
                             holds=True, statement=EVIL)
    return AuditResult(target={"kind": "reward_model"}, data={"n_rows": 10},
                       settings={"delta": 0.05}, metrics=(), certificates=(cert,),
                       verdict="certified", slack_checks=(slack,), extras=extras)


def test_section_escapes_hostile_strings():
    html = render_html(_synthetic())
    sec = _section(html)
    assert "<script>alert" not in html
    assert str(escape(EVIL)) in sec  # description, data, definitions: escaped, not dropped
    for value in ("0.031", "0.123", "0.812", "0.457", "0.023", fmt.num(0.0042)):
        assert value in sec
    assert "VIOLATED" in sec and "CERTIFIED" in sec  # before / after verdicts
    assert sec.count('<svg class="mpl"') == 1


def test_section_only_with_a_comparison():
    plain = render_html(_synthetic(with_comparison=False))
    assert 'id="retrain"' not in plain and 'href="#retrain"' not in plain
    assert build_retrain_context(_synthetic(with_comparison=False)) is None
    no_sweep = _section(render_html(_synthetic(sweep=False)))
    assert "Tolerance sweep" not in no_sweep and "<svg" not in no_sweep


def test_section_tolerates_malformed_extras():
    res = _synthetic()
    bad = AuditResult(**{**res.__dict__, "extras": {"retrain_comparison": {
        "methods": [None, {"method": "faro", "gaps": "x"}], "constraints": "x"},
        "retrain_sweep": {"points": [{"gaps": None}]}}})
    ctx = build_retrain_context(bad)
    assert ctx is not None and [m["label"] for m in ctx["methods"]] == ["", "Faro"]
    assert ctx["sweep"]["figure"] is None
    render_html(bad)


def test_pareto_svg_marks_the_front():
    points = [{"factor": f, "gaps": {"dp$x": g}, "pairwise_accuracy": a, "bt_nll": n}
              for f, g, a, n in [(0.5, 0.02, 0.7, 0.6), (1, 0.05, 0.75, 0.55),
                                 (2, 0.08, 0.8, 0.5), (4, 0.09, 0.79, 0.55)]]
    mask = pareto_mask([[p["gaps"]["dp$x"], -p["pairwise_accuracy"], p["bt_nll"]]
                        for p in points])
    assert mask.tolist() == [True, True, True, False]
    for p, m in zip(points, mask):
        p["non_dominated"] = bool(m)
    svg, note = pareto_svg(points, ["dp$x"], key="t")
    assert svg.startswith("<svg") and note == "3 of 4 sweep points are non-dominated."
    assert "×0.5" in svg and "×4" in svg
    assert pareto_svg([], ["dp"], key="t") is None
    assert pareto_svg(points, ["missing"], key="t") is None
