"""faro_audit.audit.uncertainty.bootstrap_means: point estimates come from the metrics layer."""

from __future__ import annotations

import numpy as np
import pytest

from faro_audit.audit.uncertainty import bootstrap_means, gap_interval
from faro_audit.stats.bootstrap_gaps import (
    GAP_INTERVAL_KIND,
    bootstrap_eo_gap,
    bootstrap_gap,
    percentile_interval,
)


def _named(y: np.ndarray) -> dict[str, np.ndarray]:
    """Columns of y named "0", "1", ...: outcomes are addressed by name."""
    return {str(j): y[:, j] for j in range(y.shape[1])}


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    # groups a (codes 0) and b (code 1); c (code 2) has no rows, as in an EO label class
    codes = np.array([0, 0, 0, 1, 1])
    y = np.column_stack([[1.0, 0.0, 0.5, 0.25, 0.75], [1.0, 1.0, 0.0, 0.0, 1.0]])
    w = np.array([1.0, 1.0, 2.0, 3.0, 1.0])
    return y, codes, np.array(["a", "b", "c"]), w


def test_point_estimates_without_bootstrap_known_answer() -> None:
    y, codes, labels, w = _data()
    b = bootstrap_means(_named(y), codes, labels, clusters=np.arange(5), weight=w, n_boot=0, seed=0)
    # a: (1 + 0 + 2·0.5)/4 = 0.5 and (1 + 1 + 0)/4 = 0.5; b: (0.75 + 0.75)/4 = 0.375 and 1/4
    np.testing.assert_allclose(b.estimate[:2], [[0.5, 0.5], [0.375, 0.25]])
    assert np.isnan(b.estimate[2]).all()
    np.testing.assert_array_equal(b.counts, [3, 2, 0])
    np.testing.assert_allclose(b.shares, [0.5, 0.5, 0.0])
    assert b.replicates.shape == (0, 3, 2) and b.raw is None
    est, lo, hi = b.group_estimates("1")
    np.testing.assert_allclose(est[:2], [0.5, 0.25])
    assert np.isnan(lo).all() and np.isnan(hi).all()
    assert gap_interval({None: b}, outcome="0", method="between_groups")[0] == pytest.approx(0.125)


def test_point_estimates_agree_with_the_bootstrap_estimate() -> None:
    rng = np.random.default_rng(5)
    n = 80
    codes = rng.integers(0, 3, n)
    y = rng.uniform(size=(n, 2))
    w = rng.uniform(0.5, 2.0, n)
    labels = np.array(["x", "y", "z"])
    kw = {"clusters": np.arange(n), "weight": w, "seed": 1}
    plain = bootstrap_means(_named(y), codes, labels, n_boot=0, **kw)
    boot = bootstrap_means(_named(y), codes, labels, n_boot=20, **kw)
    np.testing.assert_allclose(plain.estimate, boot.estimate, rtol=1e-12)
    np.testing.assert_array_equal(plain.counts, boot.counts)
    np.testing.assert_allclose(plain.shares, boot.shares)


def test_gap_interval_is_the_simultaneous_interval_and_covers_a_zero_gap() -> None:
    """No true gap: the gap's lower end is 0 (the percentile interval of its replicates is not),
    and the interval is the one of bootstrap_gap on the same draws."""
    rng = np.random.default_rng(8)
    n = 600
    codes = np.repeat([0, 1, 2], n // 3)
    y = rng.random((n, 1))
    b = bootstrap_means(_named(y), codes, np.array(["a", "b", "c"]), clusters=np.arange(n),
                        weight=np.ones(n), n_boot=400, seed=3)
    for method in ("between_groups", "to_overall"):
        est, lo, hi = gap_interval({None: b}, outcome="0", method=method)
        want = bootstrap_gap(b.raw.outcome(0), method=method)
        assert (est, lo, hi) == (want.estimate, want.lower, want.upper)
        assert want.kind == GAP_INTERVAL_KIND
        assert lo == 0.0 <= est <= hi
        assert percentile_interval(want.replicates)[0] > 0.0


def test_eo_gap_interval_is_joint_over_classes() -> None:
    rng = np.random.default_rng(9)
    labels = np.array(["a", "b"])
    boots = {}
    for klass in (0, 1):
        n = 300
        codes = rng.integers(0, 2, n)
        y = rng.random((n, 1)) + 0.1 * klass * codes[:, None]
        boots[klass] = bootstrap_means(_named(y), codes, labels, clusters=np.arange(n), weight=np.ones(n),
                                       n_boot=300, seed=10 + klass)
    est, lo, hi = gap_interval(boots, outcome="0", method="between_groups")
    want = bootstrap_eo_gap({k: b.raw.outcome(0) for k, b in boots.items()})
    assert (est, lo, hi) == (want.estimate, want.lower, want.upper)
    per = [gap_interval({k: b}, outcome="0", method="between_groups") for k, b in boots.items()]
    assert est == max(p[0] for p in per) and lo <= est <= hi
    assert hi >= max(p[2] for p in per) - 1e-12  # joint c: at least as wide as each class alone


def test_gap_interval_with_one_group_present_is_nan() -> None:
    y, codes, labels, w = _data()
    one = codes == 0
    b = bootstrap_means(_named(y[one]), codes[one], labels, clusters=np.arange(one.sum()), weight=w[one],
                        n_boot=50, seed=0)
    est, lo, hi = gap_interval({None: b}, outcome="0", method="between_groups")
    assert est == 0.0 and np.isnan(lo) and np.isnan(hi)
