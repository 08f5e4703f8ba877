"""Known-answer and property tests of faro_audit.stats.bounds (SPEC §5.2)."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.stats.bounds import METHODS, Interval, half_width, mean_interval

VALUES = np.array([0.1, 0.35, 0.4, 0.42, 0.5, 0.55, 0.61, 0.7, 0.8, 0.95])


# --------------------------------------------------------------------------- known answers


def test_hoeffding_by_hand() -> None:
    iv = mean_interval(VALUES, delta=0.1, method="hoeffding")
    h = math.sqrt(math.log(2 / 0.1) / (2 * 10))
    assert iv.estimate == pytest.approx(0.538)
    assert iv.lower == pytest.approx(0.538 - h)
    assert iv.upper == pytest.approx(0.538 + h)
    assert (iv.n, iv.n_eff, iv.method, iv.delta) == (10, 10.0, "hoeffding", 0.1)


def test_hoeffding_weighted_uses_kish_n_eff() -> None:
    w = np.array([1, 1, 2, 2, 3, 3, 1, 1, 5, 1], dtype=float)
    iv = mean_interval(VALUES, delta=0.5, method="hoeffding", sample_weight=w)
    n_eff = w.sum() ** 2 / (w**2).sum()
    est = float(np.dot(w, VALUES) / w.sum())
    h = math.sqrt(math.log(2 / 0.5) / (2 * n_eff))
    assert est + h < 1.0
    assert iv.n_eff == pytest.approx(n_eff)
    assert (iv.estimate, iv.lower, iv.upper) == pytest.approx((est, est - h, est + h))


def test_hoeffding_clips_to_unit_interval() -> None:
    iv = mean_interval([0.0, 0.0, 0.01], delta=0.05, method="hoeffding")
    assert iv.lower == 0.0 and iv.upper < 1.0


def test_bernstein_by_hand() -> None:
    x = np.random.default_rng(3).beta(2, 5, size=400)
    iv = mean_interval(x, delta=0.05, method="bernstein")
    lg = math.log(4 / 0.05)
    v = float(np.var(x, ddof=1))
    h = math.sqrt(2 * v * lg / 400) + 7 * lg / (3 * 399)
    assert (iv.lower, iv.upper) == pytest.approx((x.mean() - h, x.mean() + h))


def test_bernstein_weighted_formula_and_equal_weight_limit() -> None:
    x = np.random.default_rng(4).beta(2, 5, size=300)
    # Equal weights reproduce Maurer & Pontil exactly.
    plain = mean_interval(x, delta=0.05, method="bernstein")
    equal = mean_interval(x, delta=0.05, method="bernstein", sample_weight=np.full(300, 4.0))
    assert (equal.lower, equal.upper) == pytest.approx((plain.lower, plain.upper))
    # Unequal weights: sqrt(2VL/n_eff) + 2L sqrt(n/n_eff)/(n-1) + n b L/(3(n-1)).
    w = np.random.default_rng(5).integers(1, 6, size=300).astype(float)
    iv = mean_interval(x, delta=0.05, method="bernstein", sample_weight=w)
    lg, n = math.log(4 / 0.05), 300
    n_eff = w.sum() ** 2 / (w**2).sum()
    b = w.max() / w.sum()
    h = math.sqrt(2 * np.var(x, ddof=1) * lg / n_eff) + 2 * lg * math.sqrt(n / n_eff) / (n - 1) + n * b * lg / (3 * (n - 1))
    est = float(np.dot(w, x) / w.sum())
    assert (iv.lower, iv.upper) == pytest.approx((est - h, est + h))


def test_bernstein_single_value_is_trivial() -> None:
    iv = mean_interval([0.3], delta=0.05, method="bernstein")
    assert (iv.lower, iv.upper) == (0.0, 1.0)


@pytest.mark.parametrize("k,n", [(0, 20), (3, 20), (20, 20), (37, 120)])
def test_clopper_pearson_matches_beta_quantiles(k: int, n: int) -> None:
    x = np.r_[np.ones(k), np.zeros(n - k)]
    iv = mean_interval(x, delta=0.05, method="clopper-pearson")
    lo = stats.beta.ppf(0.025, k, n - k + 1) if k > 0 else 0.0
    hi = stats.beta.ppf(0.975, k + 1, n - k) if k < n else 1.0
    assert iv.lower == pytest.approx(lo, abs=1e-12)
    assert iv.upper == pytest.approx(hi, abs=1e-12)
    assert iv.estimate == pytest.approx(k / n)


@pytest.mark.parametrize("k,n,delta", [(0, 20, 0.05), (3, 20, 0.05), (20, 20, 0.1), (37, 120, 0.01), (1, 1, 0.05),
                                       (500, 1000, 0.001)])
def test_clopper_pearson_equals_statsmodels_beta_interval(k: int, n: int, delta: float) -> None:
    """scipy's beta quantiles give statsmodels' exact interval, so bounds.py needs no statsmodels."""
    proportion_confint = pytest.importorskip("statsmodels.stats.proportion").proportion_confint
    lo, hi = proportion_confint(k, n, alpha=delta, method="beta")
    iv = mean_interval(np.r_[np.ones(k), np.zeros(n - k)], delta=delta, method="clopper-pearson")
    assert iv.lower == pytest.approx(lo, abs=1e-12)
    assert iv.upper == pytest.approx(hi, abs=1e-12)


def test_clopper_pearson_bounds_ties_conservatively_and_refuses_soft_values_and_weights() -> None:
    # A tie (½) counts 0 for the lower bound and 1 for the upper bound.
    tied = mean_interval([0, 1, 0.5, 1], delta=0.05, method="clopper-pearson")
    low = mean_interval([0, 1, 0, 1], delta=0.05, method="clopper-pearson")
    high = mean_interval([0, 1, 1, 1], delta=0.05, method="clopper-pearson")
    assert tied.lower == pytest.approx(low.lower) and tied.upper == pytest.approx(high.upper)
    with pytest.raises(FaroUsageError, match="clopper-pearson") as err:
        mean_interval([0, 1, 0.3, 1], delta=0.05, method="clopper-pearson")
    assert "\n" not in str(err.value)
    with pytest.raises(FaroUsageError, match="clopper-pearson"):
        mean_interval([0, 1, 1], delta=0.05, method="clopper-pearson", sample_weight=[1, 2, 1])
    # Constant weights are no weights.
    iv = mean_interval([0, 1, 1], delta=0.05, method="clopper-pearson", sample_weight=[2, 2, 2])
    assert iv.estimate == pytest.approx(2 / 3)


def _reference_betting_set(x_ordered: np.ndarray, delta: float, grid: np.ndarray) -> np.ndarray:
    """Plain-loop reference of WSR 2024's hedged capital with fixed-n plug-in bets (c = 3/4),
    running intersection over t ≤ n."""
    n = len(x_ordered)
    lam = np.empty(n)
    mu_sum, var_sum = 0.0, 0.0
    sigma2_prev = 0.25
    for t in range(n):
        lam[t] = math.sqrt(2 * math.log(2 / delta) / (n * sigma2_prev))
        mu_sum += x_ordered[t]
        mu_t = (0.5 + mu_sum) / (t + 2)
        var_sum += (x_ordered[t] - mu_t) ** 2
        sigma2_prev = (0.25 + var_sum) / (t + 2)
    keep = []
    for m in grid:
        kp = np.cumprod(1 + np.minimum(lam, 0.9 / m if m > 0 else np.inf) * (x_ordered - m))
        km = np.cumprod(1 - np.minimum(lam, 0.9 / (1 - m) if m < 1 else np.inf) * (x_ordered - m))
        keep.append(max(0.5 * kp.max(), 0.5 * km.max()) < 1 / delta)
    return grid[np.array(keep)]


@pytest.mark.parametrize("n", [3, 25, 150])
def test_betting_matches_plain_reference(n: int) -> None:
    rng = np.random.default_rng(n)
    x = rng.beta(2, 3, size=n)
    iv = mean_interval(x, delta=0.05, method="betting", random_state=7)
    ordered = x[np.random.default_rng(7).permutation(n)]
    grid = np.linspace(0, 1, 4001)
    inside = _reference_betting_set(ordered, 0.05, grid)
    # Our interval contains the exact set and is at most one grid step wider on each side.
    assert iv.lower <= inside.min() and iv.upper >= inside.max()
    assert inside.min() - iv.lower <= 1 / 4000 and iv.upper - inside.max() <= 1 / 4000


def test_betting_contains_mean_and_beats_hoeffding_on_low_variance() -> None:
    # n = 1000 values from Beta(49.5, 49.5): mean 0.5, sd 0.05.
    x = np.random.default_rng(0).beta(49.5, 49.5, size=1000)
    bet = mean_interval(x, delta=0.05, method="betting")
    hoe = mean_interval(x, delta=0.05, method="hoeffding")
    ber = mean_interval(x, delta=0.05, method="bernstein")
    print(
        f"\nn=1000, sd={x.std(ddof=1):.4f}: width hoeffding={hoe.width:.5f} bernstein={ber.width:.5f} "
        f"betting={bet.width:.5f} (betting/hoeffding={bet.width / hoe.width:.3f})"
    )
    assert bet.lower <= x.mean() <= bet.upper
    assert bet.width < 0.3 * hoe.width
    assert bet.width < ber.width


def test_betting_equal_weights_equal_unweighted() -> None:
    x = np.random.default_rng(1).beta(2, 2, size=200)
    a = mean_interval(x, delta=0.05)
    b = mean_interval(x, delta=0.05, sample_weight=np.full(200, 3.0))
    assert (a.lower, a.upper) == pytest.approx((b.lower, b.upper), abs=1e-12)


def test_betting_weighted_centres_on_weighted_mean() -> None:
    rng = np.random.default_rng(2)
    x = rng.beta(2, 2, size=400)
    w = rng.integers(1, 6, size=400).astype(float)
    iv = mean_interval(x, delta=0.05, sample_weight=w)
    est = float(np.dot(w, x) / w.sum())
    assert iv.estimate == pytest.approx(est)
    assert iv.lower < est < iv.upper
    # Heavier weights on fewer values: wider than the unweighted interval of the same values.
    assert iv.width > mean_interval(x, delta=0.05).width


def test_betting_degenerate_samples() -> None:
    zeros = mean_interval(np.zeros(50), delta=0.05)
    assert zeros.lower == 0.0 and 0.0 < zeros.upper < 0.2
    ones = mean_interval(np.ones(50), delta=0.05)
    assert ones.upper == 1.0 and 0.8 < ones.lower < 1.0
    one = mean_interval([0.4], delta=0.05)
    assert one.lower <= 0.4 <= one.upper


def test_betting_seed_changes_little() -> None:
    x = np.random.default_rng(9).beta(3, 3, size=500)
    a = mean_interval(x, delta=0.05, random_state=0)
    b = mean_interval(x, delta=0.05, random_state=1)
    assert abs(a.width - b.width) < 0.1 * a.width


@pytest.mark.slow
def test_betting_one_million_values_is_fast() -> None:
    x = np.random.default_rng(0).beta(2, 5, size=1_000_000)
    start = time.perf_counter()
    iv = mean_interval(x, delta=0.05)
    elapsed = time.perf_counter() - start
    print(f"\nbetting, n=1e6: {elapsed:.2f} s, width {iv.width:.6f}")
    assert iv.lower < x.mean() < iv.upper
    assert elapsed < 8.0  # 0.9–1.3 s measured on a loaded 2-core machine; slack for CI


# --------------------------------------------------------------------------- input errors


@pytest.mark.parametrize(
    "values,kwargs,error,match",
    [
        ([], {}, FaroInputError, "empty"),
        ([0.2, float("nan")], {}, FaroInputError, "non-finite"),
        ([0.2, 1.2], {}, FaroInputError, "outside"),
        ([-0.1, 0.2], {}, FaroInputError, "outside"),
        ([[0.1, 0.2]], {}, FaroInputError, "1-D"),
        ([0.1, 0.2], {"delta": 0.0}, FaroUsageError, "delta"),
        ([0.1, 0.2], {"delta": 1.0}, FaroUsageError, "delta"),
        ([0.1, 0.2], {"method": "wald"}, FaroUsageError, "wald"),
        ([0.1, 0.2], {"sample_weight": [1.0]}, FaroInputError, "sample_weight"),
        ([0.1, 0.2], {"sample_weight": [1.0, -1.0]}, FaroInputError, "sample_weight"),
        ([0.1, 0.2], {"sample_weight": [0.0, 0.0]}, FaroInputError, "sample_weight"),
        ([0.1, 0.2], {"random_state": "x"}, FaroUsageError, "random_state"),
    ],
)
def test_bad_input_raises_one_line(values: list, kwargs: dict, error: type, match: str) -> None:
    kw = {"delta": 0.05, **kwargs}
    with pytest.raises(error, match=match) as err:
        mean_interval(values, **kw)
    assert "\n" not in str(err.value)


def test_round_off_outside_unit_interval_is_clipped() -> None:
    iv = mean_interval([1.0 + 1e-14, 0.5], delta=0.05, method="hoeffding")
    assert iv.estimate == pytest.approx(0.75)


# --------------------------------------------------------------------------- half_width


def test_half_width_hoeffding_and_bernstein_are_exact() -> None:
    x = np.random.default_rng(6).beta(2, 5, size=500)
    for method in ("hoeffding", "bernstein"):
        iv = mean_interval(x, delta=0.01, method=method)
        h = half_width(500, delta=0.01, method=method, variance=float(np.var(x, ddof=1)))
        assert h == pytest.approx(iv.width / 2)


@pytest.mark.parametrize("a,b,n", [(2, 2, 200), (2, 2, 2000), (20, 20, 1000), (2, 8, 1000), (1, 1, 5000)])
def test_half_width_betting_tracks_the_computed_width(a: float, b: float, n: int) -> None:
    x = np.random.default_rng(n + a).beta(a, b, size=n)
    iv = mean_interval(x, delta=0.01)
    h = half_width(n, delta=0.01, method="betting", variance=float(np.var(x, ddof=1)))
    assert 0.75 <= h / (iv.width / 2) <= 1.3


def test_half_width_clopper_pearson_is_the_larger_extent() -> None:
    n, k = 200, 60
    iv = mean_interval(np.r_[np.ones(k), np.zeros(n - k)], delta=0.05, method="clopper-pearson")
    h = half_width(n, delta=0.05, method="clopper-pearson", variance=0.3 * 0.7)
    assert h == pytest.approx(max(iv.upper - 0.3, 0.3 - iv.lower), rel=1e-9)


@pytest.mark.parametrize("method", METHODS)
def test_half_width_shrinks_with_n(method: str) -> None:
    hs = [half_width(n, delta=0.05, method=method, variance=0.1) for n in (10, 100, 1000, 10000)]
    assert all(a > b for a, b in itertools.pairwise(hs))
    assert all(0 < h <= 1 for h in hs)


def test_half_width_rejects_bad_arguments() -> None:
    with pytest.raises(FaroUsageError, match="variance"):
        half_width(10, delta=0.05, method="betting", variance=0.3)
    with pytest.raises(FaroUsageError, match="n="):
        half_width(0, delta=0.05, method="betting")


# --------------------------------------------------------------------------- properties

unit_values = st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=60)
methods = st.sampled_from(["hoeffding", "bernstein", "betting"])
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(unit_values, methods, st.floats(0.001, 0.5))
def test_interval_is_ordered_and_inside_unit_interval(values: list[float], method: str, delta: float) -> None:
    iv = mean_interval(values, delta=delta, method=method)
    assert isinstance(iv, Interval)
    assert 0.0 <= iv.lower <= iv.estimate <= iv.upper <= 1.0
    assert iv.estimate == pytest.approx(float(np.mean(values)), abs=1e-12)


@PROPERTY
@given(unit_values, methods, st.floats(0.001, 0.5), st.floats(0.001, 0.5))
def test_interval_shrinks_as_delta_grows(values: list[float], method: str, d1: float, d2: float) -> None:
    small, large = sorted((d1, d2))
    wide = mean_interval(values, delta=small, method=method)
    narrow = mean_interval(values, delta=large, method=method)
    assert wide.lower <= narrow.lower + 1e-9 and wide.upper >= narrow.upper - 1e-9


@PROPERTY
@given(st.lists(st.booleans(), min_size=1, max_size=80), st.floats(0.001, 0.5), st.floats(0.001, 0.5))
def test_clopper_pearson_shrinks_as_delta_grows(bits: list[bool], d1: float, d2: float) -> None:
    small, large = sorted((d1, d2))
    wide = mean_interval(np.array(bits, float), delta=small, method="clopper-pearson")
    narrow = mean_interval(np.array(bits, float), delta=large, method="clopper-pearson")
    assert wide.lower <= narrow.lower + 1e-12 and wide.upper >= narrow.upper - 1e-12


@PROPERTY
@given(
    st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(1, 5)), min_size=1, max_size=60),
    st.sampled_from(["hoeffding", "bernstein", "betting"]),
    st.randoms(use_true_random=False),
)
def test_interval_does_not_depend_on_input_order(pairs: list[tuple[float, int]], method: str, rnd) -> None:
    x = np.array([p[0] for p in pairs])
    w = np.array([p[1] for p in pairs], dtype=float)
    perm = list(range(len(pairs)))
    rnd.shuffle(perm)
    if method == "betting":
        # Betting runs over a seeded permutation of the given order: reordering the input
        # changes the interval a little, and order="given" uses the order as it comes.
        a = mean_interval(x, delta=0.05, method=method, order="given")
        b = mean_interval(x[perm], delta=0.05, method=method, order="given")
        c = mean_interval(x[perm], delta=0.05, method=method, random_state=np.random.default_rng(0))
        r = np.random.default_rng(0).permutation(len(x))
        d = mean_interval(x[perm][r], delta=0.05, method=method, order="given")
        assert (c.lower, c.upper) == pytest.approx((d.lower, d.upper), abs=1e-12)
        assert a.lower <= a.estimate <= a.upper and b.lower <= b.estimate <= b.upper
        return
    for weights in (None, w):
        a = mean_interval(x, delta=0.05, method=method, sample_weight=weights)
        b = mean_interval(x[perm], delta=0.05, method=method, sample_weight=None if weights is None else w[perm])
        assert (a.lower, a.upper) == pytest.approx((b.lower, b.upper), abs=1e-12)