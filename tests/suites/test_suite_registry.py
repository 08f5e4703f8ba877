from __future__ import annotations

import json
from pathlib import Path

import pytest

from faro_audit.errors import FaroUsageError
from faro_audit.suites.default import GROUP_COLUMNS, SUITE_VERSION, default_suite
from faro_audit.suites.registry import SUITES, load_suite, suite_info


def test_names_and_info() -> None:
    assert set(SUITES) == {"default", "bbq", "crows"}
    for name, (description, loader) in SUITES.items():
        assert description and callable(loader)
        info = suite_info(name)
        assert info["name"] == name and info["group_columns"] and info["shapes"]
    assert suite_info("default")["needs_data"] is False
    assert suite_info("default")["group_columns"] == list(GROUP_COLUMNS)
    assert suite_info("bbq")["needs_data"] and suite_info("crows")["needs_data"]
    assert suite_info("default")["scoped_groups"] is True and suite_info("default")["version"] == SUITE_VERSION
    assert not suite_info("bbq")["scoped_groups"] and not suite_info("crows")["scoped_groups"]


def test_unknown_name_lists_names() -> None:
    for call in (lambda: load_suite("nope"), lambda: suite_info("nope")):
        with pytest.raises(FaroUsageError, match=r"'nope'.*\['bbq', 'crows', 'default'\]"):
            call()


def test_default_loads_without_data() -> None:
    frame = load_suite("default")
    assert len(frame) == len(default_suite("pairs")) and "chosen" in frame.columns
    assert "response" in load_suite("default", shape="responses").columns
    with pytest.raises(FaroUsageError, match="no --data"):
        load_suite("default", data="x.csv")


@pytest.mark.parametrize("name", ["bbq", "crows"])
def test_data_suites_need_data(name: str) -> None:
    with pytest.raises(FaroUsageError, match="needs --data"):
        load_suite(name)


def test_shapes_checked(tmp_path: Path) -> None:
    with pytest.raises(FaroUsageError, match="--shape 'pairs'.*'bbq'"):
        load_suite("bbq", data=str(tmp_path), shape="pairs")
    with pytest.raises(FaroUsageError, match="--shape 'responses'.*'crows'"):
        load_suite("crows", data=str(tmp_path / "x.csv"), shape="responses")


def test_adapters_through_registry(tmp_path: Path) -> None:
    csv = tmp_path / "c.csv"
    csv.write_text("sent_more,sent_less,bias_type\nA is bad.,B is bad.,age\n", encoding="utf-8")
    assert load_suite("crows", data=str(csv))["chosen"].tolist() == ["B is bad."]
    example = {
        "example_id": 0,
        "question_index": "1",
        "question_polarity": "neg",
        "context_condition": "ambig",
        "category": "Toy",
        "answer_info": {"ans0": ["x", "gx"], "ans1": ["y", "gy"], "ans2": ["Unknown", "unknown"]},
        "additional_metadata": {"stereotyped_groups": ["gx"]},
        "context": "X and Y met.",
        "question": "Who?",
        "ans0": "X",
        "ans1": "Y",
        "ans2": "Unknown",
        "label": 2,
    }
    (tmp_path / "toy.jsonl").write_text(json.dumps(example) + "\n", encoding="utf-8")
    frame = load_suite("bbq", data=str(tmp_path))
    assert len(frame) == 3 and frame["label"].sum() == 1
