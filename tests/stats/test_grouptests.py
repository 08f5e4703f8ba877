"""Tests of faro_audit.stats.grouptests: Welch against scipy and by hand, permutation p-values
(exact enumeration and behaviour under the null), Holm against statsmodels, NaN handling."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.stats
from statsmodels.stats.multitest import multipletests

from faro_audit.errors import FaroUsageError
from faro_audit.stats.grouptests import (
    GroupTest,
    adjust_family,
    group_vs_rest_tests,
    holm_adjust,
)


def test_welch_without_clusters_is_scipys_welch() -> None:
    rng = np.random.default_rng(0)
    g = rng.choice(["a", "b", "c"], 400)
    y = rng.random(400) + 0.1 * (g == "b")
    for t in group_vs_rest_tests(y, sensitive_features=g):
        ref = scipy.stats.ttest_ind(y[g == t.group], y[g != t.group], equal_var=False)
        assert t.statistic == pytest.approx(ref.statistic, rel=1e-10)
        assert t.p_value == pytest.approx(ref.pvalue, rel=1e-8)
        assert t.mean_group == pytest.approx(y[g == t.group].mean())
        assert t.difference == pytest.approx(t.mean_group - t.mean_rest)


def test_welch_with_equal_clusters_is_scipys_welch_on_cluster_means() -> None:
    rng = np.random.default_rng(1)
    cl = np.repeat(np.arange(60), 5)
    g = np.repeat(rng.integers(0, 3, 60), 5)
    y = rng.normal(size=60)[cl] + rng.normal(size=300)
    means = y.reshape(60, 5).mean(axis=1)
    gc = g[::5]
    for t in group_vs_rest_tests(y, sensitive_features=g, clusters=cl):
        ref = scipy.stats.ttest_ind(means[gc == t.group], means[gc != t.group], equal_var=False)
        assert t.statistic == pytest.approx(ref.statistic, rel=1e-10)
        assert t.p_value == pytest.approx(ref.pvalue, rel=1e-8)
        assert t.n_clusters == int((gc == t.group).sum()) and t.n == 5 * t.n_clusters


def test_weighted_welch_by_hand() -> None:
    """Unequal cluster weights: linearisation variance and Welch–Satterthwaite df by hand."""
    rng = np.random.default_rng(2)
    cl = rng.integers(0, 50, 300)
    g = (cl % 2).astype(int)  # clusters lie within one group
    w = rng.random(300) + 0.2
    y = rng.random(300)
    t = group_vs_rest_tests(y, sensitive_features=g, clusters=cl, sample_weight=w)[1]
    parts = []
    for side in (1, 0):
        ids = np.unique(cl[g == side])
        W = np.array([w[cl == c].sum() for c in ids])
        S = np.array([(w * y)[cl == c].sum() for c in ids])
        m = S.sum() / W.sum()
        p = W / W.sum()
        k = ids.size
        parts.append((m, k / (k - 1) * np.sum(p**2 * (S / W - m) ** 2), k))
    (m1, v1, k1), (m0, v0, k0) = parts
    tstat = (m1 - m0) / math.sqrt(v1 + v0)
    df = (v1 + v0) ** 2 / (v1**2 / (k1 - 1) + v0**2 / (k0 - 1))
    assert t.mean_group == pytest.approx(np.average(y[g == 1], weights=w[g == 1]))
    assert t.statistic == pytest.approx(tstat, rel=1e-10)
    assert t.p_value == pytest.approx(2 * scipy.stats.t.sf(abs(tstat), df), rel=1e-8)


def test_permutation_p_value_is_exact_on_a_tiny_case() -> None:
    y = np.array([0.1, 0.4, 0.35, 0.8, 0.9, 0.75])
    g = np.array([0, 0, 0, 1, 1, 1])
    t = group_vs_rest_tests(y, sensitive_features=g, method="permutation")[0]
    obs = y[:3].mean() - y[3:].mean()
    diffs = []
    for pick in itertools.combinations(range(6), 3):
        inside = np.isin(np.arange(6), pick)
        diffs.append(y[inside].mean() - y[~inside].mean())
    diffs = np.array(diffs)
    eps = 1e-12
    p_less = np.mean(diffs <= obs + eps)
    p_greater = np.mean(diffs >= obs - eps)
    assert t.statistic == pytest.approx(obs)
    assert t.p_value == pytest.approx(min(1.0, 2 * min(p_less, p_greater)))


def test_null_p_values_are_uniform_ish() -> None:
    """Under the null (exchangeable groups) P(p ≤ α) ≈ α for both tests; 300 data sets."""
    rng = np.random.default_rng(3)
    p_perm, p_welch = [], []
    for r in range(300):
        cl = np.repeat(np.arange(30), 3)
        g = np.repeat(rng.integers(0, 2, 30), 3)
        y = rng.normal(size=30)[cl] + rng.normal(size=90)
        kw = {"sensitive_features": g, "clusters": cl, "alpha": None}  # raw p-values only
        p_welch.append(group_vs_rest_tests(y, **kw)[0].p_value)
        if r < 150:
            p_perm.append(group_vs_rest_tests(
                y, method="permutation", n_permutations=199, random_state=r, **kw)[0].p_value)
    for ps, n in ((np.array(p_welch), 300), (np.array(p_perm), 150)):
        sd = math.sqrt(0.1 * 0.9 / n)
        assert abs(np.mean(ps <= 0.1) - 0.1) < 3 * sd
        assert scipy.stats.kstest(ps, "uniform").pvalue > 1e-3
    # and both see a real difference
    g = np.repeat([0, 1], 40)
    y = rng.normal(size=80) + 1.5 * g
    for method in ("welch", "permutation"):
        t = group_vs_rest_tests(y, sensitive_features=g, method=method, n_permutations=999)[1]
        assert t.p_value < 0.01 and t.reject


def test_permutation_is_reproducible() -> None:
    rng = np.random.default_rng(4)
    y, g = rng.random(120), rng.integers(0, 3, 120)
    kw = {"sensitive_features": g, "method": "permutation", "n_permutations": 499}
    a = group_vs_rest_tests(y, random_state=7, **kw)
    b = group_vs_rest_tests(y, random_state=7, **kw)
    assert [t.p_value for t in a] == [t.p_value for t in b]


def test_group_with_one_cluster_is_kept_with_nan_and_a_reason() -> None:
    rng = np.random.default_rng(5)
    g = np.array(["a"] * 40 + ["b"] * 40 + ["solo"] * 3)
    cl = np.r_[np.arange(80), [99, 99, 99]]
    y = rng.random(83)
    for method in ("welch", "permutation"):
        tests = group_vs_rest_tests(y, sensitive_features=g, clusters=cl, method=method,
                                    n_permutations=99)
        assert [t.group for t in tests] == ["a", "b", "solo"]
        solo = tests[2]
        assert math.isnan(solo.p_value) and math.isnan(solo.p_adjusted) and not solo.reject
        assert "1 cluster" in solo.reason and solo.n == 3
        assert not math.isnan(solo.mean_group)
        ok = [t.p_value for t in tests[:2]]
        np.testing.assert_allclose([t.p_adjusted for t in tests[:2]],
                                   multipletests(ok, method="holm")[1])


def test_constant_outcome_gives_nan_welch_with_reason() -> None:
    y = np.full(20, 0.1)  # 0.1 is inexact in binary: rounding must not fake a variance
    t = group_vs_rest_tests(y, sensitive_features=np.repeat([0, 1], 10),
                            sample_weight=np.linspace(0.3, 2.0, 20))[0]
    assert math.isnan(t.p_value) and "no variation" in t.reason
    assert t.difference == pytest.approx(0.0, abs=1e-15)
    unadjusted = group_vs_rest_tests(np.arange(20.0), sensitive_features=np.repeat([0, 1], 10),
                                     alpha=None)
    assert all(math.isnan(u.p_adjusted) and not u.reject for u in unadjusted)


def test_holm_matches_statsmodels_and_ignores_nan() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.2])
    adj, rej = holm_adjust(p, alpha=0.05)
    ref_rej, ref_adj, _, _ = multipletests(p, alpha=0.05, method="holm")
    np.testing.assert_allclose(adj, ref_adj)
    np.testing.assert_array_equal(rej, ref_rej)
    adj2, rej2 = holm_adjust(np.r_[p, np.nan])
    np.testing.assert_allclose(adj2[:5], ref_adj)
    assert math.isnan(adj2[5]) and not rej2[5]
    with pytest.raises(FaroUsageError):
        holm_adjust([0.5, 1.5])


def test_adjust_family_across_metrics() -> None:
    rng = np.random.default_rng(6)
    g = rng.integers(0, 4, 500)
    soft = rng.random(500) + 0.08 * (g == 2)
    hard = (rng.random(500) < 0.5).astype(float)
    a = group_vs_rest_tests(soft, sensitive_features=g, metric="soft", attribute="x")
    b = group_vs_rest_tests(hard, sensitive_features=g)
    fam = adjust_family(list(a) + [("hard", "x", t) for t in b])
    raw = [t.p_value for t in a + b]
    np.testing.assert_allclose([t.p_adjusted for t in fam], multipletests(raw, method="holm")[1])
    assert [t.metric for t in fam] == ["soft"] * 4 + ["hard"] * 4
    assert all(t.attribute == "x" for t in fam)
    assert all(isinstance(t, GroupTest) for t in fam)
    # the family is larger than one metric's: adjusted p-values can only grow
    assert all(f.p_adjusted >= t.p_adjusted - 1e-15 for f, t in zip(fam, a))
    with pytest.raises(FaroUsageError):
        adjust_family([0.5])


def test_bad_options() -> None:
    with pytest.raises(FaroUsageError, match="method"):
        group_vs_rest_tests([0.0, 1.0], sensitive_features=[0, 1], method="ttest")
    with pytest.raises(FaroUsageError, match="n_permutations"):
        group_vs_rest_tests([0.0, 1.0], sensitive_features=[0, 1], n_permutations=0)


def test_holm_leaves_the_garbage_collector_as_it_was() -> None:
    """holm_adjust freezes the gc around statsmodels' gc.collect() (a speed fix); the frozen
    generation must be empty again afterwards, also when the call raises."""
    import gc

    before = gc.get_freeze_count()
    holm_adjust([0.01, 0.2, float("nan")])
    assert gc.get_freeze_count() == before
    with pytest.raises(FaroUsageError):
        holm_adjust([0.5], alpha=2.0)
    assert gc.get_freeze_count() == before


# --------------------------------------------------------------------------- linear-time Welch
# The group-vs-rest Welch test used to rebuild each group's rest (O(K·U) for K groups, U
# clusters). ``_old_welch_tests`` is that quadratic implementation, kept here as the reference:
# the linear one (totals minus the group's sums) must give the same numbers.


def _old_welch_tests(y, g, clusters=None, weight=None):
    from faro_audit.stats.bootstrap import cluster_totals

    tot = cluster_totals(y, sensitive_features=g, clusters=clusters, sample_weight=weight)
    s, w = tot.sums[:, 0], tot.weights[:, 0]
    ug = np.repeat(np.arange(len(tot.labels)), tot.n_clusters)
    used = w > 0
    s, w, ug = s[used], w[used], ug[used]
    ybar = s / w
    out = []
    for k in range(len(tot.labels)):
        inside = ug == k
        n_in, n_out = int(inside.sum()), int((~inside).sum())
        m_in = float(s[inside].sum() / w[inside].sum()) if n_in else math.nan
        m_out = float(s[~inside].sum() / w[~inside].sum()) if n_out else math.nan
        stat = p = math.nan
        if n_in >= 2 and n_out >= 2:
            st: list[float] = []
            for sel in (inside, ~inside):
                pp = w[sel] / w[sel].sum()
                kk = int(sel.sum())
                mean = float(pp @ ybar[sel])
                var = kk / (kk - 1) * float(pp**2 @ (ybar[sel] - mean) ** 2)
                flat = np.ptp(ybar[sel]) <= 1e-12 * np.abs(ybar[sel]).max()
                st += [mean, 0.0 if flat else math.sqrt(kk * var), kk]
            if not (st[1] == 0.0 and st[4] == 0.0):
                res = scipy.stats.ttest_ind_from_stats(*st, equal_var=False)
                stat, p = float(res.statistic), float(res.pvalue)
        out.append((n_in, m_in, m_out, stat, p))
    return out


def _close(a: float, b: float, tol: float = 1e-12) -> bool:
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= tol * max(1.0, abs(b))


@pytest.mark.parametrize("seed", range(8))
def test_linear_welch_equals_the_old_quadratic_result(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 400))
    k = int(rng.integers(2, 40))
    g = rng.integers(0, k, n)
    y = rng.random(n) if seed % 2 else (rng.random(n) < 0.3).astype(float)
    clusters = rng.integers(0, max(2, n // 3), n) if seed % 3 else None
    weight = rng.exponential(size=n) * (rng.random(n) > 0.05) if seed % 4 == 1 else None
    new = group_vs_rest_tests(y, sensitive_features=g, clusters=clusters, sample_weight=weight)
    old = _old_welch_tests(y, g, clusters, weight)
    assert len(new) == len(old)
    for t, (n_in, m_in, m_out, stat, p) in zip(new, old):
        assert t.n_clusters == n_in
        assert _close(t.mean_group, m_in) and _close(t.mean_rest, m_out)
        assert _close(t.statistic, stat, 1e-10) and _close(t.p_value, p), (t, stat, p)


def test_linear_welch_edge_cases_match_the_old_result() -> None:
    # constant groups, a group with one cluster, a group whose weight is all zero, outcomes
    # crowded near 1 with tiny spread (cancellation in totals-minus-group; outcomes are in
    # [0, 1], SPEC §2), a single overall maximum inside one group
    cases = [
        (np.r_[np.full(5, 0.5), np.full(5, 0.5), np.linspace(0, 1, 6)], np.repeat([0, 1, 2], [5, 5, 6]),
         None),
        (np.r_[np.full(4, 0.2), np.full(4, 0.7), 0.9], np.repeat([0, 1, 2], [4, 4, 1]), None),
        (np.r_[0.1, 0.3, 0.2, 0.8, 0.9, 0.85, 0.4], np.array([0, 0, 1, 1, 2, 2, 2]),
         np.array([0, 0, 1, 1, 1, 1, 1.0])),
        (1 - 1e-4 * np.random.default_rng(3).random(300), np.random.default_rng(4).integers(0, 30, 300), None),
        (np.r_[np.zeros(10), 1.0, np.full(9, 0.5)], np.repeat([0, 1], 10), None),
    ]
    for y, g, w in cases:
        new = group_vs_rest_tests(y, sensitive_features=g, sample_weight=w)
        for t, (n_in, m_in, m_out, stat, p) in zip(new, _old_welch_tests(y, g, None, w)):
            assert t.n_clusters == n_in
            assert _close(t.mean_group, m_in) and _close(t.mean_rest, m_out)
            assert _close(t.statistic, stat, 1e-8) and _close(t.p_value, p, 1e-10), (t, stat, p)


def test_many_groups_single_row_groups_are_kept_with_a_reason() -> None:
    rng = np.random.default_rng(0)
    g = np.r_[np.arange(3000), rng.integers(0, 3000, 3000)]
    y = rng.random(g.shape[0])
    tests = group_vs_rest_tests(y, sensitive_features=g, alpha=None)
    assert len(tests) == 3000
    singles = [t for t in tests if t.n_clusters == 1]
    assert singles and all(math.isnan(t.p_value) and "group has 1 cluster" in t.reason for t in singles)
    old = _old_welch_tests(y, g)
    for t, (n_in, m_in, m_out, stat, p) in zip(tests[:300], old[:300]):
        assert _close(t.mean_rest, m_out) and _close(t.p_value, p)
