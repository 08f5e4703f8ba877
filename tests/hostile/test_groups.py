"""Hostile group values and group counts (issue 12), through the CLI with the ``hostile``
harness (exit code, inputs byte-identical, no traceback).

- control characters in a group name never reach report.html, summary.md, junit.xml or the
  terminal raw;
- 2,000 groups: report.html and the terminal summary stay bounded (the 50 most extreme groups,
  "… and N more groups, all in report.json", repeated notes folded), report.json keeps all;
- a group with a single row is shown, flagged and inconclusive (needs the readers' change).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 but tab/newline, DEL, C1


def _scores(path: Path, groups: list[str], *, seed: int = 0) -> Path:
    """A responses scores CSV: one row per entry of ``groups``."""
    rng = np.random.default_rng(seed)
    n = len(groups)
    pd.DataFrame({"prompt": [f"p{i}" for i in range(n)], "response": [f"r{i}" for i in range(n)],
                  "g": groups, "reward": rng.normal(size=n)}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("evil", ["\x1b[2J\x1b]0;owned\x07", "\x9b31m", "\x0b\x0c", "\x7f\x08", "\x1bc"],
                         ids=["esc-title", "csi-c1", "vt-ff", "del-bs", "esc-reset"])
def test_control_character_in_group_name_never_reaches_report_raw(hostile, tmp_path: Path, evil: str) -> None:
    data = _scores(tmp_path / "scores.csv", [f"grp{evil}x"] * 40 + ["plain"] * 40)
    out = tmp_path / "out"
    res = hostile(["report", str(data), "--group", "g", "--n-boot", "0", "--out", str(out)],
                  inputs=[data], code=0)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "grp\ufffd" in html  # the group is shown, its control characters defused
    for name in ("report.html", "summary.md", "junit.xml"):
        text = (out / name).read_text(encoding="utf-8")
        assert not RAW_CONTROL.search(text), (name, RAW_CONTROL.search(text))
    assert not RAW_CONTROL.search(res.stdout)
    data_json = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert f"grp{evil}x" in data_json["data"]["groups"]["g"]  # report.json keeps the true name


def test_control_character_in_small_group_reason_on_the_terminal(hostile, tmp_path: Path) -> None:
    data = _scores(tmp_path / "scores.csv", ["big"] * 60 + ["tiny\x1b[2J"] * 5)
    res = hostile(["certify", str(data), "--group", "g", "--n-boot", "0"], inputs=[data], code=3)
    assert "tiny" in res.stdout and not RAW_CONTROL.search(res.stdout)


def test_two_thousand_groups_report_is_bounded(hostile, tmp_path: Path) -> None:
    groups = [f"g{i:04d}" for i in range(2000)] * 2
    data = _scores(tmp_path / "scores.csv", groups)
    out = tmp_path / "out"
    res = hostile(["report", str(data), "--group", "g", "--n-boot", "0", "--out", str(out)],
                  inputs=[data], code=0)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert len(html.encode("utf-8")) < 1_500_000
    assert "more groups, all in report.json" in html
    assert "more like this, all in report.json" in html
    assert len(res.stdout.splitlines()) < 60  # not one note line per group
    assert len((out / "summary.md").read_text(encoding="utf-8").splitlines()) < 120
    full = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert len(full["data"]["groups"]["g"]) == 2000
    assert len(full["attributes"][0]["groups"]) == 2000


def test_many_groups_certify_terminal_is_bounded(hostile, tmp_path: Path) -> None:
    data = _scores(tmp_path / "scores.csv", [f"g{i:04d}" for i in range(500)] * 2)
    res = hostile(["certify", str(data), "--group", "g", "--n-boot", "0"], inputs=[data], code=3)
    assert len(res.stdout.splitlines()) < 60
    assert "499 more like this" in " ".join(res.stdout.split())  # the terminal wraps lines


def test_html_markup_and_control_in_many_groups(hostile, tmp_path: Path) -> None:
    groups = [f"<script>alert({i})</script>\x1b" for i in range(150)] * 3
    data = _scores(tmp_path / "scores.csv", groups)
    out = tmp_path / "out"
    hostile(["report", str(data), "--group", "g", "--n-boot", "0", "--out", str(out)], inputs=[data], code=0)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in html and not RAW_CONTROL.search(html)
    assert "… and 100 more groups, all in report.json" in html


def test_single_row_group_is_shown_flagged_and_inconclusive(hostile, tmp_path: Path) -> None:
    data = _scores(tmp_path / "scores.csv", ["a"] * 50 + ["b"] * 50 + ["solo"])
    out = tmp_path / "out"
    json_path = tmp_path / "cert.json"
    res = hostile(["certify", str(data), "--group", "g", "--n-boot", "0", "--json", str(json_path)],
                  inputs=[data], code=3)
    assert "solo" in res.stdout
    hostile(["report", str(data), "--group", "g", "--n-boot", "0", "--out", str(out)], inputs=[data], code=0)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"),
                        parse_constant=lambda tok: pytest.fail(f"{tok} in report.json"))
    solo = next(x for x in report["attributes"][0]["groups"] if x["group"] == "solo")
    assert solo["n"] == 1 and solo["small"] is True
    assert all(c["verdict"] == "inconclusive" for c in report["certificates"] if c["attribute"] == "g")
