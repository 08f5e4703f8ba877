"""The report of a real AuditResult built by ``faro_audit.audit.run.audit_table``.

Skipped while the orchestration (or a module it needs) cannot be imported yet.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from faro_audit.audit.result import AuditResult
from faro_audit.report import render_html, render_text, write_report


def _scored_table():  # type: ignore[no-untyped-def]
    pd = pytest.importorskip("pandas")
    readers = pytest.importorskip("faro_audit.io.readers")
    rng = np.random.default_rng(3)
    n = 600
    gender = rng.choice(["female", "male", "nonbinary"], p=[0.48, 0.48, 0.04], size=n)
    religion = np.array(["christian", "muslim", "jewish"])[np.arange(n) % 3]
    frame = pd.DataFrame({
        "prompt": [f"Template {i // 3}: my {religion[i]} <b>neighbour</b> asks | for help"
                   for i in range(n)],
        "chosen": ["a careful answer"] * n,
        "rejected": ["<script>alert(1)</script>"] * n,
        "gender": gender,
        "religion": religion,
        "cf_id": [f"t{i // 3}" for i in range(n)],
        "reward_chosen": rng.normal(1.0, 1.0, n) + 0.4 * (religion == "muslim"),
        "reward_rejected": rng.normal(0.0, 1.0, n),
    })
    return readers.validate_table(frame, group=["gender"])


def test_real_result_renders(tmp_path: Path, parse_page, loading_problems) -> None:
    run = pytest.importorskip("faro_audit.audit.run")
    table = _scored_table()
    result = run.audit_table(table, beta=0.1, n_boot=50, seed=0,
                             command=["faro-audit", "report", "scores.csv"])
    paths = write_report(result, tmp_path)
    html = paths["html"].read_text(encoding="utf-8")
    assert loading_problems(html) == []
    assert "<script>alert(1)</script>" not in html
    text = " ".join(parse_page(html).text.split())
    assert result.verdict.upper() in text
    for c in result.certificates:
        assert c.label in text
    for a in result.attributes:
        for g in a.groups:
            assert g.group in text
    back = AuditResult.from_dict(json.loads(paths["json"].read_text(encoding="utf-8")))
    assert render_html(back) == html
    suite = ET.parse(paths["junit"]).getroot().find("testsuite")
    assert len(suite.findall("testcase")) == len(result.certificates)
    assert max(len(ln) for ln in render_text(result).splitlines()) <= 100
