"""faro_audit.audit.uncertainty.bootstrap_means: point estimates come from the metrics layer."""

from __future__ import annotations

import numpy as np
import pytest

from faro_audit.audit.uncertainty import bootstrap_means, gap_interval


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    # groups a (codes 0) and b (code 1); c (code 2) has no rows, as in an EO label class
    codes = np.array([0, 0, 0, 1, 1])
    y = np.column_stack([[1.0, 0.0, 0.5, 0.25, 0.75], [1.0, 1.0, 0.0, 0.0, 1.0]])
    w = np.array([1.0, 1.0, 2.0, 3.0, 1.0])
    return y, codes, np.array(["a", "b", "c"]), w


def test_point_estimates_without_bootstrap_known_answer() -> None:
    y, codes, labels, w = _data()
    b = bootstrap_means(y, codes, labels, clusters=np.arange(5), weight=w, n_boot=0, seed=0)
    # a: (1 + 0 + 2·0.5)/4 = 0.5 and (1 + 1 + 0)/4 = 0.5; b: (0.75 + 0.75)/4 = 0.375 and 1/4
    np.testing.assert_allclose(b.estimate[:2], [[0.5, 0.5], [0.375, 0.25]])
    assert np.isnan(b.estimate[2]).all()
    np.testing.assert_array_equal(b.counts, [3, 2, 0])
    np.testing.assert_allclose(b.shares, [0.5, 0.5, 0.0])
    assert b.replicates.shape == (0, 3, 2) and b.raw is None
    est, lo, hi = b.group_estimates(1)
    np.testing.assert_allclose(est[:2], [0.5, 0.25])
    assert np.isnan(lo).all() and np.isnan(hi).all()
    assert gap_interval({None: b}, col=0, method="between_groups")[0] == pytest.approx(0.125)


def test_point_estimates_agree_with_the_bootstrap_estimate() -> None:
    rng = np.random.default_rng(5)
    n = 80
    codes = rng.integers(0, 3, n)
    y = rng.uniform(size=(n, 2))
    w = rng.uniform(0.5, 2.0, n)
    labels = np.array(["x", "y", "z"])
    kw = {"clusters": np.arange(n), "weight": w, "seed": 1}
    plain = bootstrap_means(y, codes, labels, n_boot=0, **kw)
    boot = bootstrap_means(y, codes, labels, n_boot=20, **kw)
    np.testing.assert_allclose(plain.estimate, boot.estimate, rtol=1e-12)
    np.testing.assert_array_equal(plain.counts, boot.counts)
    np.testing.assert_allclose(plain.shares, boot.shares)
