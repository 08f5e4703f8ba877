"""Tests of faro_audit.stats.bootstrap: known answers, exactness of the fast paths, clustering,
stratification, reproducibility and coverage by simulation (fixed seeds)."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

import faro_audit.stats.bootstrap as bs
from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.metrics.groups import GroupCodes
from faro_audit.metrics.parity import dp_gap, eo_gap
from faro_audit.stats.bootstrap import (
    bootstrap_class_group_means,
    bootstrap_eo_gap,
    bootstrap_gap,
    bootstrap_group_means,
    cluster_totals,
    percentile_interval,
)


def _clustered(rng: np.random.Generator, n_clusters: int, size: int, rho_sd: float = 1.0):
    """Rows in clusters of ``size`` with a shared cluster effect (intra-cluster correlation)."""
    cl = np.repeat(np.arange(n_clusters), size)
    y = rng.normal(0.0, rho_sd, n_clusters)[cl] + rng.normal(0.0, 0.3, cl.size)
    return y, cl


# ----------------------------------------------------------------------------- known answers


def test_constant_outcome_gives_zero_width() -> None:
    g = np.repeat(["a", "b"], 50)
    b = bootstrap_group_means(np.full(100, 0.3), sensitive_features=g, n_boot=200)
    lo, hi = b.interval()
    np.testing.assert_allclose(lo, 0.3)
    np.testing.assert_allclose(hi, 0.3)
    np.testing.assert_allclose(b.replicates, 0.3)


def test_one_cluster_per_group_gives_the_estimate_in_every_replicate() -> None:
    rng = np.random.default_rng(3)
    g = np.repeat(["a", "b", "c"], 20)
    y = rng.random(60)
    b = bootstrap_group_means(y, sensitive_features=g, clusters=g, n_boot=100)
    assert b.n_clusters.tolist() == [1, 1, 1]
    np.testing.assert_allclose(b.replicates, np.broadcast_to(b.estimate, (100, 3)))
    lo, hi = b.interval()
    np.testing.assert_allclose(hi - lo, 0.0, atol=1e-15)


def test_estimate_is_the_weighted_group_mean() -> None:
    rng = np.random.default_rng(4)
    g = rng.choice(["x", "y", "z"], 500)
    y, w = rng.random(500), rng.random(500) + 0.1
    b = bootstrap_group_means(y, sensitive_features=g, clusters=rng.integers(0, 40, 500),
                              sample_weight=w, n_boot=10)
    want = [np.average(y[g == a], weights=w[g == a]) for a in ("x", "y", "z")]
    np.testing.assert_allclose(b.estimate, want, rtol=1e-12)
    assert b.labels == ("x", "y", "z")


def test_percentile_interval_matches_numpy_percentile() -> None:
    reps = np.random.default_rng(0).random((11, 3))
    lo, hi = percentile_interval(reps, level=0.9)
    np.testing.assert_allclose(lo, np.percentile(reps, 5, axis=0))
    np.testing.assert_allclose(hi, np.percentile(reps, 95, axis=0))
    lo1, hi1 = percentile_interval(reps[:, 0], level=0.5)
    assert (lo1, hi1) == tuple(np.percentile(reps[:, 0], [25, 75]))


def test_percentile_interval_leaves_out_undefined_replicates() -> None:
    reps = np.array([[1.0, np.nan], [2.0, np.nan], [np.nan, np.nan], [3.0, np.nan]])
    lo, hi = percentile_interval(reps, level=0.5)
    assert lo[0] == pytest.approx(1.5) and hi[0] == pytest.approx(2.5)
    assert np.isnan(lo[1]) and np.isnan(hi[1])


def test_tiny_bootstrap_distribution_is_the_exact_one() -> None:
    """Three values: the replicate mean follows the multinomial law over the 10 multisets."""
    y = np.array([0.0, 1.0, 5.0])
    b = bootstrap_group_means(y, sensitive_features=np.zeros(3), n_boot=30_000, random_state=1)
    exact: Counter[float] = Counter()
    for draw in itertools.product(range(3), repeat=3):
        exact[round(float(y[list(draw)].mean()), 9)] += 1
    got = Counter(np.round(b.replicates[:, 0], 9).tolist())
    assert set(got) <= set(exact)
    keys = sorted(exact)
    observed = np.array([got[k] for k in keys])
    expected = np.array([exact[k] / 27 * 30_000 for k in keys])
    assert scipy.stats.chisquare(observed, expected).pvalue > 1e-3


def test_multinomial_path_has_the_law_of_the_index_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hard outcomes go through the atom (multinomial) path; it must equal plain resampling."""
    rng = np.random.default_rng(5)
    y = (rng.random(400) < 0.3).astype(float)
    g = np.zeros(400)
    fast = bootstrap_group_means(y, sensitive_features=g, n_boot=4000, random_state=2)
    monkeypatch.setattr(bs, "_ATOM_RATIO", 10**9)  # disable the atom path
    slow = bootstrap_group_means(y, sensitive_features=g, n_boot=4000, random_state=3)
    assert not np.array_equal(fast.replicates, slow.replicates)
    p = y.mean()
    for rep in (fast.replicates[:, 0], slow.replicates[:, 0]):
        assert rep.mean() == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / 400 / 4000))
        assert rep.std() == pytest.approx(math.sqrt(p * (1 - p) / 400), rel=0.06)
    assert scipy.stats.ks_2samp(fast.replicates[:, 0], slow.replicates[:, 0]).pvalue > 1e-3


