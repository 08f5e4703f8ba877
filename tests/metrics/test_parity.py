"""Known-answer tests for group encoding, group means, DP and EO gaps (SPEC §3)."""

from __future__ import annotations

import numpy as np
import pytest

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.metrics import (
    GroupCodes,
    combine_groups,
    dp_gap,
    encode_groups,
    eo_breakdown,
    eo_gap,
    gap_from_means,
    group_means,
    pair_accuracy_outcome,
)

G = np.array(["a", "b", "a", "c", "b", "a"])
Y = np.array([1.0, 0.0, 1.0, 0.5, 1.0, 0.0])


def test_encode_groups_sorted_labels_and_codes() -> None:
    enc = encode_groups(G)
    assert enc.labels.tolist() == ["a", "b", "c"]
    np.testing.assert_array_equal(enc.codes, [0, 1, 0, 2, 1, 0])
    np.testing.assert_array_equal(enc.values(), G)
    np.testing.assert_array_equal(enc.counts(), [3, 2, 1])
    assert encode_groups(enc) is enc


def test_encode_groups_object_and_mixed_labels() -> None:
    enc = encode_groups(np.array(["x", "y", "x"], dtype=object))
    assert enc.labels.tolist() == ["x", "y"] and enc.codes.tolist() == [0, 1, 0]
    mixed = encode_groups(np.array([2, "1", 2, "1"], dtype=object))
    assert mixed.n_groups == 2 and mixed.codes[0] == mixed.codes[2] != mixed.codes[1]


@pytest.mark.parametrize(
    "values",
    [np.array(["a", None, "b"], dtype=object), np.array([1.0, np.nan, 2.0]),
     np.array(["a", float("nan"), "b"], dtype=object)],
)
def test_missing_group_values_are_an_error_naming_rows(values: np.ndarray) -> None:
    with pytest.raises(FaroInputError, match=r"sensitive_features has missing .*\(1\)"):
        encode_groups(values)


def test_combine_groups_builds_intersections() -> None:
    enc = combine_groups(["f", "m", "f", "m"], ["x", "x", "y", "x"])
    assert enc.labels.tolist() == ["f|x", "f|y", "m|x"]
    assert enc.values().tolist() == ["f|x", "m|x", "f|y", "m|x"]
    two_d = encode_groups(np.array([["f", "x"], ["m", "x"], ["f", "y"], ["m", "x"]]))
    np.testing.assert_array_equal(two_d.values(), enc.values())
    assert combine_groups(["a", "b"], sep="/").labels.tolist() == ["a", "b"]


def test_combine_groups_refuses_ambiguous_names() -> None:
    with pytest.raises(FaroInputError, match="separator"):
        combine_groups(["a|b", "a"], ["c", "b|c"])
    with pytest.raises(FaroInputError, match="must align"):
        combine_groups(["a", "b"], ["c"])


def test_group_means_known_answer() -> None:
    st = group_means(Y, sensitive_features=G)
    np.testing.assert_allclose(st.mean, [2 / 3, 0.5, 0.5])
    np.testing.assert_array_equal(st.n, [3, 2, 1])
    assert st.pooled_mean == pytest.approx(3.5 / 6)
    w = np.array([1.0, 2.0, 3.0, 1.0, 2.0, 0.0])
    stw = group_means(Y, sensitive_features=G, sample_weight=w)
    np.testing.assert_allclose(stw.mean, [(1 + 3) / 4, 2 / 4, 0.5])
    np.testing.assert_allclose(stw.weight_sum, [4.0, 4.0, 1.0])
    assert st.as_dict() == pytest.approx({"a": 2 / 3, "b": 0.5, "c": 0.5})


def test_dp_gap_both_methods_known_answer() -> None:
    assert dp_gap(Y, sensitive_features=G) == pytest.approx(2 / 3 - 0.5)
    # m_pool = 3.5/6; |m_a - m_pool| = 1/12, 1/12, 1/12
    assert dp_gap(Y, sensitive_features=G, method="to_overall") == pytest.approx(1 / 12)
    y = np.array([1.0, 0.0, 0.0, 0.0])
    g = ["a", "b", "b", "b"]
    assert dp_gap(y, sensitive_features=g) == 1.0
    assert dp_gap(y, sensitive_features=g, method="to_overall") == pytest.approx(0.75)


def test_dp_gap_accepts_group_codes_and_one_group_gives_zero() -> None:
    enc = encode_groups(G)
    assert dp_gap(Y, sensitive_features=enc) == dp_gap(Y, sensitive_features=G)
    assert dp_gap(Y, sensitive_features=["a"] * 6) == 0.0


