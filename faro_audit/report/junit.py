"""``junit.xml``: the certificates as JUnit test cases, for CI dashboards.

One ``<testcase>`` per certificate, in a ``<testsuite name="faro-audit certificates">``:

- ``certified`` → a passing test case;
- ``violated`` → ``<failure type="violated">``;
- ``inconclusive`` → ``<skipped>`` by default. JUnit has no "undecided" state; *skipped* is the
  standard way to say "neither passed nor failed", CI tools show it without failing the build,
  and the gate is the command's exit code (3, or ``--fail-on inconclusive``). Pipelines that
  gate on the JUnit file alone can pass ``inconclusive="failure"`` to get
  ``<failure type="inconclusive">`` instead.

Faro slack checks, when present, form a second suite ``faro-audit slack checks`` (holds →
pass, does not hold → failure, undetermined → skipped). The overall verdict, exit code, δ,
bound and hashes are ``<properties>`` of the certificates suite.

Built with :mod:`xml.etree.ElementTree`, which escapes markup; characters XML 1.0 forbids
(control characters) are replaced by U+FFFD first, so the file always parses.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, Literal

from faro_audit.audit.result import AuditResult, CertificateResult
from faro_audit.errors import FaroUsageError
from faro_audit.report import fmt

Inconclusive = Literal["skipped", "failure"]


def _s(value: Any) -> str:
    return fmt.clean_text("" if value is None else value)


def _summary(c: CertificateResult) -> str:
    return (f"{c.verdict}: estimate {fmt.num(c.estimate)}, interval "
            f"{fmt.interval(c.lower, c.upper)}, tolerance ε = {fmt.num(c.epsilon)}")


def _details(c: CertificateResult) -> str:
    lines = [
        f"constraint: {fmt.certificate_label(c)}",
        f"meaning: {fmt.certificate_description(c)}",
        f"estimate: {fmt.num(c.estimate)}",
        f"interval: {fmt.interval(c.lower, c.upper)} ({c.bound} bound, δ = {fmt.num(c.delta)})",
        f"epsilon: {fmt.num(c.epsilon)}",
        f"verdict: {c.verdict}",
    ]
    if c.n_required is not None:
        lines.append(f"rows needed per group to decide: {fmt.integer(c.n_required)}")
    if c.reason:
        lines.append(f"reason: {fmt.one_line(c.reason)}")
    return "\n".join(lines)


def _suite(parent: ET.Element, name: str) -> ET.Element:
    return ET.SubElement(parent, "testsuite", {"name": name, "time": "0"})


def _close(suite: ET.Element) -> tuple[int, int, int]:
    cases = suite.findall("testcase")
    failures = sum(1 for t in cases if t.find("failure") is not None)
    skipped = sum(1 for t in cases if t.find("skipped") is not None)
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    return len(cases), failures, skipped


def render_junit(result: AuditResult, *, inconclusive: Inconclusive = "skipped") -> str:
    """The JUnit XML document of ``result`` (see module docstring).

    Parameters
    ----------
    result
        The audit result.
    inconclusive
        ``"skipped"`` (default) or ``"failure"``: how an inconclusive certificate is reported.
    """
    if inconclusive not in ("skipped", "failure"):
        raise FaroUsageError(
            f"inconclusive={inconclusive!r} is not an option; use 'skipped' or 'failure'"
        )
    root = ET.Element("testsuites", {"name": "faro-audit", "time": "0"})
    suite = _suite(root, "faro-audit certificates")
    props = ET.SubElement(suite, "properties")
    for key, value in (
        ("verdict", result.verdict),
        ("exit_code", fmt.exit_code(result.verdict)),
        ("delta", result.settings.get("delta")),
        ("bound", result.settings.get("bound")),
        ("target", result.target.get("path")),
        ("target_sha256", result.target.get("sha256")),
        ("data", result.data.get("path")),
        ("data_sha256", result.data.get("sha256")),
        ("faro_audit_version", result.faro_audit_version),
    ):
        if value is not None:
            ET.SubElement(props, "property", {"name": key, "value": _s(value)})
    for c in result.certificates:
        case = ET.SubElement(suite, "testcase", {
            "classname": _s(f"faro_audit.certificates.{c.attribute}"),
            "name": _s(fmt.certificate_label(c)),
            "time": "0",
        })
        verdict = str(c.verdict)
        if verdict == "violated" or (verdict == "inconclusive" and inconclusive == "failure"):
            fail = ET.SubElement(case, "failure", {"type": verdict, "message": _s(_summary(c))})
            fail.text = _s(_details(c))
        elif verdict == "inconclusive":
            ET.SubElement(case, "skipped", {"message": _s(_summary(c) + ". " + fmt.one_line(
                c.reason))})
        elif verdict != "certified":
            err = ET.SubElement(case, "error", {"type": "unknown-verdict",
                                                "message": _s(f"unknown verdict {verdict!r}")})
            err.text = _s(_details(c))
        out = ET.SubElement(case, "system-out")
        out.text = _s(_details(c))
    totals = [_close(suite)]
    if result.slack_checks:
        slack = _suite(root, "faro-audit slack checks")
        for s in result.slack_checks:
            case = ET.SubElement(slack, "testcase", {
                "classname": "faro_audit.slack", "name": _s(s.constraint), "time": "0"})
            msg = _s(f"UCB {fmt.num(s.upper)} vs ε + s = {fmt.num(s.epsilon)} + "
                     f"{fmt.num(s.declared_slack)}: {fmt.one_line(s.statement)}")
            if s.holds is False:
                ET.SubElement(case, "failure", {"type": "slack", "message": msg}).text = msg
            elif s.holds is None:
                ET.SubElement(case, "skipped", {"message": msg})
        totals.append(_close(slack))
    errors = sum(1 for c in result.certificates
                 if str(c.verdict) not in ("certified", "violated", "inconclusive"))
    for suite_el in root.findall("testsuite"):
        n_err = sum(1 for t in suite_el.findall("testcase") if t.find("error") is not None)
        suite_el.set("errors", str(n_err))
    root.set("tests", str(sum(t[0] for t in totals)))
    root.set("failures", str(sum(t[1] for t in totals)))
    root.set("skipped", str(sum(t[2] for t in totals)))
    root.set("errors", str(errors))
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
