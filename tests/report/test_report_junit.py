"""junit.xml: one test case per certificate; violated fails, inconclusive is skipped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from faro_audit.audit.result import AuditResult
from faro_audit.errors import FaroUsageError
from faro_audit.report import fmt
from faro_audit.report.junit import render_junit


def _suite(xml: str, name: str) -> ET.Element:
    root = ET.fromstring(xml.encode("utf-8"))
    assert root.tag == "testsuites"
    return next(s for s in root.iter("testsuite") if s.get("name") == name)


def test_one_testcase_per_certificate(audit_result: AuditResult) -> None:
    suite = _suite(render_junit(audit_result), "faro-audit certificates")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [c.label for c in audit_result.certificates]
    by_verdict = {c.label: c.verdict for c in audit_result.certificates}
    for case in cases:
        verdict = by_verdict[case.get("name")]
        failure, skipped = case.find("failure"), case.find("skipped")
        assert (failure is not None) == (verdict == "violated")
        assert (skipped is not None) == (verdict == "inconclusive")
        if failure is not None:
            bad = next(c for c in audit_result.certificates if c.label == case.get("name"))
            assert failure.get("type") == "violated"
            assert fmt.interval(bad.lower, bad.upper) in failure.get("message")
        assert case.get("classname").startswith("faro_audit.certificates.")
        assert case.find("system-out").text.startswith("constraint: ")
    n = len(audit_result.certificates)
    assert suite.get("tests") == str(n)
    assert suite.get("failures") == str(sum(c.verdict == "violated"
                                            for c in audit_result.certificates))
    assert suite.get("skipped") == str(sum(c.verdict == "inconclusive"
                                           for c in audit_result.certificates))
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["verdict"] == "violated" and props["exit_code"] == "1"
    assert props["target_sha256"] == audit_result.target["sha256"]


def test_inconclusive_as_failure(audit_result: AuditResult) -> None:
    suite = _suite(render_junit(audit_result, inconclusive="failure"), "faro-audit certificates")
    types = [f.get("type") for f in suite.iter("failure")]
    assert types.count("inconclusive") == sum(c.verdict == "inconclusive"
                                              for c in audit_result.certificates)
    assert suite.find("testcase/skipped") is None
    with pytest.raises(FaroUsageError, match="inconclusive="):
        render_junit(audit_result, inconclusive="error")  # type: ignore[arg-type]


def test_slack_checks_suite(audit_result: AuditResult) -> None:
    xml = render_junit(audit_result)
    slack = _suite(xml, "faro-audit slack checks")
    assert slack.get("tests") == "1" and slack.get("failures") == "1"
    root = ET.fromstring(xml.encode("utf-8"))
    assert root.get("tests") == str(len(audit_result.certificates) + 1)
    no_slack = render_junit(replace(audit_result, slack_checks=()))
    assert len(ET.fromstring(no_slack.encode()).findall("testsuite")) == 1


def test_all_certified_has_no_failures(audit_result: AuditResult) -> None:
    ok = replace(audit_result, verdict="certified", slack_checks=(), certificates=tuple(
        replace(c, verdict="certified") for c in audit_result.certificates))
    root = ET.fromstring(render_junit(ok).encode())
    assert root.get("failures") == "0" and root.get("skipped") == "0"
    assert not list(root.iter("failure")) and not list(root.iter("skipped"))
