from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faro_audit.errors import FaroInputError
from faro_audit.suites.bbq import bbq_bias_scores, bbq_twin_summary, read_bbq

BBQ_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "bbq"
needs_bbq = pytest.mark.skipif(
    not BBQ_DIR.is_dir(), reason=f"BBQ data not found at {BBQ_DIR} (shared test data is not part of the repo)"
)


def _example(eid: int, first: str, second: str, *, condition: str, polarity: str, label: int) -> dict:
    """A made-up BBQ-format example: persons `first`/`second` (groups g_first/g_second), unknown last."""
    context = f"I met {first} and {second} at the station."
    if condition == "disambig":
        context += f" The {first} had lost a ticket."
    return {
        "example_id": eid,
        "question_index": "1",
        "question_polarity": polarity,
        "context_condition": condition,
        "category": "Toy",
        "answer_info": {
            "ans0": [first, f"g_{first}"],
            "ans1": [second, f"g_{second}"],
            "ans2": ["Unknown", "unknown"],
        },
        "additional_metadata": {"stereotyped_groups": ["g_cat"], "version": "a"},
        "context": context,
        "question": "Who lost a ticket?",
        "ans0": f"The {first}",
        "ans1": f"The {second}",
        "ans2": "Unknown",
        "label": label,
    }


def _write(path: Path, examples: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in examples), encoding="utf-8")
    return path


def test_read_toy_file_and_twins(tmp_path: Path) -> None:
    ex = [
        _example(0, "cat", "dog", condition="disambig", polarity="neg", label=0),
        _example(1, "dog", "cat", condition="disambig", polarity="neg", label=0),
        _example(2, "cat", "owl", condition="ambig", polarity="neg", label=2),
    ]
    frame = read_bbq(_write(tmp_path / "toy.jsonl", ex))
    assert len(frame) == 9
    assert frame["label"].tolist() == [1, 0, 0, 1, 0, 0, 0, 0, 1]
    assert frame["group"].tolist()[:3] == ["g_cat", "g_dog", "unknown"]
    assert frame["stereotyped"].tolist()[:3] == [True, False, False]
    assert (
        frame["prompt"].iloc[0]
        == "I met cat and dog at the station. The cat had lost a ticket. Who lost a ticket?"
    )
    assert frame["cluster_id"].nunique() == 3
    cf = frame["cf_id"]
    # the first-named (correct) person of ex 0 is twinned with the first-named person of ex 1
    assert cf.iloc[0] == cf.iloc[3] and cf.iloc[1] == cf.iloc[4] and cf.iloc[2] == cf.iloc[5]
    assert cf.iloc[0] != cf.iloc[1]
    assert frame["answer_name"].iloc[0] != frame["answer_name"].iloc[3]
    # no twin -> every row is its own one-row set (left out of the CF gap), never missing
    assert cf.notna().all() and cf.iloc[6:].is_unique and not set(cf.iloc[6:]) & set(cf.iloc[:6])
    summary = bbq_twin_summary(frame)
    assert summary["n_with_twin"] == 2 and summary["disambig_label_mismatches"] == 0


def test_bias_scores_hand_computed() -> None:
    # options per example: [stereotyped person, other person, unknown]
    def rows(cid: str, cat: str, cond: str, pol: str, label: int, rewards: list[float]) -> list[dict]:
        return [
            {
                "cluster_id": cid,
                "category": cat,
                "context_condition": cond,
                "question_polarity": pol,
                "group": g,
                "stereotyped": s,
                "label": int(k == label),
                "reward": r,
            }
            for k, (g, s, r) in enumerate(zip(["A", "B", "unknown"], [True, False, False], rewards, strict=True))
        ]

    frame = pd.DataFrame(
        rows("e1", "X", "ambig", "neg", 2, [2.0, 1.0, 0.0])  # picks stereotyped, neg -> biased, wrong
        + rows("e2", "Y", "ambig", "nonneg", 2, [0.0, 0.0, 5.0])  # picks unknown -> correct
        + rows("e3", "X", "disambig", "neg", 1, [1.0, 3.0, 0.0])  # picks other, neg -> not biased, correct
        + rows("e4", "Y", "disambig", "nonneg", 0, [3.0, 3.0, 1.0])  # tie A/B: half correct, half biased
    )
    out = bbq_bias_scores(frame)
    amb, dis = out["overall"]["ambig"], out["overall"]["disambig"]
    # ambig: acc = (0 + 1)/2; n_non_unknown = 1; n_biased = 1 -> raw 1; s_AMB = 0.5 * 1
    assert amb["n_examples"] == 2 and amb["accuracy"] == pytest.approx(0.5)
    assert amb["bias_score_raw"] == pytest.approx(1.0) and amb["bias_score"] == pytest.approx(0.5)
    # disambig: acc = (1 + 0.5)/2; n_non_unknown = 2; n_biased = 0.5 -> s_DIS = 2*0.25 - 1
    assert dis["accuracy"] == pytest.approx(0.75) and dis["n_biased"] == pytest.approx(0.5)
    assert dis["bias_score"] == pytest.approx(-0.5)
    # per category: X ambig picks biased with acc 0 -> 1; Y ambig has no non-unknown output -> undefined
    assert out["by_category"]["X"]["ambig"]["bias_score"] == pytest.approx(1.0)
    assert out["by_category"]["Y"]["ambig"]["bias_score"] is None
    assert out["by_category"]["Y"]["ambig"]["accuracy"] == pytest.approx(1.0)
    assert out["by_category"]["Y"]["disambig"]["bias_score"] == pytest.approx(0.0)  # 2*(0.5/1) - 1
    # errors name the problem
    with pytest.raises(FaroInputError, match="reward"):
        bbq_bias_scores(frame.drop(columns="reward"))
    bad = frame.copy()
    bad.loc[4, "reward"] = np.nan
    with pytest.raises(FaroInputError, match=r"rows \[4\]"):
        bbq_bias_scores(bad)
    with pytest.raises(FaroInputError, match="three option rows"):
        bbq_bias_scores(frame.iloc[1:])


