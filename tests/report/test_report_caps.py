"""Huge group counts are summarised (issue 12) and report.html carries no control characters.

Above ``fmt.LIST_GROUPS`` groups, every per-group listing of report.html shows the
``fmt.SHOW_GROUPS`` most extreme and one line "… and N more groups, all in report.json";
repeated notes become one line with a count in report.html, summary.md and the terminal.
report.json keeps everything.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from faro_audit.report import fmt
from faro_audit.report.html import finalize_value, render_html
from faro_audit.report.markdown import render_markdown
from faro_audit.report.text import render_text

C0_C1 = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _many(make_result, k: int):
    result = make_result({"g": {f"grp{i:05d}": 10 + (i % 7) for i in range(k)}}, min_group_size=30)
    notes = tuple(f"g: group 'grp{i:05d}' has {10 + i % 7} rows (< min_group_size 30); its constraints "
                  "cannot be certified" for i in range(k))
    return replace(result, warnings=(*result.warnings, *notes))


def test_aggregate_notes_folds_repeats_and_keeps_distinct_notes() -> None:
    notes = [f"group 'g{i}' has {i} rows" for i in range(10)] + ["something else", "another 'x'"]
    out = fmt.aggregate_notes(notes)
    assert out == ["group 'g0' has 0 rows (and 9 more like this, all in report.json)",
                   "something else", "another 'x'"]
    few = ["a 'x' 1", "a 'y' 2", "b"]
    assert fmt.aggregate_notes(few) == few  # up to REPEAT_NOTES of a kind: unchanged


def test_cap_listing_keeps_the_most_extreme_in_order() -> None:
    items = list(range(300))
    shown, more = fmt.cap_listing(items, lambda x: abs(x - 149.5), limit=100, show=4)
    assert shown == [0, 1, 298, 299] and more == 296
    assert fmt.cap_listing(items[:100], lambda x: x) == (items[:100], 0)
    nan_last, _ = fmt.cap_listing([float("nan")] * 150 + [1.0], lambda x: x, show=1)
    assert nan_last == [1.0]


def test_two_thousand_groups_report_is_capped_and_json_keeps_all(make_result) -> None:
    result = _many(make_result, 2000)
    html = render_html(result)
    assert len(html.encode("utf-8")) < 1_500_000
    assert "… and 1,950 more groups, all in report.json" in html
    shown = set(re.findall(r"grp\d{5}", html))
    assert 50 <= len(shown) < 400
    assert "(and 1,999 more like this, all in report.json)" in html
    text = render_text(result)
    assert len(text.splitlines()) < 80 and "1,999 more like this" in text
    md = render_markdown(result)
    assert len(md.splitlines()) < 120 and "1,999 more like this" in md
    data = json.loads(json.dumps(result.to_dict(), default=str))
    assert len(data["attributes"][0]["groups"]) == 2000  # report.json keeps every group
    assert len(data["warnings"]) >= 2000


def test_the_extreme_groups_are_the_ones_listed(make_result) -> None:
    result = _many(make_result, 500)
    a = result.attributes[0]
    centre = sum(g.soft.estimate for g in a.groups) / len(a.groups)
    top = sorted(a.groups, key=lambda g: abs(g.soft.estimate - centre), reverse=True)[:fmt.SHOW_GROUPS]
    from faro_audit.report.context import build_context

    rows = build_context(result)["attributes"][0]["groups"]
    assert len(rows) == fmt.SHOW_GROUPS + 1 and rows[-1]["more"]
    assert {r["group"] for r in rows[:-1]} == {g.group for g in top}


def test_few_groups_are_all_listed(make_result) -> None:
    result = make_result({"g": {f"grp{i}": 40 for i in range(fmt.LIST_GROUPS)}})
    html = render_html(result)
    assert "more groups, all in report.json" not in html
    assert all(f"grp{i}" in html for i in range(fmt.LIST_GROUPS))


@pytest.mark.parametrize("evil", ["\x1b[2J", "\x00", "\x07\x08", "\r", "\x0b\x0c", "\x7f", "\x85\x9b31m"])
def test_html_has_no_control_characters(make_result, evil: str) -> None:
    result = make_result({"g": {"a": 40, "b": 35}}, evil=evil)
    html = render_html(result)
    assert not C0_C1.search(html), repr(C0_C1.search(html))
    assert "\ufffd" in html  # shown, defused


def test_finalize_keeps_markup_and_numbers() -> None:
    from markupsafe import Markup

    m = finalize_value(Markup("<svg>\x1b</svg>"))
    assert isinstance(m, Markup) and str(m) == "<svg>\ufffd</svg>"
    assert finalize_value(3) == 3 and finalize_value("a\tb\nc") == "a\tb\nc"
