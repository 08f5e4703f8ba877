"""Hostile strings in every user-supplied field end up as text, never as markup."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from faro_audit.audit.result import AuditResult
from faro_audit.report import fmt
from faro_audit.report.junit import render_junit
from faro_audit.report.markdown import md_escape, render_markdown
from faro_audit.report.text import render_text

RAW = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>',
       "</textarea><svg onload=alert(2)>", "<b>bold</b>"]


def test_html_escapes_everything(hostile_html: str, parse_page, loading_problems) -> None:
    assert loading_problems(hostile_html) == []
    for raw in RAW:
        assert raw not in hostile_html
    page = parse_page(hostile_html)
    assert not {"b", "i", "textarea", "img", "script"} & {t for t, _ in page.tags}
    assert all(not k.startswith("on") for _, a in page.tags for k in a)
    # ...and the strings are shown, as text, where the user put them.
    text = page.text
    for raw in RAW:
        assert text.count(raw) >= 10, raw
    assert "/models/rm-7b<script>alert(1)</script>" in text  # model path
    assert "tpl-000<script>alert(1)</script>" in text  # cf id
    assert "Attribute gender<script>" in " ".join(text.split())  # attribute name heading
    assert "My christian<script>alert(1)</script>" in text  # twin texts
    assert "[link](http://evil.example/x)" in text  # a URL in data stays text, not a link
    assert not [a for t, a in page.tags if t == "a" and "evil" in a.get("href", "")]


def test_svg_labels_escaped(hostile_html: str, parse_page) -> None:
    figs = [a for t, a in parse_page(hostile_html).tags if t == "svg" and "mpl" in a.get(
        "class", "")]
    assert figs and all("<script>" in a["aria-label"] for a in figs)  # decoded attribute text
    assert "<text" not in re.sub(r"<text\b[^>]*>[^<]*</text>", "", hostile_html)
    assert r"\$math\$" not in hostile_html  # matplotlib's own escape does not leak


def test_markdown_cells_escaped(hostile_result: AuditResult) -> None:
    md = render_markdown(hostile_result)
    for raw in RAW:
        assert raw not in md
    assert "&lt;script&gt;" in md and "\\|" in md and "\\[link\\]" in md
    cells = [len(re.split(r"(?<!\\)\|", ln)) for ln in md.splitlines() if ln.startswith("|")]
    tables = [[]]  # consecutive table lines: each line has as many cells as its header
    for line in md.splitlines():
        if line.startswith("|"):
            tables[-1].append(len(re.split(r"(?<!\\)\|", line)))
        elif tables[-1]:
            tables.append([])
    tables = [t for t in tables if t]
    assert len(tables) == 2 and cells  # certificates, slack checks
    for t in tables:
        assert set(t) == {t[0]}, t
    cert_rows = [ln for ln in md.splitlines() if re.match(r"\| [✓✗?] \|", ln)]
    assert len(cert_rows) == len(hostile_result.certificates)
    assert "\x00" not in md and "\x07" not in md


def test_md_escape_known_answers() -> None:
    assert md_escape("a|b") == "a\\|b"
    assert md_escape("<x> & y") == "&lt;x&gt; &amp; y"
    assert md_escape("line\nbreak") == "line break"
    assert md_escape("*bold* _it_ `c` [l](u) $m$") == \
        "\\*bold\\* \\_it\\_ \\`c\\` \\[l\\]\\(u\\) \\$m\\$"
    assert md_escape("@org/team") == "@\u2060org/team"
    assert md_escape("x" * 500, 10) == "x" * 9 + "…"


def test_junit_escapes_and_parses(hostile_result: AuditResult) -> None:
    xml = render_junit(hostile_result)
    root = ET.fromstring(xml.encode("utf-8"))
    names = [t.get("name") for t in root.iter("testcase")]
    for c in hostile_result.certificates:
        assert fmt.clean_text(c.label) in names
    assert "<script>" not in xml and "&lt;script&gt;" in xml
    assert "\x00" not in xml and "\x07" not in xml


def test_text_has_no_control_characters(make_result) -> None:
    result = make_result(evil="\x1b[2J\x9b31m\x07")
    text = render_text(result)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text)
    assert "[2J" in text  # shown, defused


def test_each_hostile_string_in_small_outputs(make_result, hostile: str) -> None:
    result = make_result({"g": {"a": 40, "b": 35}}, evil=hostile)
    ET.fromstring(render_junit(result).encode("utf-8"))
    md = render_markdown(result)
    assert "<script" not in md and "<img" not in md and "<svg" not in md
    assert all(len(ln) <= 100 for ln in render_text(result).splitlines())
