"""Tests of faro_audit.stats.bootstrap_gaps: the simultaneous max-t interval of DP/EO gaps.

Known answers for :func:`max_t_intervals` and the gap interval formula, degenerate cases, and
coverage by simulation (fixed seeds): the percentile interval of the gap's replicates misses a
true gap of 0 almost always, the simultaneous interval covers at the nominal 95%.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.stats.bootstrap import (
    BootstrapGroupMeans,
    bootstrap_class_group_means,
    bootstrap_group_means,
)
from faro_audit.stats.bootstrap_gaps import (
    GAP_INTERVAL_KIND,
    bootstrap_eo_gap,
    bootstrap_gap,
    max_t_intervals,
    percentile_interval,
)


def _boot(estimate, replicates, weights=None) -> BootstrapGroupMeans:
    """A BootstrapGroupMeans built by hand (unit weights unless given)."""
    est = np.asarray(estimate, dtype=float)
    reps = np.asarray(replicates, dtype=float)
    k = est.size
    w = np.ones(k) if weights is None else np.asarray(weights, dtype=float)
    return BootstrapGroupMeans(
        tuple("abcdefgh"[:k]), est, reps, w, np.broadcast_to(w, reps.shape).copy(),
        np.full(k, 10), np.full(k, 10),
    )


# ----------------------------------------------------------------------------- max-t intervals


def test_max_t_critical_value_is_the_quantile_of_the_max_statistic() -> None:
    rng = np.random.default_rng(0)
    d = np.array([0.1, -0.2, 0.0])
    reps = d + rng.normal(size=(500, 3)) * [0.01, 0.02, 0.03]
    lo, hi, sd, c = max_t_intervals(d, reps, level=0.9)
    want_sd = reps.std(axis=0, ddof=1)
    np.testing.assert_allclose(sd, want_sd)
    tmax = np.max(np.abs(reps - d) / want_sd, axis=1)
    assert c == np.quantile(tmax, 0.9, method="higher")
    np.testing.assert_allclose(lo, d - c * want_sd)
    np.testing.assert_allclose(hi, d + c * want_sd)
    # a maximum over 3 contrasts needs a larger c than each contrast alone (≈ 1.645 at 90%)
    assert c > max(np.quantile(np.abs(reps[:, j] - d[j]) / want_sd[j], 0.9) for j in range(3))


def test_max_t_degenerate_contrasts() -> None:
    d = np.array([0.3, 0.0])
    reps = np.column_stack([np.full(50, 0.3), np.linspace(-1, 1, 50)])
    lo, hi, sd, c = max_t_intervals(d, reps)
    assert sd[0] == 0 and lo[0] == hi[0] == 0.3  # sd 0: the point
    assert hi[1] > 0 > lo[1] and c > 0
    lo, hi, sd, c = max_t_intervals([0.2], np.full((20, 1), 0.2))  # nothing varies: c = 0
    assert c == 0.0 and lo[0] == hi[0] == 0.2
    lo, hi, sd, c = max_t_intervals([0.2], np.r_[[[0.1]], np.full((9, 1), np.nan)])
    assert np.isnan(lo[0]) and np.isnan(hi[0])  # fewer than two defined replicates
    lo, hi, sd, c = max_t_intervals([], np.empty((10, 0)))
    assert lo.size == 0 and math.isnan(c)
    with pytest.raises(FaroInputError):
        max_t_intervals([0.1, 0.2], np.zeros((10, 3)))
    with pytest.raises(FaroInputError):
        max_t_intervals([0.1], np.zeros((0, 1)))
    with pytest.raises(FaroUsageError):
        max_t_intervals([0.1], np.zeros((10, 1)), level=95)


def test_max_t_leaves_out_undefined_replicates() -> None:
    rng = np.random.default_rng(1)
    reps = rng.normal(size=(400, 2))
    holes = reps.copy()
    holes[:40, 1] = np.nan
    _, _, sd, _ = max_t_intervals([0.0, 0.0], holes)
    np.testing.assert_allclose(sd, [reps[:, 0].std(ddof=1), reps[40:, 1].std(ddof=1)])


# ----------------------------------------------------------------------------- gap intervals


def test_gap_interval_is_read_off_the_contrast_intervals() -> None:
    rng = np.random.default_rng(2)
    est = np.array([0.50, 0.52, 0.40])
    b = _boot(est, est + rng.normal(0, 0.01, (300, 3)))
    gap = bootstrap_gap(b)
    estimate, lower, upper, reps = gap  # unpacks as before
    assert estimate == pytest.approx(0.12) and gap.kind == GAP_INTERVAL_KIND
    assert gap.kind == "simultaneous max-t bootstrap (descriptive)"
    np.testing.assert_allclose(reps, b.replicates.max(1) - b.replicates.min(1))
    con = gap.contrasts
    assert con is not None and con.names == ("a - b", "a - c", "b - c")
    np.testing.assert_allclose(con.estimate, [-0.02, 0.10, 0.12])
    d_rep = b.replicates[:, [0, 0, 1]] - b.replicates[:, [1, 2, 2]]
    lo, hi, sd, c = max_t_intervals(con.estimate, d_rep)
    assert gap.critical_value == c
    np.testing.assert_allclose([con.lower, con.upper, con.sd], [lo, hi, sd])
    assert lower == pytest.approx(max(0.0, np.max(np.maximum(lo, -hi))))
    assert upper == pytest.approx(np.max(np.maximum(np.abs(lo), np.abs(hi))))
    assert lower <= estimate <= upper


def test_gap_interval_to_overall_uses_the_pooled_contrasts() -> None:
    rng = np.random.default_rng(3)
    est = np.array([0.3, 0.5, 0.6])
    b = _boot(est, est + rng.normal(0, 0.02, (300, 3)), weights=[1.0, 1.0, 2.0])
    gap = bootstrap_gap(b, method="to_overall")
    pool = est @ [0.25, 0.25, 0.5]
    assert gap.estimate == pytest.approx(abs(0.3 - pool))
    assert gap.contrasts.names == ("a - pooled", "b - pooled", "c - pooled")
    np.testing.assert_allclose(gap.contrasts.estimate, est - pool)
    shared = bootstrap_gap(b, method="to_overall", shares=[0.2, 0.3, 0.5])
    np.testing.assert_allclose(shared.contrasts.estimate, est - est @ [0.2, 0.3, 0.5])
    assert shared.lower <= shared.estimate <= shared.upper


def test_constant_outcomes_give_a_point_interval() -> None:
    g = np.repeat(["a", "b", "c"], 40)
    y = np.repeat([0.2, 0.7, 0.4], 40)
    b = bootstrap_group_means(y, sensitive_features=g, n_boot=100)
    gap = bootstrap_gap(b)
    assert (gap.lower, gap.upper) == pytest.approx((0.5, 0.5)) and gap.estimate == pytest.approx(0.5)
    same = bootstrap_gap(bootstrap_group_means(np.full(80, 0.3), sensitive_features=g[:80],
                                               n_boot=50), method="to_overall")
    assert (same.estimate, same.lower, same.upper) == pytest.approx((0.0, 0.0, 0.0), abs=1e-12)


def test_fewer_than_two_groups_give_gap_zero_and_no_interval() -> None:
    b = _boot([0.4, np.nan], np.c_[np.full(30, 0.4), np.full(30, np.nan)], weights=[1.0, 0.0])
    for method in ("between_groups", "to_overall"):
        gap = bootstrap_gap(b, method=method)
        assert gap.estimate == 0.0 and math.isnan(gap.lower) and math.isnan(gap.upper)
        assert gap.contrasts is None
    with pytest.raises(FaroUsageError):
        bootstrap_gap(b, method="max_min")


def test_gap_zero_lower_end_is_zero_where_the_percentile_interval_is_not() -> None:
    rng = np.random.default_rng(4)
    g = np.repeat(np.arange(4), 200)
    b = bootstrap_group_means(rng.random(800), sensitive_features=g, n_boot=500,
                              random_state=4)
    gap = bootstrap_gap(b)
    old_lo, _ = percentile_interval(gap.replicates)
    assert gap.lower == 0.0 < old_lo  # the percentile interval excludes 0, the true gap


def test_eo_critical_value_is_joint_over_classes() -> None:
    rng = np.random.default_rng(5)
    n = 1200
    g, label = rng.integers(0, 3, n), rng.integers(0, 2, n)
    y = rng.random(n) + 0.05 * (g == 0) * label
    classes = bootstrap_class_group_means(y, label, sensitive_features=g, n_boot=400)
    eo = bootstrap_eo_gap(classes)
    per = {k: bootstrap_gap(b) for k, b in classes.items()}
    assert eo.estimate == max(p.estimate for p in per.values())
    np.testing.assert_array_equal(eo.replicates, np.maximum(*(p.replicates for p in per.values())))
    assert eo.contrasts.names[:3] == ("0: 0 - 1", "0: 0 - 2", "0: 1 - 2")
    assert len(eo.contrasts.names) == 6
    assert eo.critical_value >= max(p.critical_value for p in per.values())
    d = np.concatenate([p.contrasts.estimate for p in per.values()])
    d_rep = np.concatenate([b.replicates[:, [0, 0, 1]] - b.replicates[:, [1, 2, 2]]
                            for b in classes.values()], axis=1)
    lo, hi, _, c = max_t_intervals(d, d_rep)
    assert eo.critical_value == c
    assert eo.lower == pytest.approx(max(0.0, np.max(np.maximum(lo, -hi))))
    assert eo.upper == pytest.approx(np.max(np.maximum(np.abs(lo), np.abs(hi))))
    assert eo.lower <= eo.estimate <= eo.upper and eo.kind == GAP_INTERVAL_KIND


def test_eo_with_a_class_of_one_group_uses_the_other_classes() -> None:
    one = _boot([0.4, np.nan], np.c_[np.full(30, 0.4), np.full(30, np.nan)], weights=[1.0, 0.0])
    rng = np.random.default_rng(6)
    two = _boot([0.4, 0.5], [0.4, 0.5] + rng.normal(0, 0.01, (30, 2)))
    eo = bootstrap_eo_gap({0: one, 1: two})
    alone = bootstrap_gap(two)
    assert (eo.estimate, eo.lower, eo.upper) == pytest.approx(
        (alone.estimate, alone.lower, alone.upper))
    assert math.isnan(bootstrap_eo_gap({0: one}).lower)
    with pytest.raises(FaroUsageError):
        bootstrap_eo_gap({})
    with pytest.raises(FaroUsageError):
        bootstrap_eo_gap({0: two, 1: _boot([0.4, 0.5], np.zeros((10, 2)))})


# ----------------------------------------------------------------------------- coverage


def _means(k: int, gap: float, method: str) -> np.ndarray:
    """Group means with true gap ``gap`` (equal group sizes: the pool is the plain mean)."""
    mu = np.full(k, 0.5)
    mu[0] += gap if method == "between_groups" else gap * k / (k - 1)
    return mu


def _true_gap(mu: np.ndarray, method: str) -> float:
    return float(mu.max() - mu.min() if method == "between_groups" else np.abs(mu - mu.mean()).max())


def _coverage(k: int, gap: float, method: str, trials: int, *, n: int = 500,
              clustered: bool = False, seed: int = 0) -> tuple[float, float]:
    """Coverage of the true gap by (new, old) intervals, 95%, B = 1000.

    Outcomes on a 5-point scale in [0, 1] (Binomial(4, μ_a)/4, mean μ_a), n rows per group,
    so the bootstrap takes its fast multinomial path; ``clustered`` uses continuous outcomes
    in clusters of 1–4 rows sharing a Beta random effect instead. "old" is the percentile
    interval of the gap's replicates (the interval this module gave before).
    """
    rng = np.random.default_rng(seed)
    mu = _means(k, gap, method)
    true = _true_gap(mu, method)
    g = np.repeat(np.arange(k), n)
    new = old = 0
    for _ in range(trials):
        cl = None
        if clustered:
            cl = np.concatenate([a * n + np.repeat(np.arange(n), rng.integers(1, 5, n))[:n]
                                 for a in range(k)])  # clusters of 1–4 rows within a group
            mu_c = mu[np.arange(k * n) // n]  # cluster id // n is its group
            p = rng.beta(8 * mu_c, 8 * (1 - mu_c))[cl]  # cluster effect, mean μ_a
            y = rng.beta(12 * p, 12 * (1 - p))
        else:
            y = rng.binomial(4, mu[g]) / 4
        b = bootstrap_group_means(y, sensitive_features=g, clusters=cl, n_boot=1000,
                                  random_state=int(rng.integers(2**31)))
        res = bootstrap_gap(b, method=method)
        new += res.lower <= true <= res.upper
        lo, hi = percentile_interval(res.replicates)
        old += lo <= true <= hi
    return new / trials, old / trials


@pytest.mark.parametrize("method", ["between_groups", "to_overall"])
@pytest.mark.parametrize("k", [2, 4])
@pytest.mark.parametrize("gap", [0.0, 0.1])
def test_coverage_at_nominal_level_by_simulation(gap: float, k: int, method: str) -> None:
    """400 data sets, 95%: the new interval covers ≥ 93% (Monte-Carlo sd 1.1 points); at a
    true gap of 0 the old percentile interval almost never covers (the gap is biased up)."""
    new, old = _coverage(k, gap, method, 400, seed=100 * k + int(10 * gap))
    assert new >= 0.93, (new, old)
    if gap == 0.0:
        assert new <= 0.98, (new, old)  # ≈ nominal, not trivially wide
        assert old <= 0.10, (new, old)


def _eo_coverage(trials: int, seed: int) -> tuple[float, float]:
    """Two label classes, three groups, no gap in either class: coverage of 0 (new, old)."""
    rng = np.random.default_rng(seed)
    n, hits, old = 900, 0, 0
    for _ in range(trials):
        g, label = rng.integers(0, 3, n), rng.integers(0, 2, n)
        y = rng.binomial(4, 0.3 + 0.4 * label) / 4
        classes = bootstrap_class_group_means(y, label, sensitive_features=g, n_boot=1000,
                                              random_state=int(rng.integers(2**31)))
        eo = bootstrap_eo_gap(classes)
        hits += eo.lower <= 0.0
        old += percentile_interval(eo.replicates)[0] <= 0.0
    return hits / trials, old / trials


def test_eo_coverage_at_gap_zero_by_simulation() -> None:
    """200 data sets (sd 1.5 points): the joint critical value keeps ≈ 95% (≥ 92%)."""
    new, old = _eo_coverage(200, seed=7)
    assert new >= 0.92 and old <= 0.10, (new, old)


@pytest.mark.slow
def test_eo_coverage_long_simulation() -> None:
    """Run with FARO_SLOW=1: 1000 data sets (sd 0.7 points), ≥ 93%."""
    new, old = _eo_coverage(1000, seed=8)
    print(f"\nEO gap 0: new {new:.4f} old {old:.4f}")
    assert new >= 0.93 and old <= 0.10, (new, old)


@pytest.mark.slow
@pytest.mark.parametrize("clustered", [False, True])
@pytest.mark.parametrize("method", ["between_groups", "to_overall"])
@pytest.mark.parametrize("k", [2, 4])
@pytest.mark.parametrize("gap", [0.0, 0.1])
def test_coverage_long_simulation(gap: float, k: int, method: str, clustered: bool) -> None:
    """Run with FARO_SLOW=1 (tests/conftest.py). 2000 data sets (Monte-Carlo sd 0.5 points):
    coverage ≥ 94%. Clustered continuous outcomes, 400 rows (≈ 160 clusters) per group, 1000
    data sets (sd 0.7 points): ≥ 93%. With ≈ 60 clusters per group the bootstrap runs short
    (K = 4, gap 0: 0.927–0.929, see docs/statistics.md), a small-sample effect."""
    trials = 2000 if not clustered else 1000
    new, old = _coverage(k, gap, method, trials, n=400 if clustered else 500,
                         clustered=clustered, seed=7 + 100 * k + int(10 * gap))
    print(f"\nK={k} gap={gap} {method} clustered={clustered}: new {new:.4f} old {old:.4f}")
    assert new >= (0.93 if clustered else 0.94), (new, old)
    if gap == 0.0:
        assert old <= 0.10
