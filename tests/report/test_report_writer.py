"""write_report: the four files, atomically; report.json round-trips to the same HTML."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from faro_audit.audit.result import AuditResult
from faro_audit.errors import FaroUsageError
from faro_audit.report import render_html, write_report
from faro_audit.report.writer import FILENAMES, atomic_write_text


def test_writes_all_formats_and_json_round_trips(audit_result: AuditResult,
                                                 tmp_path: Path) -> None:
    out = tmp_path / "nested" / "report"
    paths = write_report(audit_result, out)
    assert {k: p.name for k, p in paths.items()} == FILENAMES
    assert sorted(p.name for p in out.iterdir()) == sorted(FILENAMES.values())  # no temp files
    doc = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert doc["schema_version"] == audit_result.schema_version
    assert doc["verdict"] == "violated"
    back = AuditResult.from_dict(doc)
    assert back == audit_result
    assert render_html(back) == paths["html"].read_text(encoding="utf-8")  # also: deterministic


def test_json_is_strict(make_result, tmp_path: Path) -> None:
    base = make_result({"g": {"a": 40, "b": 50}})
    nan = replace(base, certificates=(replace(base.certificates[0], estimate=math.nan,
                                              upper=math.inf),))
    path = write_report(nan, tmp_path, formats=("json",))["json"]
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    cert = json.loads(text)["certificates"][0]
    assert cert["estimate"] is None and cert["upper"] is None


def test_subset_and_bad_formats(audit_result: AuditResult, tmp_path: Path) -> None:
    paths = write_report(audit_result, tmp_path, formats=("md", "junit"))
    assert set(paths) == {"md", "junit"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junit.xml", "summary.md"]
    with pytest.raises(FaroUsageError, match="'pdf'"):
        write_report(audit_result, tmp_path, formats=("html", "pdf"))
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(FaroUsageError, match="not a directory"):
        write_report(audit_result, afile, formats=("md",))


def test_atomic_write_replaces_and_cleans_up(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "summary.md"
    target.write_text("old")
    atomic_write_text(target, "new ✓")
    assert target.read_text(encoding="utf-8") == "new ✓"

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("faro_audit.report.writer.os.replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "newer")
    assert target.read_text(encoding="utf-8") == "new ✓"  # untouched
    assert [p.name for p in tmp_path.iterdir()] == ["summary.md"]  # temp file removed
