"""A group of a single row (SPEC §4): shown, flagged as too small, constraints involving it
inconclusive, the others decided where the data allow; no crash and no NaN in report.json.

The readers refuse groups under ``min_group_rows`` (default 2 for now); these tests build the
table with ``validate_table(..., min_group_rows=1)`` so that everything downstream is tested.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faro_audit.audit.run import audit_table
from faro_audit.io.readers import validate_table
from faro_audit.report import render_html, render_text, write_report


def _no_nan(text: str) -> object:
    """Parse JSON strictly: NaN/Infinity are not JSON."""

    def bad(tok: str) -> None:
        raise AssertionError(f"{tok} in report.json")

    return json.loads(text, parse_constant=bad)


def _responses(n: int = 600, *, weights: bool = False, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.array(["a"] * (n // 2) + ["b"] * (n // 2 - 1) + ["solo"])
    h = np.where(np.arange(n) % 2 == 0, "x", "y")  # strongly unfair: violated
    k = np.where(np.arange(n) % 3 == 0, "u", "v")  # no effect: certified at a loose ε
    df = pd.DataFrame({
        "prompt": [f"p{i // 3}" for i in range(n)], "response": [f"r{i}" for i in range(n)],
        "g": g, "h": h, "k": k, "reward": rng.normal(size=n) + 4.0 * (h == "x"),
        "label": rng.integers(0, 2, n),
    })
    return df.assign(weight=rng.exponential(size=n)) if weights else df


def _table(df: pd.DataFrame, groups: list[str], shape: str | None = None):
    return validate_table(df, group=groups, shape=shape, require_scores=True, min_group_rows=1)


def _by_attr(result) -> dict[str, list]:
    out: dict[str, list] = {}
    for c in result.certificates:
        out.setdefault(c.attribute, []).append(c)
    return out


@pytest.mark.parametrize("n_boot", [0, 40])
def test_single_row_group_is_inconclusive_and_others_are_decided(n_boot: int) -> None:
    table = _table(_responses(), ["g", "h", "k"])
    result = audit_table(table, n_boot=n_boot, max_gap=("dp=0.3",))
    certs = _by_attr(result)
    assert [c.verdict for c in certs["g"]] == ["inconclusive"]
    assert "'solo'" in certs["g"][0].reason and "1 rows" in certs["g"][0].reason
    assert [c.verdict for c in certs["h"]] == ["violated"]
    assert [c.verdict for c in certs["k"]] == ["certified"]
    assert result.verdict == "violated"
    (g_attr,) = [a for a in result.attributes if a.attribute == "g"]
    solo = [x for x in g_attr.groups if x.group == "solo"]
    assert len(solo) == 1 and solo[0].n == 1 and solo[0].small  # shown and flagged
    assert any("'solo'" in w for w in result.warnings)
    solo_tests = [t for t in g_attr.tests if t.group == "solo"]
    assert solo_tests and all((t.p_value is None or math.isnan(t.p_value)) and not t.reject for t in solo_tests)


def test_a_certifiable_constraint_with_a_single_row_group_stays_inconclusive() -> None:
    table = _table(_responses(), ["g", "k"])
    result = audit_table(table, n_boot=0, max_gap=("dp@g=0.99", "dp@k=0.3"))
    certs = _by_attr(result)
    assert certs["g"][0].upper <= 1.0 and certs["g"][0].verdict == "inconclusive"
    assert certs["k"][0].verdict == "certified"


@pytest.mark.parametrize("bound", ["betting", "bernstein", "hoeffding"])
def test_every_bound_handles_one_row(bound: str) -> None:
    result = audit_table(_table(_responses(seed=1), ["g"]), n_boot=0, bound=bound,
                         max_gap=("dp:hard=0.3", "dp_anchored=0.3"))
    assert {c.verdict for c in result.certificates} == {"inconclusive"}
    for c in result.certificates:
        _, lo, hi, n = c.group_intervals["solo"]  # (estimate, lower, upper, rows)
        assert n == 1 and 0.0 <= lo <= hi <= 1.0


def test_weighted_and_sequential_single_row_group() -> None:
    table = _table(_responses(weights=True), ["g", "h"])
    for seq in (False, True):
        result = audit_table(table, n_boot=20, sequential=seq, max_gap=("dp=0.3",))
        assert _by_attr(result)["g"][0].verdict == "inconclusive"


def test_pairs_with_twins_and_a_single_row_group(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    m = 600
    g = np.array(["a", "b"] * (m // 2 - 1) + ["a", "solo"])
    df = pd.DataFrame({
        "prompt": [f"q{i // 2}" for i in range(m)], "chosen": [f"c{i}" for i in range(m)],
        "rejected": [f"x{i}" for i in range(m)], "g": g, "cf_id": [f"t{i // 2}" for i in range(m)],
        "reward_chosen": rng.normal(size=m) + 1.0, "reward_rejected": rng.normal(size=m),
    })
    result = audit_table(_table(df, ["g"], "pairs"), n_boot=30)
    by_metric = {c.metric: c for c in result.certificates}
    assert by_metric["dp"].verdict == "inconclusive" and by_metric["eo"].verdict == "inconclusive"
    write_report(result, tmp_path)
    _no_nan((tmp_path / "report.json").read_text(encoding="utf-8"))


def test_report_writer_shows_and_flags_the_single_row_group(tmp_path: Path) -> None:
    result = audit_table(_table(_responses(), ["g", "h"]), n_boot=40, max_gap=("dp=0.3",))
    write_report(result, tmp_path)
    data = _no_nan((tmp_path / "report.json").read_text(encoding="utf-8"))
    g = next(a for a in data["attributes"] if a["attribute"] == "g")
    solo = next(x for x in g["groups"] if x["group"] == "solo")
    assert solo["n"] == 1 and solo["small"] is True and solo["reward_sd"] is None
    tests = [t for t in g["tests"] if t["group"] == "solo"]
    assert tests and all(t["p_value"] is None for t in tests)
    assert data["data"]["groups"]["g"]["solo"] == 1
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "solo" in html and "1 row: no interval" in html
    assert "solo" in render_text(result)
    assert render_html(result) == html
