"""Known-answer tests for the per-group descriptive table."""

from __future__ import annotations

import numpy as np
import pytest

from faro_audit.errors import FaroInputError
from faro_audit.metrics import describe_groups, encode_groups

R = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 10.0])
G = np.array(["a", "b", "a", "b", "a", "b", "c"])


def test_unweighted_table_matches_numpy() -> None:
    t = describe_groups(R, sensitive_features=G)
    assert t.labels.tolist() == ["a", "b", "c"]
    np.testing.assert_array_equal(t.n, [3, 3, 1])
    np.testing.assert_allclose(t.reward_mean, [3.0, 4.0, 10.0])
    np.testing.assert_allclose(t.reward_median, [3.0, 4.0, 10.0])
    np.testing.assert_allclose(t.reward_sd[:2], [np.std([1, 3, 5], ddof=1)] * 2)
    assert np.isnan(t.reward_sd[2])  # a single row has no SD
    assert t.pooled_mean == pytest.approx(R.mean())
    assert t.pooled_sd == pytest.approx(np.std(R, ddof=1))
    assert t.pooled_median == 4.0
    np.testing.assert_allclose(t.gap_reward, t.reward_mean - R.mean())
    np.testing.assert_allclose(t.gap_sd, (t.reward_mean - R.mean()) / np.std(R, ddof=1))
    assert t.soft_mean is None and t.hard_mean is None and t.accuracy is None


def test_even_group_median() -> None:
    t = describe_groups([1.0, 5.0, 2.0, 9.0], sensitive_features=["a", "a", "a", "a"])
    assert t.reward_median[0] == 3.5


def test_integer_weights_equal_repeated_rows() -> None:
    rng = np.random.default_rng(0)
    r = rng.normal(size=60)
    g = rng.choice(["x", "y", "z"], 60)
    k = rng.integers(1, 4, 60)
    tw = describe_groups(r, sensitive_features=g, sample_weight=k)
    tr = describe_groups(np.repeat(r, k), sensitive_features=np.repeat(g, k))
    for col in ("reward_mean", "reward_median", "gap_reward"):
        np.testing.assert_allclose(getattr(tw, col), getattr(tr, col), rtol=1e-12)
    np.testing.assert_allclose(tw.weight_sum, tr.n)
    np.testing.assert_array_equal(tw.n, np.bincount(encode_groups(g).codes))


def test_weighted_sd_uses_reliability_weights() -> None:
    rng = np.random.default_rng(1)
    r = rng.normal(size=30)
    w = rng.gamma(2.0, 1.0, 30)
    t = describe_groups(r, sensitive_features=np.zeros(30), sample_weight=w)
    m = np.average(r, weights=w)
    expected = np.sqrt(np.sum(w * (r - m) ** 2) / (w.sum() - np.sum(w**2) / w.sum()))
    assert t.reward_sd[0] == pytest.approx(expected, rel=1e-12)
    assert t.pooled_sd == pytest.approx(expected, rel=1e-12)
    # scale-free, and the ddof=1 SD when all weights are equal
    t3 = describe_groups(r, sensitive_features=np.zeros(30), sample_weight=3 * w)
    assert t3.reward_sd[0] == pytest.approx(expected, rel=1e-12)
    t1 = describe_groups(r, sensitive_features=np.zeros(30), sample_weight=np.full(30, 2.5))
    assert t1.reward_sd[0] == pytest.approx(np.std(r, ddof=1), rel=1e-12)


def test_outcome_columns_and_rows() -> None:
    soft = np.array([0.2, 0.4, 0.6, 0.8, 1.0, 0.0, 0.5])
    hard = np.array([0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.5])
    t = describe_groups(R, sensitive_features=G, soft=soft, hard=hard, accuracy=hard)
    np.testing.assert_allclose(t.soft_mean, [0.6, 0.4, 0.5])
    np.testing.assert_allclose(t.hard_mean, [2 / 3, 1 / 3, 0.5])
    rows = t.rows()
    assert rows[0].group == "a" and rows[0].n == 3 and rows[0].soft_mean == pytest.approx(0.6)
    assert rows[2].accuracy == 0.5


def test_describe_input_errors() -> None:
    with pytest.raises(FaroInputError, match="soft must lie in"):
        describe_groups(R, sensitive_features=G, soft=R)
    with pytest.raises(FaroInputError, match="reward has NaN"):
        describe_groups([1.0, np.nan], sensitive_features=["a", "b"])
