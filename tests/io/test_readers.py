"""Readers of audit tables and scores files (SPEC §1): formats, shapes, and one-line errors."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.io.readers import detect_shape, read_table, validate_table


def _pairs(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame({
        "prompt": [f"p{i}" for i in range(n)],
        "chosen": ["good"] * n,
        "rejected": ["bad"] * n,
        "gender": ["f", "m"] * (n // 2),
        "reward_chosen": [1.0] * n,
        "reward_rejected": [0.0] * n,
    })


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".jsonl.gz", ".parquet", ".tsv"])
def test_formats_read_the_same(tmp_path, suffix):
    df = _pairs()
    path = tmp_path / f"t{suffix}"
    if suffix == ".csv":
        df.to_csv(path, index=False)
    elif suffix == ".tsv":
        df.to_csv(path, index=False, sep="\t")
    elif suffix == ".jsonl":
        df.to_json(path, orient="records", lines=True)
    elif suffix == ".jsonl.gz":
        with gzip.open(path, "wt") as fh:
            fh.write(df.to_json(orient="records", lines=True))
    else:
        df.to_parquet(path)
    t = read_table(path, group=["gender"], require_scores=True)
    assert t.shape == "pairs" and t.n_rows == 6 and t.has_scores
    assert list(t.frame["reward_chosen"]) == [1.0] * 6
    assert t.sha256 and len(t.sha256) == 64


def test_shape_detection():
    assert detect_shape(["prompt", "chosen", "rejected"]) == "pairs"
    assert detect_shape(["prompt", "response"]) == "responses"
    with pytest.raises(FaroInputError, match="cannot tell"):
        detect_shape(["prompt", "text"])


def test_rewardbench_output_is_read(tmp_path):
    df = _pairs().drop(columns=["reward_chosen", "reward_rejected"])
    df["scores_chosen"] = [[0.5]] * 6
    df["scores_rejected"] = [0.1] * 6
    path = tmp_path / "rb.jsonl"
    df.to_json(path, orient="records", lines=True)
    t = read_table(path, group=["gender"], require_scores=True)
    assert t.frame["reward_chosen"].tolist() == [0.5] * 6


@pytest.mark.parametrize(
    "mutate, pattern",
    [
        (lambda d: d.drop(columns=["chosen"]), "column 'chosen' is missing"),
        (lambda d: d.assign(reward_chosen=["x"] + [1.0] * 5), "'reward_chosen' is not numeric at row 1"),
        (lambda d: d.assign(reward_rejected=[float("nan")] + [1.0] * 5), "NaN or infinite values at row 1"),
        (lambda d: d.assign(gender=["f", None, "m", "f", "m", "f"]), "missing group values at row 2"),
        (lambda d: d.assign(gender=["f", "m", "m", "f", "m", "x"]), "group 'x' of column 'gender' has 1 row"),
        (lambda d: d.assign(gender=["f"] * 6), "single group"),
        (lambda d: d.assign(weight=[-1.0] + [1.0] * 5), "'weight' is negative at row 1"),
        (lambda d: d.assign(p_human=[1.5] + [1.0] * 5), "'p_human' is outside"),
    ],
)
def test_errors_name_column_and_row(tmp_path, mutate, pattern):
    path = tmp_path / "t.csv"
    mutate(_pairs()).to_csv(path, index=False)
    with pytest.raises(FaroInputError, match=pattern) as info:
        read_table(path, group=["gender"], require_scores=True)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg


def test_empty_and_missing_files(tmp_path):
    empty = tmp_path / "e.csv"
    empty.write_text("")
    with pytest.raises(FaroInputError, match="empty"):
        read_table(empty, group=["g"])
    with pytest.raises(FaroInputError, match="no such file"):
        read_table(tmp_path / "nope.csv", group=["g"])
    header = tmp_path / "h.csv"
    header.write_text("prompt,chosen,rejected,g\n")
    with pytest.raises(FaroInputError, match="no rows"):
        read_table(header, group=["g"])


def test_missing_groups_dropped_only_when_asked_and_counted():
    df = _pairs(8)
    df.loc[0, "gender"] = None
    t = validate_table(df, group=["gender"], drop_missing_groups=True)
    assert t.n_rows == 7 and "dropped 1 rows" in t.notes[0]


def test_no_group_is_a_usage_error():
    with pytest.raises(FaroUsageError, match="--group"):
        validate_table(_pairs(), group=[])


def test_input_frame_is_not_modified():
    df = _pairs()
    before = df.copy()
    validate_table(df, group=["gender"])
    pd.testing.assert_frame_equal(df, before)