def test_read_errors(tmp_path: Path) -> None:
    with pytest.raises(FaroInputError, match="does not exist"):
        read_bbq(tmp_path / "nope.jsonl")
    with pytest.raises(FaroInputError, match="no .jsonl"):
        read_bbq(tmp_path)
    good = json.dumps(_example(0, "cat", "dog", condition="ambig", polarity="neg", label=2))
    (tmp_path / "bad.jsonl").write_text(good + "\n{not json\n", encoding="utf-8")
    with pytest.raises(FaroInputError, match="line 2"):
        read_bbq(tmp_path / "bad.jsonl")
    broken = _example(0, "cat", "dog", condition="ambig", polarity="neg", label=2)
    del broken["answer_info"]
    with pytest.raises(FaroInputError, match="answer_info"):
        read_bbq(_write(tmp_path / "missing.jsonl", [broken]))


@pytest.fixture(scope="module")
def bbq() -> pd.DataFrame:
    if not BBQ_DIR.is_dir():
        pytest.skip(f"BBQ data not found at {BBQ_DIR}")
    return read_bbq(BBQ_DIR)


@needs_bbq
def test_real_bbq_rows_and_labels(bbq: pd.DataFrame) -> None:
    for file in sorted(BBQ_DIR.glob("*.jsonl")):
        n_lines = sum(1 for line in file.open(encoding="utf-8") if line.strip())
        category = json.loads(file.open(encoding="utf-8").readline())["category"]
        assert (bbq["category"] == category).sum() == 3 * n_lines, file.name
    per_example = (
        bbq.assign(unknown=bbq["group"] == "unknown")
        .groupby("cluster_id")
        .agg(
            n=("label", "size"),
            correct=("label", "sum"),
            unknown=("unknown", "sum"),
            stereo=("stereotyped", "sum"),
        )
    )
    assert (per_example == pd.Series({"n": 3, "correct": 1, "unknown": 1, "stereo": 1})).all().all()
    ambig = bbq[(bbq["context_condition"] == "ambig") & (bbq["label"] == 1)]
    assert (ambig["group"] == "unknown").all()  # BBQ: the answer in ambiguous contexts is unknown


@needs_bbq
def test_real_bbq_twins(bbq: pd.DataFrame) -> None:
    summary = bbq_twin_summary(bbq)
    print(f"BBQ examples with a twin: {summary['share_with_twin']:.3f}", summary["by_category"])
    assert summary["share_with_twin"] > 0.9
    assert bbq["cf_id"].notna().all()
    size = bbq.groupby("cf_id")["cf_id"].transform("size")
    assert set(size) == {1, 2}
    linked = bbq[size == 2]
    assert (linked.groupby("cluster_id").size() == 3).all()  # an example is twinned as a whole
    sets = linked.groupby("cf_id")
    assert (sets.size() == 2).all()
    assert (sets["cluster_id"].nunique() == 2).all()
    for col in ("category", "question_index", "question_polarity", "context_condition"):
        assert (sets[col].nunique() == 1).all(), col
    role = linked[linked["group"] != "unknown"].groupby("cf_id")
    assert (role["answer_name"].nunique() == 2).all()  # the two persons are swapped
    assert ((linked[linked["group"] == "unknown"].groupby("cf_id")["group"].nunique()) == 1).all()
    # swapped persons keep their role: in disambiguated contexts twins share the label,
    # except where the released labels contradict the swapped context
    dis = linked[(linked["context_condition"] == "disambig") & (linked["group"] != "unknown")]
    agree = (dis.groupby("cf_id")["label"].nunique() == 1).mean()
    assert agree > 0.95
    assert summary["disambig_label_mismatches"] == int(round((1 - agree) * dis["cf_id"].nunique() / 2))


@needs_bbq
def test_real_bbq_scores_known_extremes(bbq: pd.DataFrame) -> None:
    neg = bbq["question_polarity"] == "neg"
    person = bbq["group"] != "unknown"
    biased = person & ((neg & bbq["stereotyped"]) | (~neg & ~bbq["stereotyped"]))
    out = bbq_bias_scores(bbq.assign(reward=biased.astype(float)))
    for cond in ("ambig", "disambig"):
        assert out["overall"][cond]["bias_score"] == pytest.approx(1.0)
        for cat in out["by_category"].values():
            assert cat[cond]["bias_score"] == pytest.approx(1.0)
    anti = person & ~biased
    out = bbq_bias_scores(bbq.assign(reward=anti.astype(float)))
    assert out["overall"]["disambig"]["bias_score"] == pytest.approx(-1.0)
    assert out["overall"]["ambig"]["bias_score"] == pytest.approx(-1.0)
    out = bbq_bias_scores(bbq.assign(reward=(~person).astype(float)))  # always "unknown"
    assert out["overall"]["ambig"]["accuracy"] == pytest.approx(1.0)
    assert out["overall"]["ambig"]["bias_score"] is None and out["overall"]["disambig"]["accuracy"] == 0.0
    counts = Counter(bbq["category"])
    assert (
        sum(c["ambig"]["n_examples"] + c["disambig"]["n_examples"] for c in out["by_category"].values())
        == sum(counts.values()) // 3
    )
