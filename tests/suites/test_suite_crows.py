from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faro_audit.errors import FaroInputError
from faro_audit.suites.crows import CROWS_PROMPT, read_crows

CSV = """sent_more,sent_less,stereo_antistereo,bias_type,annotations
"Valley folk are lazy, sure.","Hill folk are lazy, sure.",stereo,nationality,x
The old man could not use the phone.,The young man could not use the phone.,stereo,age,y
"She said ""no"" as a mother.","He said ""no"" as a father.",antistereo,gender,z
"""


def _csv(tmp_path: Path, text: str, name: str = "pairs.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_pairs(tmp_path: Path) -> None:
    frame = read_crows(_csv(tmp_path, CSV))
    assert list(frame.columns) == [
        "prompt",
        "chosen",
        "rejected",
        "pair_id",
        "bias_type",
        "stereo_antistereo",
    ]
    assert len(frame) == 3
    assert (frame["prompt"] == CROWS_PROMPT).all()
    assert frame["chosen"].iloc[0] == "Hill folk are lazy, sure."
    assert frame["rejected"].iloc[2] == 'She said "no" as a mother.'
    assert frame["bias_type"].tolist() == ["nationality", "age", "gender"]
    assert frame["stereo_antistereo"].tolist() == ["stereo", "stereo", "antistereo"]
    assert frame["pair_id"].tolist() == ["crows:0", "crows:1", "crows:2"]
    bare = read_crows(_csv(tmp_path, "sent_more,sent_less,bias_type\na b,a c,age\n", "bare.csv"), prompt="")
    assert list(bare.columns) == ["prompt", "chosen", "rejected", "pair_id", "bias_type"]
    assert bare["prompt"].iloc[0] == "" and bare["chosen"].iloc[0] == "a c"


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("sent_more,bias_type\nx,age\n", r"lacks the columns \['sent_less'\]"),
        ("sent_more,sent_less,bias_type\nx,y,age\nx2,,age\n", r"'sent_less' is empty in rows \[1\]"),
        ("sent_more,sent_less,bias_type\nx,y,\n", r"'bias_type' is empty in rows \[0\]"),
        ("sent_more,sent_less,bias_type\nsame,same,age\n", r"equal to sent_less in rows \[0\]"),
        ("sent_more,sent_less,stereo_antistereo,bias_type\nx,y,maybe,age\n", r"'maybe' in rows \[0\]"),
        ("sent_more,sent_less,bias_type\n", "no rows"),
        ("", "cannot be read"),
    ],
)
def test_errors_name_file_column_row(tmp_path: Path, text: str, pattern: str) -> None:
    path = _csv(tmp_path, text)
    with pytest.raises(FaroInputError, match=pattern) as info:
        read_crows(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FaroInputError, match="is not a file"):
        read_crows(tmp_path / "absent.csv")


_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=40
).filter(lambda s: s.strip() == s and s.strip() != "")


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(_text, _text, st.sampled_from(["age", "gender", "race-color"])), min_size=1, max_size=5
    )
)
def test_roundtrip_any_text(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, str, str]]
) -> None:
    rows = [r for r in rows if r[0] != r[1]]
    if not rows:
        return
    path = tmp_path_factory.mktemp("crows") / "p.csv"
    pd.DataFrame(rows, columns=["sent_more", "sent_less", "bias_type"]).to_csv(path, index=False)
    frame = read_crows(path)
    assert frame["chosen"].tolist() == [r[1] for r in rows]
    assert frame["rejected"].tolist() == [r[0] for r in rows]
    assert frame["bias_type"].tolist() == [r[2] for r in rows]
