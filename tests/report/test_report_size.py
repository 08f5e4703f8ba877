"""A report over many groups and long texts stays small: aggregates only."""

from __future__ import annotations

import re

from faro_audit.report import render_html
from faro_audit.report.twins import MAX_TEXT


def test_many_groups_report_is_small(make_result, parse_page, loading_problems) -> None:
    intersections = {f"g{i:02d}|r{j}": 1500 + 37 * i for i in range(20) for j in range(3)}
    attributes = {
        "gender|race": intersections,  # 60 groups
        "religion": {f"religion_{i}": 2000 + 11 * i for i in range(40)},
    }
    result = make_result(attributes, long_text=50_000)
    assert sum(a.n_rows for a in result.attributes) > 100_000
    html = render_html(result)
    assert len(html.encode("utf-8")) < 2_000_000
    assert loading_problems(html) == []
    text = parse_page(html).text
    for a in result.attributes:  # every group is in the tables even when charts are capped
        for g in a.groups:
            assert g.group in text
    assert "every group is in the table" in text
    assert "Lines show the 12 largest of 60 groups" in text  # reliability cap
    assert "Rows show the 12 largest of 60 groups" in text  # distribution cap
    assert "(cut from 50000 characters)" in text
    cells = re.findall(r'<td class="text">([^<]*)', html)
    assert cells and max(len(c.rstrip()) for c in cells) <= MAX_TEXT
