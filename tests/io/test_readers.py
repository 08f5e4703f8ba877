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


# --- issue 12: nothing misread or lost -----------------------------------------------------

NA_LIKE = ["NA", "None", "null", "N/A", "nan", "NaN", "#N/A", "<NA>", "NULL", "n/a", "-nan", "1.#IND"]


def _write(df: pd.DataFrame, path) -> None:
    name = str(path)
    if name.endswith(".csv"):
        df.to_csv(path, index=False)
    elif name.endswith(".tsv"):
        df.to_csv(path, index=False, sep="\t")
    elif name.endswith(".jsonl"):
        df.to_json(path, orient="records", lines=True)
    else:
        df.to_parquet(path)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
@pytest.mark.parametrize("value", NA_LIKE)
def test_na_like_group_names_are_groups(tmp_path, suffix, value):
    df = _pairs(6).assign(gender=[value, "m"] * 3)
    path = tmp_path / f"t{suffix}"
    _write(df, path)
    t = read_table(path, group=["gender"], require_scores=True, drop_missing_groups=True)
    assert t.n_rows == 6 and not t.notes
    assert sorted(t.frame["gender"].unique()) == sorted([value, "m"])


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
@pytest.mark.parametrize("text", ["None", "NA", "null", "nan"])
def test_na_like_texts_are_texts(tmp_path, suffix, text):
    df = _pairs(6).assign(chosen=[text] * 6, prompt=[text] * 6)
    path = tmp_path / f"t{suffix}"
    _write(df, path)
    t = read_table(path, group=["gender"], require_scores=True)
    assert list(t.frame["chosen"]) == [text] * 6