def test_bincount_path_equals_gather_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three varying columns use bincount + BLAS; the same draws summed per column agree."""
    rng = np.random.default_rng(6)
    y = rng.random((300, 3))
    g = rng.integers(0, 2, 300)
    joint = bootstrap_group_means(y, sensitive_features=g, n_boot=50, random_state=9)
    for j in range(3):
        alone = bootstrap_group_means(y[:, j], sensitive_features=g, n_boot=50, random_state=9)
        np.testing.assert_allclose(joint.replicates[:, :, j], alone.replicates, rtol=1e-12)


# ----------------------------------------------------------------------------- structure


def test_each_replicate_keeps_each_groups_cluster_count() -> None:
    """With weights 1/cluster size each cluster weighs 1: the drawn weight is the count."""
    rng = np.random.default_rng(7)
    cl = rng.integers(0, 60, 1000)
    g = rng.choice(["a", "b", "c"], 1000)
    key = np.char.add(g.astype(str), cl.astype(str))
    _, inv, size = np.unique(key, return_inverse=True, return_counts=True)
    b = bootstrap_group_means(rng.random(1000), sensitive_features=g, clusters=cl,
                              sample_weight=1.0 / size[inv], n_boot=300)
    n_units = [np.unique(cl[g == a]).size for a in b.labels]
    assert b.n_clusters.tolist() == n_units  # clusters spanning groups are split by group
    np.testing.assert_allclose(b.replicate_weights, np.broadcast_to(n_units, (300, 3)))


def test_clustered_intervals_are_wider_than_unclustered_ones() -> None:
    rng = np.random.default_rng(8)
    y, cl = _clustered(rng, 80, 10)
    g = np.zeros(y.size)
    clus = bootstrap_group_means(y, sensitive_features=g, clusters=cl, n_boot=1000)
    rows = bootstrap_group_means(y, sensitive_features=g, n_boot=1000)
    w_c = np.subtract(*clus.interval()[::-1])[0]
    w_r = np.subtract(*rows.interval()[::-1])[0]
    assert w_c > 2.0 * w_r  # design effect 1 + (m − 1)ρ ≈ 9 here, so about 3× wider


def test_same_seed_same_result_and_threads_do_not_change_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bs, "_PARALLEL_MIN_DRAWS", 0)
    monkeypatch.setattr(bs, "_CHUNK_DRAWS", 1000)  # several chunks per group
    rng = np.random.default_rng(9)
    y, g = rng.random((2000, 2)), rng.integers(0, 3, 2000)
    a = bootstrap_group_means(y, sensitive_features=g, n_boot=64, random_state=5, n_jobs=1)
    b = bootstrap_group_means(y, sensitive_features=g, n_boot=64, random_state=5, n_jobs=2)
    c = bootstrap_group_means(y, sensitive_features=g, n_boot=64, random_state=6, n_jobs=2)
    np.testing.assert_array_equal(a.replicates, b.replicates)
    assert not np.allclose(a.replicates, c.replicates)


def test_multi_outcome_columns_share_the_draws() -> None:
    rng = np.random.default_rng(10)
    y = rng.random(600)
    g = rng.integers(0, 2, 600)
    b = bootstrap_group_means(np.c_[y, 1 - y], sensitive_features=g, n_boot=100)
    np.testing.assert_allclose(b.replicates[:, :, 0] + b.replicates[:, :, 1], 1.0)
    one = b.outcome(1)
    assert one.replicates.shape == (100, 2) and one.estimate.shape == (2,)
    with pytest.raises(FaroUsageError):
        b.outcome(2)


def test_group_codes_with_an_empty_label_give_nan() -> None:
    enc = GroupCodes(codes=np.zeros(50, dtype=np.intp), labels=np.array(["a", "b"]))
    b = bootstrap_group_means(np.linspace(0, 1, 50), sensitive_features=enc, n_boot=20)
    assert b.labels == ("a", "b") and b.n_rows.tolist() == [50, 0]
    assert np.isnan(b.estimate[1]) and np.isnan(b.replicates[:, 1]).all()
    assert bootstrap_gap(b).estimate == 0.0  # one group present: nothing to compare


# ----------------------------------------------------------------------------- gaps


def test_gap_estimates_match_the_metrics() -> None:
    rng = np.random.default_rng(11)
    g = rng.choice(["a", "b", "c", "d"], 3000, p=[0.1, 0.2, 0.3, 0.4])
    y, w, label = rng.random(3000), rng.random(3000) + 0.5, rng.integers(0, 2, 3000)
    b = bootstrap_group_means(y, sensitive_features=g, sample_weight=w, n_boot=50)
    for method in ("between_groups", "to_overall"):
        gap = bootstrap_gap(b, method=method)
        assert gap.estimate == pytest.approx(
            dp_gap(y, sensitive_features=g, sample_weight=w, method=method), rel=1e-12)
        assert gap.lower <= gap.upper
        classes = bootstrap_class_group_means(y, label, sensitive_features=g, sample_weight=w,
                                              n_boot=50)
        eo = bootstrap_eo_gap(classes, method=method)
        assert eo.estimate == pytest.approx(
            eo_gap(y, label, sensitive_features=g, sample_weight=w, method=method), rel=1e-12)


def test_gap_replicates_are_the_gap_of_the_replicates() -> None:
    rng = np.random.default_rng(12)
    g = rng.integers(0, 3, 900)
    b = bootstrap_group_means(rng.random(900), sensitive_features=g, n_boot=200)
    _, lo, hi, reps = bootstrap_gap(b)
    np.testing.assert_allclose(reps, b.replicates.max(1) - b.replicates.min(1))
    # The gap interval is the simultaneous max-t interval of the signed contrasts, not the
    # percentile interval of the (upward-biased) max-minus-min replicates.
    g_est = float(b.estimate.max() - b.estimate.min())
    assert lo <= g_est <= hi
    assert (lo, hi) != pytest.approx(tuple(np.percentile(reps, [2.5, 97.5])))
    shares = np.array([0.2, 0.3, 0.5])
    anchored = bootstrap_gap(b, method="to_overall", shares=shares)
    pool = b.replicates @ shares
    np.testing.assert_allclose(anchored.replicates,
                               np.abs(b.replicates - pool[:, None]).max(1))
    same = bootstrap_gap(b, method="to_overall", shares=dict(zip(b.labels, shares)))
    np.testing.assert_array_equal(same.replicates, anchored.replicates)
    with pytest.raises(FaroUsageError):
        bootstrap_gap(b, method="to_overall", shares=[0.5, 0.5, 0.5])


def test_eo_gap_is_the_max_over_classes_in_every_replicate() -> None:
    rng = np.random.default_rng(13)
    g, label = rng.integers(0, 3, 1500), rng.integers(0, 2, 1500)
    y = (rng.random(1500) < 0.5).astype(float)
    classes = bootstrap_class_group_means(y, label, sensitive_features=g,
                                          clusters=rng.integers(0, 300, 1500), n_boot=300)
    per = [bootstrap_gap(classes[k]).replicates for k in (0, 1)]
    np.testing.assert_array_equal(bootstrap_eo_gap(classes).replicates, np.maximum(*per))
    assert classes[0].n_rows.sum() + classes[1].n_rows.sum() == 1500


# ----------------------------------------------------------------------------- properties


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(st.tuples(st.integers(0, 2), st.floats(0, 1), st.integers(0, 5)),
                  min_size=1, max_size=40),
    seed=st.integers(0, 2**16),
)
def test_replicates_stay_within_each_groups_cluster_means(data, seed) -> None:
    g, y, cl = (np.array(c) for c in zip(*data))
    b = bootstrap_group_means(y, sensitive_features=g, clusters=cl, n_boot=30, random_state=seed)
    tot = cluster_totals(y, sensitive_features=g, clusters=cl)
    for k in range(len(b.labels)):
        means = tot.sums[tot.bounds[k]:tot.bounds[k + 1], 0] / tot.weights[
            tot.bounds[k]:tot.bounds[k + 1], 0]
        assert (b.replicates[:, k] >= means.min() - 1e-12).all()
        assert (b.replicates[:, k] <= means.max() + 1e-12).all()
        assert b.estimate[k] == pytest.approx(y[g == b.labels[k]].mean())


# ----------------------------------------------------------------------------- errors


def test_bad_input_is_reported() -> None:
    g = np.zeros(3)
    with pytest.raises(FaroInputError, match="row 1"):
        bootstrap_group_means([0.0, np.nan, 1.0], sensitive_features=g)
    with pytest.raises(FaroInputError, match="clusters"):
        bootstrap_group_means([0.0, 1.0, 1.0], sensitive_features=g,
                              clusters=np.array(["p", None, "q"], dtype=object))
    with pytest.raises(FaroInputError, match="sample_weight"):
        bootstrap_group_means([0.0, 1.0, 1.0], sensitive_features=g, sample_weight=[1, -1, 1])
    with pytest.raises(FaroInputError, match="total weight 0"):
        bootstrap_group_means([0.0, 1.0, 1.0], sensitive_features=[0, 0, 1],
                              sample_weight=[1, 1, 0])
    with pytest.raises(FaroUsageError, match="n_boot"):
        bootstrap_group_means([0.0, 1.0, 1.0], sensitive_features=g, n_boot=0)
    with pytest.raises(FaroUsageError, match="random_state"):
        bootstrap_group_means([0.0, 1.0, 1.0], sensitive_features=g, random_state=-1)
    with pytest.raises(FaroUsageError, match="level"):
        percentile_interval([1.0, 2.0], level=95)


# ----------------------------------------------------------------------------- coverage


def _coverage(n_rep: int, clustered_boot: bool, seed: int = 2024) -> float:
    """Share of 95% intervals that cover the true mean 0 of clustered data."""
    rng = np.random.default_rng(seed)
    hits = 0
    for r in range(n_rep):
        y, cl = _clustered(rng, 50, 4, rho_sd=0.5)
        g = np.zeros(y.size)
        b = bootstrap_group_means(y, sensitive_features=g, n_boot=400, random_state=r,
                                  clusters=cl if clustered_boot else None)
        lo, hi = b.interval()
        hits += bool(lo[0] <= 0.0 <= hi[0])
    return hits / n_rep


def test_coverage_of_the_clustered_interval_by_simulation() -> None:
    """200 data sets: coverage ≈ 0.95 (Monte-Carlo sd 0.015; percentile intervals with 50
    clusters run slightly short, so the band is 0.90–0.99), while ignoring the clusters covers
    far less often."""
    cov = _coverage(200, clustered_boot=True)
    assert 0.90 <= cov <= 0.99
    naive = _coverage(100, clustered_boot=False)
    assert naive < 0.85


def test_class_means_with_rare_class_count_undefined_replicates() -> None:
    """A group with one class-1 row: replicates that miss it are NaN, counted, left out."""
    g = np.array(["a"] * 30 + ["b"] * 30)
    label = np.r_[np.ones(15), np.zeros(15), [1], np.zeros(29)].astype(int)
    y = np.linspace(0, 1, 60)
    classes = bootstrap_class_group_means(y, label, sensitive_features=g, n_boot=400)
    b1 = classes[1]
    undefined = b1.n_undefined
    assert undefined[0] == 0
    # P(the single row is never drawn in 30 draws) = (29/30)^30 ≈ 0.36
    assert 0.25 * 400 < undefined[1] < 0.47 * 400
    lo, hi = b1.interval()
    assert np.isfinite(lo).all() and np.isfinite(hi).all()
    eo = bootstrap_eo_gap(classes)
    assert np.isnan(eo.replicates).sum() == undefined[1]  # the gap is undefined there too
