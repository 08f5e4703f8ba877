"""The HTML report: every section renders, numbers are formatted, the page is self-contained."""

from __future__ import annotations

import re
import shlex
from dataclasses import replace

import pytest

from faro_audit.audit.result import AuditResult, CertificateResult
from faro_audit.report import fmt
from faro_audit.report.html import _template_dir, render_html

SECTIONS = ["verdict", "certificates", "overview", "attr-0", "attr-1", "counterfactual",
            "policy", "slack", "method", "provenance", "glossary"]


def test_every_section_renders(default_html: str, audit_result: AuditResult, parse_page) -> None:
    page = parse_page(default_html)
    ids = {a.get("id") for _, a in page.tags}
    for section in SECTIONS:
        assert section in ids, section
        assert f'href="#{section}"' in default_html  # linked from the contents
    text = page.text
    for heading in ("Overall verdict", "Certificates", "Ordinal, cardinal, fair",
                    "Counterfactual twins", "From reward to policy", "Faro slack checks",
                    "Method and settings", "Provenance", "How to read this report"):
        assert heading in text, heading
    for a in audit_result.attributes:
        assert a.attribute in text
        for g in a.groups:
            assert g.group in text


def test_verdict_first_with_word_and_exit_code(default_html: str, parse_page) -> None:
    page = parse_page(default_html)
    text = page.text
    assert text.index("VIOLATED") < text.index("Certificates")
    assert re.search(r"Exit code\s*1\b", text)
    assert "95.0%" in text and "δ = 0.050" in text


@pytest.mark.parametrize("verdict,code", [("certified", 0), ("violated", 1), ("inconclusive", 3)])
def test_each_overall_verdict(make_result, verdict: str, code: int, parse_page) -> None:
    base = make_result({"gender": {"female": 50, "male": 60}})
    result = replace(base, verdict=verdict, attributes=(), certificates=base.certificates[:1])
    text = parse_page(render_html(result)).text
    assert fmt.verdict_word(verdict) in text
    assert re.search(rf"Exit code\s*{code}\b", text)
    assert ("What to do:" in text) == (verdict != "certified")
    if verdict == "inconclusive":
        assert "Do not treat an inconclusive result as a pass" in text


def test_certificate_table(default_html: str, audit_result: AuditResult, parse_page) -> None:
    text = parse_page(default_html).text
    for c in audit_result.certificates:
        assert c.label in text
        assert fmt.interval(c.lower, c.upper) in text
        assert c.reason in text
    bad = next(c for c in audit_result.certificates if c.verdict == "violated")
    assert re.fullmatch(r"\[\d\.\d{3}, \d\.\d{3}\]", fmt.interval(bad.lower, bad.upper))
    assert "1,850" in text  # rows needed, with a thousands separator
    for word in ("✓ CERTIFIED", "✗ VIOLATED", "? INCONCLUSIVE"):  # never colour alone
        assert word in " ".join(text.split())
    strips = [a for t, a in parse_page(default_html).tags if t == "svg" and "strip" in a.get(
        "class", "")]
    assert len(strips) == len(audit_result.certificates)


def test_attribute_sections(default_html: str, audit_result: AuditResult, parse_page) -> None:
    page = parse_page(default_html)
    text = " ".join(page.text.split())
    gender = audit_result.attributes[0]
    female = next(g for g in gender.groups if g.group == "female")
    assert fmt.num(female.reward_mean) in text
    assert fmt.ci(female.soft.ci) in text
    assert "nonbinary small" in text  # the small-group flag, in words
    figs = [a for t, a in page.tags if t == "svg" and "mpl" in a.get("class", "")]
    assert len(figs) == 3 * len(audit_result.attributes)
    assert all(a.get("role") == "img" and a.get("aria-label") for a in figs)
    for t in gender.tests:
        assert fmt.pvalue(t.p_adjusted) in text
    assert "Holm" in text