def test_zero_weight_group_is_absent_from_the_gap() -> None:
    w = np.array([1.0, 1.0, 1.0, 0.0, 1.0, 1.0])  # group c has weight 0
    st = group_means(Y, sensitive_features=G, sample_weight=w)
    assert np.isnan(st.mean[2]) and st.n[2] == 1
    assert dp_gap(Y, sensitive_features=G, sample_weight=w) == pytest.approx(2 / 3 - 0.5)


def test_gap_from_means() -> None:
    assert gap_from_means([0.2, 0.9, np.nan], weight_sum=[1, 3, 0]) == pytest.approx(0.7)
    assert gap_from_means([0.2, 0.9], weight_sum=[1, 3], method="to_overall") == pytest.approx(
        abs(0.2 - (0.2 + 2.7) / 4)
    )


def test_dp_gap_input_errors() -> None:
    with pytest.raises(FaroInputError, match="not raw rewards"):
        dp_gap([1.5, 0.0], sensitive_features=["a", "b"])
    with pytest.raises(FaroUsageError, match="between_groups"):
        dp_gap([1.0, 0.0], sensitive_features=["a", "b"], method="ratio")  # type: ignore[arg-type]
    with pytest.raises(FaroInputError, match="sensitive_features has 3 rows"):
        dp_gap([1.0, 0.0], sensitive_features=["a", "b", "c"])


def test_eo_breakdown_known_answer() -> None:
    y_true = [1, 1, 0, 0, 1, 0]
    br = eo_breakdown(Y, y_true, sensitive_features=G)
    assert br.classes.tolist() == [0, 1]
    np.testing.assert_array_equal(br.n, [[2, 0, 1], [1, 2, 0]])
    # class 0: a -> (1 + 0)/2, c -> 0.5, b absent; class 1: a -> 1, b -> 0.5
    np.testing.assert_allclose(br.class_gaps, [0.0, 0.5])
    assert br.gap == 0.5 and br.worst_class == 1
    assert eo_gap(Y, y_true, sensitive_features=G) == 0.5
    # to_overall within class 1: pooled (1 + 0 + 1)/3 = 2/3, gaps 1/3 and 1/6
    assert eo_gap(Y, y_true, sensitive_features=G, method="to_overall") == pytest.approx(1 / 3)
    assert br.class_stats(1).as_dict()["a"] == 1.0


def test_eo_class_with_one_group_contributes_zero() -> None:
    # class 1 has groups a and b (gap 0.3); class 0 has only b: nothing to compare, gap 0
    br = eo_breakdown([1.0, 0.7, 0.0, 1.0], [1, 1, 0, 0], sensitive_features=["a", "b", "b", "b"])
    np.testing.assert_allclose(br.class_gaps, [0.0, 0.3])
    assert br.gap == pytest.approx(0.3)
    # no class has two groups: the EO gap is 0 (the orchestration flags such attributes)
    assert eo_gap([1.0, 0.0, 0.3], [1, 0, 0], sensitive_features=["a", "b", "b"]) == 0.0


def test_pair_accuracy_outcome_matches_doubled_rows() -> None:
    rng = np.random.default_rng(0)
    n = 200
    o = rng.random(n)
    p = rng.random(n)
    w = rng.random(n) + 0.1
    g = rng.choice(["a", "b", "c"], n)
    a = pair_accuracy_outcome(o, p_human=p)
    np.testing.assert_allclose(a, p * o + (1 - p) * (1 - o))
    # the SPEC formulation: each pair twice, weight w*p with outcome o and w*(1-p) with 1-o
    doubled = group_means(np.r_[o, 1 - o], sensitive_features=np.r_[g, g],
                          sample_weight=np.r_[w * p, w * (1 - p)])
    single = group_means(a, sensitive_features=g, sample_weight=w)
    np.testing.assert_allclose(single.mean, doubled.mean, rtol=1e-12)
    assert eo_gap(a, np.ones(n), sensitive_features=g, sample_weight=w) == pytest.approx(
        dp_gap(np.r_[o, 1 - o], sensitive_features=np.r_[g, g],
               sample_weight=np.r_[w * p, w * (1 - p)]), abs=1e-12)
    np.testing.assert_array_equal(pair_accuracy_outcome(o), o)


def test_pair_accuracy_outcome_validates_p_human() -> None:
    with pytest.raises(FaroInputError, match="p_human"):
        pair_accuracy_outcome([0.5, 0.5], p_human=[0.5, 1.2])


def test_group_codes_take_keeps_labels() -> None:
    enc = encode_groups(G)
    sub = enc.take([0, 2])
    assert isinstance(sub, GroupCodes) and sub.labels.tolist() == ["a", "b", "c"]
    st = group_means([1.0, 0.0], sensitive_features=sub)
    np.testing.assert_array_equal(st.n, [2, 0, 0])