def test_responses_none_is_a_response(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("prompt,response,g,reward\np,None,a,1\np,NA,a,2\np,null,b,3\np,x,b,4\n")
    t = read_table(path, group=["g"], require_scores=True)
    assert list(t.frame["response"]) == ["None", "NA", "null", "x"]


@pytest.mark.parametrize("cell", ["", "   "])
def test_empty_or_blank_text_is_empty(tmp_path, cell):
    path = tmp_path / "r.jsonl"
    rows = [{"prompt": "p", "response": r, "g": g, "reward": 1.0}
            for r, g in [(cell, "a"), ("x", "a"), ("y", "b"), ("z", "b")]]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(FaroInputError, match="column 'response' is empty .* at row 1"):
        read_table(path, group=["g"], require_scores=True)


def test_empty_csv_cell_is_missing_and_dropped_rows_are_counted(tmp_path):
    path = tmp_path / "t.csv"
    df = _pairs(8).assign(gender=["", "m", "f", "NA", "f", "m", "NA", "m"])
    df.to_csv(path, index=False)
    with pytest.raises(FaroInputError, match="missing group values at row 1"):
        read_table(path, group=["gender"], require_scores=True)
    t = read_table(path, group=["gender"], require_scores=True, drop_missing_groups=True)
    assert t.n_rows == 7 and "dropped 1 rows" in t.notes[0]
    assert set(t.frame["gender"]) == {"f", "m", "NA"}


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_null_is_missing(tmp_path, suffix):
    df = _pairs(8).assign(gender=[None, "m", "f", "None", "f", "m", "None", "m"])
    path = tmp_path / f"t{suffix}"
    _write(df, path)
    with pytest.raises(FaroInputError, match="missing group values at row 1"):
        read_table(path, group=["gender"], require_scores=True)
    t = read_table(path, group=["gender"], require_scores=True, drop_missing_groups=True)
    assert t.n_rows == 7 and "dropped 1 rows" in t.notes[0] and "None" in set(t.frame["gender"])


def test_csv_groups_keep_their_spelling(tmp_path):
    path = tmp_path / "t.csv"
    rows = ["prompt,chosen,rejected,g,reward_chosen,reward_rejected"]
    for g in ["1", "01", "1.0"] * 2:
        rows.append(f"p,a,b,{g},1.5,0")
    path.write_text("\n".join(rows) + "\n")
    t = read_table(path, group=["g"], require_scores=True)
    assert sorted(t.frame["g"].unique()) == ["01", "1", "1.0"]
    assert t.frame["reward_chosen"].dtype == float and list(t.frame["reward_chosen"]) == [1.5] * 6


def test_jsonl_groups_keep_their_type(tmp_path):
    path = tmp_path / "t.jsonl"
    lines = [json.dumps({"prompt": "p", "chosen": "a", "rejected": "b", "g": g,
                         "reward_chosen": 1, "reward_rejected": 0.5}) for g in [1, "01", 1.0] * 2]
    path.write_text("\n".join(lines) + "\n")
    t = read_table(path, group=["g"], require_scores=True)
    assert sorted(t.frame["g"].unique()) == ["01", "1", "1.0"]


def test_empty_numeric_cell_names_the_row(tmp_path):
    path = tmp_path / "t.csv"
    df = _pairs().astype(object)
    df.loc[2, "reward_chosen"] = ""
    df.to_csv(path, index=False)
    with pytest.raises(FaroInputError, match="'reward_chosen' has missing, NaN or infinite values at row 3"):
        read_table(path, group=["gender"], require_scores=True)


def test_bad_jsonl_line_is_named(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"prompt": "p"}\n{not json\n')
    with pytest.raises(FaroInputError, match="line 2 is not valid JSON"):
        read_table(path, group=["g"])


def test_gzip_bomb_is_capped(tmp_path, monkeypatch):
    path = tmp_path / "t.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("prompt,chosen,rejected,g\n")
        fh.write("p,a,b,f\n" * 200_000)  # 1.6 MB decompressed, a few kB on disk
    assert path.stat().st_size < 50_000
    monkeypatch.setenv("FARO_MAX_INPUT_BYTES", "100000")
    with pytest.raises(FaroInputError, match="decompresses to more than the input cap of 100000 bytes") as info:
        read_table(path, group=["g"])
    assert "FARO_MAX_INPUT_BYTES" in str(info.value) and str(path) in str(info.value)
    monkeypatch.setenv("FARO_MAX_INPUT_BYTES", "0")  # no cap: reads (then fails validation on one group)
    with pytest.raises(FaroInputError, match="single group"):
        read_table(path, group=["g"])


def test_plain_file_is_capped_by_size(tmp_path, monkeypatch):
    path = tmp_path / "t.csv"
    _pairs().to_csv(path, index=False)
    monkeypatch.setenv("FARO_MAX_INPUT_BYTES", "10")
    with pytest.raises(FaroInputError, match="is more than the input cap of 10 bytes"):
        read_table(path, group=["gender"])
    monkeypatch.setenv("FARO_MAX_INPUT_BYTES", "1M")
    assert read_table(path, group=["gender"]).n_rows == 6


def test_bad_cap_setting_is_a_usage_error(tmp_path, monkeypatch):
    path = tmp_path / "t.csv"
    _pairs().to_csv(path, index=False)
    monkeypatch.setenv("FARO_MAX_INPUT_BYTES", "lots")
    with pytest.raises(FaroUsageError, match="FARO_MAX_INPUT_BYTES=lots: not a size"):
        read_table(path, group=["gender"])


def test_escape_sequences_in_headers_and_values_are_escaped(tmp_path):
    path = tmp_path / "t.csv"
    df = _pairs().rename(columns={"gender": "gen\x1b]0;pwned\x07der"})
    df.to_csv(path, index=False)
    with pytest.raises(FaroInputError) as info:
        read_table(path, group=["gender"])
    msg = str(info.value)
    assert "\x1b" not in msg and "\\x1b]0;pwned\\x07" in msg
    df = _pairs().assign(reward_chosen=["\x1b[2J"] + [1.0] * 5)
    df.to_csv(path, index=False)
    with pytest.raises(FaroInputError) as info:
        read_table(path, group=["gender"], require_scores=True)
    assert "\x1b" not in str(info.value) and "\\x1b[2J" in str(info.value)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_read_frame_converts_only_the_spec_numeric_columns(tmp_path, suffix):
    from faro_audit.io.readers import read_frame

    df = _pairs().assign(cf_id=["01", "1", "01", "1", "02", "2"], weight=[1.0] * 6)
    path = tmp_path / f"t{suffix}"
    _write(df, path)
    frame = read_frame(path)
    assert frame["reward_chosen"].dtype == float and frame["weight"].dtype == float
    assert list(frame["cf_id"]) == ["01", "1", "01", "1", "02", "2"]


def test_single_row_group_is_read_not_refused(tmp_path):
    """SPEC §4: a 1-row group is shown and flagged downstream, never an input error (issue 12)."""
    df = _pairs().assign(gender=["f", "m", "m", "f", "m", "x"])
    path = tmp_path / "one.csv"
    df.to_csv(path, index=False)
    t = read_table(path, group=["gender"], require_scores=True)
    assert t.frame["gender"].value_counts().to_dict() == {"m": 3, "f": 2, "x": 1}
