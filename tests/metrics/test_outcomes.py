"""Known-answer tests for SPEC §2: margins, reference reward, soft and hard outcomes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.metrics import (
    encode_groups,
    hard_outcome,
    pair_margin,
    reference_reward,
    response_margin,
    soft_outcome,
)


def test_pair_margin_is_chosen_minus_rejected() -> None:
    np.testing.assert_array_equal(pair_margin([3.0, 1.0, -2.0], [1.0, 1.0, 0.5]), [2.0, 0.0, -2.5])


def test_pair_margin_rejects_nan_and_names_rows() -> None:
    with pytest.raises(FaroInputError, match=r"reward_rejected .*1 row\(s\) \(2\)"):
        pair_margin([1.0, 2.0, 3.0], [0.0, 0.0, np.nan])
    with pytest.raises(FaroInputError, match="reward_chosen"):
        pair_margin([1.0, np.inf], [0.0, 0.0])
    with pytest.raises(FaroInputError, match="3 rows but 2"):
        pair_margin([1.0, 2.0], [0.0, 0.0, 0.0])


def test_error_messages_are_one_line() -> None:
    with pytest.raises(FaroInputError) as err:
        pair_margin(np.full(20, np.nan), np.zeros(20))
    assert "\n" not in str(err.value)
    assert "and 15 more" in str(err.value)


def test_response_margin() -> None:
    np.testing.assert_allclose(response_margin([1.0, 2.5], reference=1.5), [-0.5, 1.0])
    with pytest.raises(FaroUsageError):
        response_margin([1.0], reference=float("nan"))


def test_soft_outcome_is_logistic_of_scaled_margin() -> None:
    d = np.array([0.0, math.log(3.0), -math.log(3.0), 2.0])
    np.testing.assert_allclose(soft_outcome(d), [0.5, 0.75, 0.25, 1 / (1 + math.exp(-2))],
                               rtol=1e-15)
    np.testing.assert_allclose(soft_outcome(d, temperature=2.0)[3], 1 / (1 + math.exp(-1)))


def test_soft_outcome_is_stable_for_huge_margins() -> None:
    with np.errstate(all="raise"):
        o = soft_outcome(np.array([-1e6, -800.0, 800.0, 1e6]))
    assert np.all(np.isfinite(o))
    np.testing.assert_array_equal(o[[0, 3]], [0.0, 1.0])


@pytest.mark.parametrize("t", [0.0, -1.0, float("nan"), float("inf"), "x"])
def test_bad_temperature_is_a_usage_error(t: object) -> None:
    with pytest.raises(FaroUsageError, match="temperature"):
        soft_outcome([1.0], temperature=t)  # type: ignore[arg-type]


def test_hard_outcome_ties_count_half() -> None:
    np.testing.assert_array_equal(hard_outcome([-1e-300, 0.0, 1e-300, 5.0]), [0.0, 0.5, 1.0, 1.0])


def test_reference_median_mean_and_number() -> None:
    r = np.array([5.0, 1.0, 3.0, 10.0])
    assert reference_reward(r) == 4.0  # median of an even count averages the middle two
    assert reference_reward(r[:3]) == 3.0
    assert reference_reward(r, reference="mean") == pytest.approx(4.75)
    assert reference_reward(r, reference=0.25) == 0.25
    assert reference_reward(r, reference="-1.5") == -1.5


def test_weighted_median_equals_median_of_repeated_rows() -> None:
    rng = np.random.default_rng(3)
    r = rng.normal(size=40)
    k = rng.integers(0, 4, size=40)
    expected = float(np.median(np.repeat(r, k)))
    assert reference_reward(r, sample_weight=k) == pytest.approx(expected, abs=1e-12)


def test_weighted_median_known_answer() -> None:
    # weights 1, 1, 3: cumulative 1, 2, 5 of 5 -> half (2.5) is first reached at the third value
    assert reference_reward([1.0, 2.0, 3.0], sample_weight=[1.0, 1.0, 3.0]) == 3.0
    # weights 1, 1, 2: cumulative 1, 2, 4 -> exactly half at the second value: average 2 and 3
    assert reference_reward([1.0, 2.0, 3.0], sample_weight=[1.0, 1.0, 2.0]) == 2.5


def test_reference_group_mean_spellings() -> None:
    r = [1.0, 2.0, 3.0, 6.0]
    g = ["a", "b", "b", "a"]
    assert reference_reward(r, reference=("group_mean", "a"), sensitive_features=g) == 3.5
    assert reference_reward(r, reference="mean:b", sensitive_features=g) == 2.5
    assert reference_reward(
        r, reference="mean:a", sensitive_features=g, sample_weight=[3, 0, 1, 1]
    ) == pytest.approx((3 + 6) / 4)
    # non-string labels are matched by their text too
    assert reference_reward(r, reference="mean:2", sensitive_features=[1, 2, 2, 1]) == 2.5
    assert reference_reward(r, reference=("group_mean", 1),
                            sensitive_features=encode_groups([1, 2, 2, 1])) == 3.5


def test_reference_errors() -> None:
    with pytest.raises(FaroUsageError, match="sensitive_features"):
        reference_reward([1.0], reference="mean:a")
    with pytest.raises(FaroUsageError, match="groups are: 'a', 'b'"):
        reference_reward([1.0, 2.0], reference="mean:c", sensitive_features=["a", "b"])
    with pytest.raises(FaroUsageError, match="not understood"):
        reference_reward([1.0], reference="mode")
    with pytest.raises(FaroUsageError, match="not understood"):
        reference_reward([1.0], reference=("group_median", "a"))
    with pytest.raises(FaroInputError, match="sample_weight"):
        reference_reward([1.0, 2.0], sample_weight=[0.0, 0.0])
    with pytest.raises(FaroInputError, match="sample_weight"):
        reference_reward([1.0, 2.0], sample_weight=[1.0, -1.0])
    with pytest.raises(FaroInputError, match="reward"):
        reference_reward([1.0, np.nan])


def test_empty_input_is_an_error() -> None:
    with pytest.raises(FaroInputError, match="margin has no rows"):
        soft_outcome([])
    with pytest.raises(FaroInputError, match="reward has no rows"):
        reference_reward([])
