"""Hostile data (issue 12, "Data misread or lost"): NA-like names, "None" texts, gzip bombs,
escape sequences in headers. Each case asserts the exit code, a one-line error where it fails,
and that the inputs are byte-identical afterwards (the ``hostile`` fixture).
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from helpers import pairs_scores  # noqa: E402

NA_LIKE = ["NA", "None", "null", "N/A", "nan", "NaN", "#N/A", "<NA>"]
FORMATS = [".csv", ".tsv", ".jsonl", ".parquet"]
CERTIFY = ["--group", "group", "--max-gap", "dp=0.05", "--n-boot", "20"]


def _write(df: pd.DataFrame, path: Path) -> Path:
    name = path.name
    if name.endswith(".csv"):
        df.to_csv(path, index=False)
    elif name.endswith(".tsv"):
        df.to_csv(path, index=False, sep="\t")
    elif name.endswith(".jsonl"):
        df.to_json(path, orient="records", lines=True)
    else:
        df.to_parquet(path)
    return path


def _biased(groups: tuple[str, str], n: int = 400) -> pd.DataFrame:
    """The last group is treated grossly worse (margin shifted down by 1.5)."""
    return pairs_scores(n, bias=1.5, groups=groups)


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("name", NA_LIKE)
@pytest.mark.parametrize("drop", [False, True])
def test_na_like_group_is_audited_not_dropped(hostile, tmp_path, suffix, name, drop):
    path = _write(_biased(("EU", name)), tmp_path / f"scores{suffix}")
    out = tmp_path / "out" / "report.json"
    out.parent.mkdir()
    argv = ["certify", str(path), *CERTIFY, "--json", str(out)] + (["--drop-missing-groups"] if drop else [])
    hostile(argv, inputs=[path], code=1)
    doc = json.loads(out.read_text())
    assert doc["data"]["groups"]["group"] == {"EU": 400, name: 400}


@pytest.mark.parametrize("drop", [False, True])
def test_group_NA_with_response_None_certifies_nothing_falsely(hostile, tmp_path, drop):
    """The issue's reproduction: a model grossly unfair to North America, and "None" texts."""
    df = pairs_scores(2000, bias=1.5, groups=("EU", "NA"))
    df.loc[::7, "chosen"] = "None"
    df.loc[::11, "rejected"] = "None"
    path = _write(df, tmp_path / "scores.csv")
    out = tmp_path / "report.json"
    argv = ["certify", str(path), *CERTIFY, "--json", str(out)] + (["--drop-missing-groups"] if drop else [])
    res = hostile(argv, inputs=[path], code=1)
    assert res.code != 0 and "VIOLATED" in res.stdout
    doc = json.loads(out.read_text())
    assert doc["data"]["n_rows"] == 4000
    assert doc["data"]["groups"]["group"] == {"EU": 2000, "NA": 2000}
    groups = {g["group"] for a in doc["attributes"] for g in a["groups"]}
    assert "NA" in groups


def test_responses_table_with_response_None(hostile, tmp_path):
    rows = [{"prompt": f"p{i}", "response": "None" if i % 3 == 0 else f"r{i}", "group": g,
             "reward": (1.0 if g == "EU" else -1.0) + 0.01 * i}
            for g in ("EU", "NA") for i in range(300)]
    path = _write(pd.DataFrame(rows), tmp_path / "scores.csv")
    out = tmp_path / "report.json"
    hostile(["certify", str(path), *CERTIFY, "--json", str(out)], inputs=[path], code=1)
    assert json.loads(out.read_text())["data"]["groups"]["group"] == {"EU": 300, "NA": 300}


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_empty_group_cell_is_missing_and_named(hostile, tmp_path, suffix):
    df = _biased(("EU", "NA"), 50).astype({"group": object})
    df.loc[3, "group"] = ""
    path = _write(df, tmp_path / f"scores{suffix}")
    hostile(["certify", str(path), *CERTIFY], inputs=[path], code=2, match="missing group values at row 4")


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_null_group_is_missing_and_named(hostile, tmp_path, suffix):
    df = _biased(("EU", "NA"), 50).astype({"group": object})
    df.loc[3, "group"] = None
    path = _write(df, tmp_path / f"scores{suffix}")
    hostile(["certify", str(path), *CERTIFY], inputs=[path], code=2, match="missing group values at row 4")


