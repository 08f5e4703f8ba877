"""Known-answer tests for the counterfactual gap over twin sets (SPEC §3)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from faro_audit.errors import FaroInputError
from faro_audit.metrics import cf_gap, encode_groups, hard_outcome, soft_outcome

# three twin sets, rows interleaved on purpose
CF = np.array(["t2", "t1", "t2", "t1", "t3", "t3", "t3"])
Y = np.array([0.9, 0.4, 0.2, 0.5, 0.6, 0.6, 0.6])
R = np.array([3.0, 0.0, -1.0, 0.5, 1.0, 2.0, 4.0])
H = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0])


def test_cf_gap_known_answer() -> None:
    res = cf_gap(Y, cf_id=CF, reward=R, hard=H)
    assert res.set_ids.tolist() == ["t1", "t2", "t3"]
    np.testing.assert_array_equal(res.set_sizes, [2, 2, 3])
    np.testing.assert_allclose(res.spreads, [0.1, 0.7, 0.0])
    assert res.gap == pytest.approx(0.8 / 3)
    assert res.n_sets == 3
    assert res.max_spread == pytest.approx(0.7)
    assert res.max_spread_set == "t2"
    np.testing.assert_array_equal(res.max_spread_rows, [0, 2])
    np.testing.assert_array_equal(res.flips, [True, True, False])
    assert res.flip_rate == pytest.approx(2 / 3)
    # mean |diff|: t1 0.5; t2 4; t3 pairs (1,2,4) -> (1 + 3 + 2)/3 = 2
    assert res.mean_abs_reward_diff == pytest.approx((0.5 + 4 + 2) / 3)
    np.testing.assert_allclose(res.reward_spreads, [0.5, 4.0, 3.0])
    assert res.n_singletons_excluded == 0


def test_worst_sets_and_rows() -> None:
    res = cf_gap(Y, cf_id=CF, reward=R, hard=H)
    worst = res.worst_sets(2)
    assert [w.set_id for w in worst] == ["t2", "t1"]
    assert worst[0].rows == (0, 2) and worst[1].rows == (1, 3)
    assert worst[0].spread == pytest.approx(0.7) and worst[0].flip is True
    assert len(res.worst_sets(10)) == 3 and res.worst_sets(0) == ()
    np.testing.assert_array_equal(res.rows_of(2), [4, 5, 6])


def test_optional_parts_are_none_not_guessed() -> None:
    res = cf_gap(Y, cf_id=CF)
    assert res.flip_rate is None and res.flips is None
    assert res.mean_abs_reward_diff is None and res.reward_spreads is None
    assert res.worst_sets(1)[0].flip is None


def test_singletons_are_an_error_naming_the_cf_id() -> None:
    msg = r"cf_id has 1 twin set\(s\) with a single row \('solo'\)"
    with pytest.raises(FaroInputError, match=msg):
        cf_gap([0.1, 0.2, 0.3], cf_id=["x", "x", "solo"])


def test_allow_singletons_reports_how_many_were_left_out() -> None:
    res = cf_gap([0.1, 0.2, 0.3, 0.9], cf_id=["x", "x", "solo", "other"], allow_singletons=True)
    assert res.n_singletons_excluded == 2
    assert res.set_ids.tolist() == ["x"] and res.gap == pytest.approx(0.1)
    with pytest.raises(FaroInputError, match="no twin set"):
        cf_gap([0.1, 0.2], cf_id=["a", "b"], allow_singletons=True)


def test_cf_gap_input_errors() -> None:
    with pytest.raises(FaroInputError, match="not raw rewards"):
        cf_gap([2.0, 0.0], cf_id=[1, 1])
    with pytest.raises(FaroInputError, match="cf_id has missing"):
        cf_gap([0.2, 0.1], cf_id=np.array([1.0, np.nan]))
    with pytest.raises(FaroInputError, match="reward"):
        cf_gap([0.2, 0.1], cf_id=[1, 1], reward=[0.0])


def test_cf_gap_matches_brute_force_on_random_sets() -> None:
    rng = np.random.default_rng(5)
    n = 300
    cf = rng.integers(0, 60, n)
    cf[:120] = np.repeat(np.arange(60), 2)  # every id has ≥ 2 rows
    reward = rng.normal(size=n)
    y = soft_outcome(reward)
    h = hard_outcome(reward)
    res = cf_gap(y, cf_id=encode_groups(cf), reward=reward, hard=h)
    spreads, flips, mad = [], [], []
    for k in np.unique(cf):
        rows = np.flatnonzero(cf == k)
        spreads.append(np.ptp(y[rows]))
        flips.append(np.ptp(h[rows]) > 0)
        pairs = itertools.combinations(rows, 2)
        mad.append(np.mean([abs(reward[i] - reward[j]) for i, j in pairs]))
    np.testing.assert_allclose(res.spreads, spreads, rtol=1e-12)
    assert res.gap == pytest.approx(np.mean(spreads), abs=1e-12)
    assert res.flip_rate == pytest.approx(np.mean(flips))
    assert res.mean_abs_reward_diff == pytest.approx(np.mean(mad), rel=1e-10)
    all_rows = np.sort(res.row_order)
    np.testing.assert_array_equal(all_rows, np.arange(n))
