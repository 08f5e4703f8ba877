"""Known-answer tests for pairwise accuracy, response pairs and per-group AUC (SPEC §3)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.metrics import group_auc, pairwise_accuracy, response_pairs


def test_pairwise_accuracy_ties_count_half() -> None:
    res = pairwise_accuracy([1.0, -2.0, 0.0, 3.0])
    assert res.accuracy == pytest.approx(2.5 / 4)
    assert res.n == 4 and res.by_group is None


def test_pairwise_accuracy_weighted_and_by_group() -> None:
    res = pairwise_accuracy([1.0, -2.0, 0.0, 3.0], sensitive_features=["a", "a", "b", "b"],
                            sample_weight=[1.0, 3.0, 1.0, 1.0])
    assert res.accuracy == pytest.approx((1 + 0.5 + 1) / 6)
    assert res.weight_sum == 6.0
    assert res.by_group is not None
    np.testing.assert_allclose(res.by_group.mean, [0.25, 0.75])


def test_response_pairs_known_answer() -> None:
    reward = [1.0, 2.0, 0.5, 3.0, 4.0, 0.0, 9.0]
    label = [1, 0, 0, 1, 1, 1, 0]
    prompt = ["p", "p", "p", "q", "q", "r", "s"]
    pairs = response_pairs(reward, label, prompt_ids=prompt)
    got = sorted(zip(pairs.pos_index.tolist(), pairs.neg_index.tolist(), strict=True))
    assert got == [(0, 1), (0, 2)]  # q has no label 0, r none, s no label 1
    assert pairs.n_prompts == 4 and pairs.n_prompts_with_pairs == 1
    keys = zip(pairs.pos_index.tolist(), pairs.neg_index.tolist(), strict=True)
    m = dict(zip(keys, pairs.margin, strict=True))
    assert m[(0, 1)] == -1.0 and m[(0, 2)] == 0.5


def test_response_pairs_match_brute_force() -> None:
    rng = np.random.default_rng(1)
    n = 400
    prompt = rng.integers(0, 50, n)
    label = rng.integers(0, 2, n)
    reward = rng.normal(size=n)
    pairs = response_pairs(reward, label, prompt_ids=prompt)
    expected = sorted(
        (i, j) for i in range(n) for j in range(n)
        if prompt[i] == prompt[j] and label[i] == 1 and label[j] == 0
    )
    got = sorted(zip(pairs.pos_index.tolist(), pairs.neg_index.tolist(), strict=True))
    assert got == expected
    np.testing.assert_array_equal(pairs.margin, reward[pairs.pos_index] - reward[pairs.neg_index])


def test_response_pairs_guards() -> None:
    with pytest.raises(FaroInputError, match="label must be 0 or 1; row 1"):
        response_pairs([1.0, 2.0], [1, 2], prompt_ids=[0, 0])
    with pytest.raises(FaroUsageError, match="max_pairs"):
        response_pairs(np.zeros(20), np.r_[np.ones(10), np.zeros(10)], prompt_ids=np.zeros(20),
                       max_pairs=99)


def test_group_auc_known_answer() -> None:
    # group a: pos {3, 1}, neg {2, 1}: pairs (3>2) (3>1) (1<2) (1=1 -> 1/2) -> 2.5/4
    res = group_auc([1, 1, 0, 0, 1, 0], [3.0, 1.0, 2.0, 1.0, 5.0, 4.0],
                    sensitive_features=["a", "a", "a", "a", "b", "b"])
    np.testing.assert_allclose(res.auc, [0.625, 1.0])
    np.testing.assert_array_equal(res.n_pos, [2, 1])
    assert res.as_dict()["b"] == 1.0


def test_group_auc_nan_for_one_class_group() -> None:
    res = group_auc([1, 0, 1], [0.2, 0.1, 0.3], sensitive_features=["a", "a", "b"])
    assert res.auc[0] == 1.0 and np.isnan(res.auc[1])
    assert res.n_neg[1] == 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_group_auc_equals_sklearn_with_ties_and_weights(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 600
    g = rng.choice(["a", "b", "c"], n)
    y = rng.integers(0, 2, n)
    s = np.round(rng.normal(size=n) + 0.7 * y, 1)  # many ties
    w = rng.gamma(1.5, 1.0, n)
    for weights in (None, w):
        res = group_auc(y, s, sensitive_features=g, sample_weight=weights)
        for k, lab in enumerate(res.labels):
            rows = g == lab
            sw = None if weights is None else weights[rows]
            assert res.auc[k] == pytest.approx(roc_auc_score(y[rows], s[rows], sample_weight=sw),
                                               abs=1e-12)
        assert res.overall == pytest.approx(roc_auc_score(y, s, sample_weight=weights), abs=1e-12)