@pytest.mark.parametrize("suffix", FORMATS)
def test_dropped_rows_are_counted_not_silent(hostile, tmp_path, suffix):
    df = _biased(("EU", "NA"), 400).astype({"group": object})
    df.loc[[0, 5, 9], "group"] = None
    path = _write(df, tmp_path / f"scores{suffix}")
    out = tmp_path / "report.json"
    hostile(["certify", str(path), *CERTIFY, "--drop-missing-groups", "--json", str(out)], inputs=[path], code=1)
    doc = json.loads(out.read_text())
    assert doc["data"]["n_rows"] == 797
    assert "dropped 3 rows" in json.dumps(doc)


def test_huge_gzip_is_refused_in_process(hostile, tmp_path, monkeypatch):
    path = tmp_path / "scores.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("prompt,chosen,rejected,group,reward_chosen,reward_rejected\n")
        fh.write("p,a,b,EU,1,0\n" * 300_000)  # ~4 MB expanded, a few kB on disk
    monkeypatch.setenv("FARO_MAX_INPUT_BYTES", "1M")
    hostile(["certify", str(path), *CERTIFY], inputs=[path], code=2, match="FARO_MAX_INPUT_BYTES")


def test_huge_gzip_jsonl_is_refused_in_a_subprocess(hostile, tmp_path):
    path = tmp_path / "scores.jsonl.gz"
    line = json.dumps({"prompt": "p", "chosen": "a", "rejected": "b", "group": "EU",
                       "reward_chosen": 1.0, "reward_rejected": 0.0}) + "\n"
    with gzip.open(path, "wt") as fh:
        fh.write(line * 50_000)
    res = hostile(["certify", str(path), *CERTIFY], inputs=[path], code=2, match="input cap of 1000000 bytes",
                  subprocess=True, env={"FARO_MAX_INPUT_BYTES": "1000000"})
    assert str(path) in res.stderr


def test_escape_sequence_in_header_is_escaped(hostile, tmp_path):
    df = _biased(("EU", "NA"), 20).rename(columns={"group": "gr\x1b]0;pwned\x07\x1b[2Joup"})
    path = _write(df, tmp_path / "scores.csv")
    res = hostile(["certify", str(path), *CERTIFY], inputs=[path], code=2, match="group column 'group' is missing")
    assert "\x1b" not in res.stderr and "\\x1b]0;pwned" in res.stderr


def test_escape_sequence_in_score_cell_is_escaped(hostile, tmp_path):
    df = _biased(("EU", "NA"), 20).astype({"reward_chosen": object})
    df.loc[0, "reward_chosen"] = "\x1b[2J\x9b31m"
    path = _write(df, tmp_path / "scores.csv")
    res = hostile(["certify", str(path), *CERTIFY], inputs=[path], code=2, match="not numeric at row 1")
    assert "\x1b" not in res.stderr and "\\x1b[2J" in res.stderr


def test_groups_1_01_and_1_0_stay_distinct(hostile, tmp_path):
    rows = ["prompt,chosen,rejected,group,reward_chosen,reward_rejected"]
    rows += [f"p{i},a,b,{g},{1.0 if g == '1' else -1.0},0" for g in ("1", "01", "1.0") for i in range(100)]
    path = tmp_path / "scores.csv"
    path.write_text("\n".join(rows) + "\n")
    out = tmp_path / "report.json"
    hostile(["certify", str(path), *CERTIFY, "--json", str(out)], inputs=[path], code=1)
    assert json.loads(out.read_text())["data"]["groups"]["group"] == {"1": 100, "01": 100, "1.0": 100}