def test_overview_twins_policy_slack_method_provenance(default_html: str,
                                                       audit_result: AuditResult,
                                                       parse_page) -> None:
    text = " ".join(parse_page(default_html).text.split())
    assert "Ordinal" in text and "Cardinal" in text and "Fair" in text
    assert "0.713 [0.688, 0.739]" in text  # pairwise accuracy with its interval
    assert "0.041" in text and "0.192" in text and "0.571" in text
    cf = audit_result.attributes[1].counterfactual
    assert cf.worst_sets[0].cf_id in text
    assert cf.worst_sets[0].rows[0]["chosen"] in text
    assert "7.5%" in text  # flip rate
    assert "exact KL-regularised optimum" in text
    assert "7.000" in text and "vacuous" in text
    assert "does not hold" in text
    for key, value in audit_result.definitions.items():
        assert key in text and value in text
    assert shlex.join(audit_result.provenance["command"]) in text
    assert "not installed" in text  # a package recorded as None
    assert "shared by 24 group intervals" in text
    assert audit_result.target["sha256"] in text and audit_result.data["sha256"] in text
    for w in audit_result.warnings:
        assert w in text
    assert "error probability δ" in text  # settings explained


def test_page_is_self_contained(default_html: str, loading_problems) -> None:
    assert loading_problems(default_html) == []
    assert "http://" not in default_html and "https://" not in default_html
    assert "Content-Security-Policy" in default_html and "script-src 'none'" in default_html


def test_self_containment_check_catches_loads(default_html: str, loading_problems) -> None:
    """The checker itself must fail on each kind of load it claims to catch."""
    for bad in ('<img src="x.png">', '<a href="https://e.example/">x</a>',
                '<link rel="stylesheet" href="//e.example/s.css">',
                '<p style="background:url(http://e.example/i.png)">', "<script>1</script>",
                '<svg><use xlink:href="http://e.example/s.svg#a"/></svg>',
                '<p onclick="x()">', "<style>@import 'x.css';</style>"):
        assert loading_problems(default_html.replace("<main>", "<main>" + bad)), bad


def test_missing_values_and_empty_result(make_result, parse_page, loading_problems) -> None:
    base = make_result({"gender": {"female": 50, "male": 60}})
    cert = CertificateResult(metric="dp", outcome="soft", attribute="gender",
                             method="between_groups", epsilon=0.05, delta=0.05, estimate=None,
                             lower=None, upper=None, verdict="inconclusive", n_required=None,
                             bound="betting", reason="no data")
    empty = AuditResult(target={}, data={}, settings={}, metrics=(), certificates=(cert,),
                        verdict="inconclusive")
    html = render_html(empty)
    text = parse_page(html).text
    assert "INCONCLUSIVE" in text and fmt.MISSING in text and "Not computed" in text
    assert loading_problems(html) == []
    nothing = replace(base, certificates=(), attributes=(), policy_bounds=(), slack_checks=(),
                      warnings=(), verdict="certified")
    assert "No constraints were certified" in parse_page(render_html(nothing)).text


def test_template_dir_is_the_checkout() -> None:
    where = _template_dir()
    assert (where / "report.html.j2").is_file()
    assert (where / "_report.css").is_file()


def test_templates_load_from_a_zipped_package(monkeypatch, tmp_path, audit_result) -> None:
    """The installed-package branch (a Traversable that is not a Path) renders the same page."""
    import zipfile

    from faro_audit.report import html as html_mod

    archive = tmp_path / "templates.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in _template_dir().iterdir():
            if f.is_file():
                zf.write(f, f"faro_audit/templates/{f.name}")
    root = zipfile.Path(archive, "faro_audit/templates/")
    small = replace(audit_result, attributes=())
    expected = render_html(small)
    monkeypatch.setattr(html_mod, "_template_dir", lambda: root)
    html_mod.environment.cache_clear()
    try:
        assert render_html(small) == expected
    finally:
        html_mod.environment.cache_clear()


def test_preload_templates_compiles_what_render_uses(audit_result: AuditResult) -> None:
    from faro_audit.report.html import environment, preload_templates

    environment.cache_clear()  # a new environment, with nothing compiled yet
    env = environment()
    assert env.cache is not None and len(env.cache) == 0
    n = preload_templates()
    assert n >= 10
    cached = {t.name for t in env.cache.values()}
    assert len(cached) == n and {"report.html.j2", "_report_attribute.html.j2"} <= cached
    render_html(audit_result)  # renders from the cache: nothing new compiled
    assert {t.name for t in env.cache.values()} == cached
