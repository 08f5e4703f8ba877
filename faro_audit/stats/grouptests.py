"""Each group against the rest, with Holm correction across groups and metrics (SPEC §4).

Rows sharing a prompt are not independent, so the unit of every test is the *cluster* (a
(group, cluster) unit, as in :mod:`faro_audit.stats.bootstrap`; each row when ``clusters`` is
None). With cluster sums S_c = Σ w_i y_i and weights W_c = Σ w_i, the cluster mean is
ȳ_c = S_c / W_c and the compared quantity is the cluster-weighted mean of cluster means

    m_a = Σ_{c∈a} W_c ȳ_c / Σ_{c∈a} W_c = Σ_{c∈a} S_c / Σ_{c∈a} W_c,

i.e. exactly the group mean of the metrics (SPEC §3); m_rest is the same over all other groups.

* ``welch``: Welch's unequal-variance t-test (Welch 1947) of m_a − m_rest on the cluster means,
  with the cluster-robust (linearisation) variance of a weighted mean,
  v_a = n_a/(n_a − 1) · Σ_c p_c² (ȳ_c − m_a)², p_c = W_c / Σ W_c, n_a clusters (Cochran 1977,
  *Sampling Techniques*, §6.11). With equal cluster weights p_c = 1/n_a this is s²/n_a, so the
  test is then exactly ``scipy.stats.ttest_ind(cluster_means_a, cluster_means_rest,
  equal_var=False)``; in general scipy's ``ttest_ind_from_stats`` gets std = sqrt(n_a v_a) and
  computes t and the Welch–Satterthwaite degrees of freedom.
* ``permutation``: ``scipy.stats.permutation_test`` over the clusters (cluster labels are
  exchanged between the group and the rest), statistic m_a − m_rest, two-sided; p-values
  (count + 1)/(n_permutations + 1) (Phipson & Smyth 2010), exact when all partitions fit.
  Cost O(n_permutations · clusters) per group.

Clusters of zero total weight carry no information and take no part in a test. A group (or a
rest) with fewer than two clusters gets p = NaN with a ``reason`` and is kept, never dropped.
Holm's step-down correction (Holm 1979) is statsmodels' ``multipletests(method="holm")``; the
tests with a NaN p-value are left out of the family (p_adjusted NaN, reject False).
"""

from __future__ import annotations

import gc
import inspect
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import scipy.stats

from faro_audit.errors import FaroUsageError
from faro_audit.stats.bootstrap import _seed, cluster_totals

__all__ = ["GroupTest", "adjust_family", "group_vs_rest_tests", "holm_adjust"]

METHODS = ("welch", "permutation")
_BATCH_CELLS = 1 << 22  # permutations × clusters per batch of scipy's permutation_test
_RNG_KEYWORD = "rng" if "rng" in inspect.signature(scipy.stats.permutation_test).parameters \
    else "random_state"  # scipy >= 1.15 names it rng


@dataclass(frozen=True)
class GroupTest:
    """One group-versus-rest test.

    Attributes
    ----------
    group : label
    n, n_clusters : int
        Rows and clusters of the group.
    mean_group, mean_rest, difference : float
        m_a, m_rest and m_a − m_rest (module notes).
    statistic : float
        Welch's t, or m_a − m_rest for the permutation test.
    p_value, p_adjusted : float
        Two-sided p-value and its Holm adjustment over the family (NaN: see ``reason``).
    reject : bool
        ``p_adjusted <= alpha``.
    method : str
    metric, attribute : str or None
        Labels of the test, used to name it across a family of metrics.
    reason : str or None
        Why the p-value is NaN, if it is.
    """

    group: Hashable
    n: int
    n_clusters: int
    mean_group: float
    mean_rest: float
    difference: float
    statistic: float
    p_value: float
    p_adjusted: float
    reject: bool
    method: str
    metric: str | None = None
    attribute: str | None = None
    reason: str | None = None


def holm_adjust(p_values: object, *, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Holm-adjusted p-values and rejections (statsmodels ``multipletests``, ``"holm"``).

    NaN p-values are left out of the family: their adjusted value is NaN and they are not
    rejected.

    Returns
    -------
    (p_adjusted, reject) : ndarray of float, ndarray of bool
    """
    from statsmodels.stats.multitest import multipletests  # imports pandas: keep it lazy

    if not 0.0 < float(alpha) < 1.0:
        raise FaroUsageError(f"alpha: expected a number in (0, 1), got {alpha!r}")
    p = np.asarray(p_values, dtype=np.float64).reshape(-1)
    ok = np.isfinite(p)
    if ((p[ok] < 0) | (p[ok] > 1)).any():
        raise FaroUsageError("p_values: expected values in [0, 1] (or NaN)")
    adjusted = np.full(p.shape, np.nan)
    reject = np.zeros(p.shape, dtype=bool)
    if ok.any():
        # statsmodels' Holm branch calls gc.collect(), a full pass over every live object: ~0.5 s
        # once torch and transformers are loaded. Freezing the existing objects first (CPython's
        # gc.freeze) limits that pass to the objects made since, without changing any result.
        gc.freeze()
        try:
            rej, adj, _, _ = multipletests(p[ok], alpha=alpha, method="holm")
        finally:
            gc.unfreeze()
        adjusted[ok], reject[ok] = adj, rej
    return adjusted, reject


def adjust_family(tests: Sequence[object], *, alpha: float = 0.05) -> tuple[GroupTest, ...]:
    """Holm correction over a whole family of tests (several groups, metrics, attributes).

    Parameters
    ----------
    tests : sequence of GroupTest, or of (metric, attribute, GroupTest) triples
        A triple labels its test with ``metric`` and ``attribute``.

    Returns
    -------
    tuple of GroupTest
        In input order, with ``p_adjusted`` and ``reject`` recomputed over the family.
    """
    flat: list[GroupTest] = []
    for item in tests:
        if isinstance(item, GroupTest):
            flat.append(item)
        elif isinstance(item, tuple) and len(item) == 3 and isinstance(item[2], GroupTest):
            flat.append(replace(item[2], metric=item[0], attribute=item[1]))
        else:
            raise FaroUsageError(
                f"tests: expected GroupTest or (metric, attribute, GroupTest), got {item!r:.80}"
            )
    adjusted, reject = holm_adjust([t.p_value for t in flat], alpha=alpha)
    return tuple(
        replace(t, p_adjusted=float(a), reject=bool(r)) for t, a, r in zip(flat, adjusted, reject)
    )


def _welch(ybar: np.ndarray, w: np.ndarray, inside: np.ndarray) -> tuple[float, float]:
    """Welch t and p of the weighted mean of ``ybar`` inside vs outside (module notes)."""
    stats: list[float] = []
    for sel in (inside, ~inside):
        p = w[sel] / w[sel].sum()
        k = int(sel.sum())
        mean = float(p @ ybar[sel])
        var = k / (k - 1) * float(p**2 @ (ybar[sel] - mean) ** 2)
        flat = np.ptp(ybar[sel]) <= 1e-12 * np.abs(ybar[sel]).max()  # S_c/W_c rounds
        stats += [mean, 0.0 if flat else math.sqrt(k * var), k]
    if stats[1] == 0.0 and stats[4] == 0.0:  # no variance at all: t is 0/0 or ±inf
        return math.nan, math.nan
    res = scipy.stats.ttest_ind_from_stats(*stats, equal_var=False)
    return float(res.statistic), float(res.pvalue)


def _rest_extreme(per_group: np.ndarray, counts: np.ndarray, *, largest: bool) -> np.ndarray:
    """Largest (or smallest) value outside each group, from the per-group extremes, O(K).

    The extreme over "all groups but a" is the overall extreme unless a is the only group
    attaining it, in which case it is the runner-up over the other groups.
    """
    v = np.where(counts > 0, per_group, -np.inf if largest else np.inf)
    if not largest:
        v = -v
    k = v.shape[0]
    if k == 1:
        out = np.full(1, -np.inf)
    else:
        top2 = np.argpartition(-v, 1)[:2]
        first, second = (top2 if v[top2[0]] >= v[top2[1]] else top2[::-1])
        out = np.full(k, v[first])
        out[first] = v[second]
    return out if largest else -out


def _welch_all(
    ybar: np.ndarray, w: np.ndarray, unit_group: np.ndarray, k_groups: int, testable: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Welch t and p of every group against its rest at once, in O(U + K).

    For the group a (units c ∈ a, k_a of them, p_c = W_c / Σ_{c∈a} W_c)

        m_a = Σ_{c∈a} p_c ȳ_c,   v_a = k_a/(k_a − 1) · Σ_{c∈a} p_c² (ȳ_c − m_a)²,

    computed directly (two passes, ``np.bincount``). The rest r(a) (all other units) uses the
    totals minus the group's sums, centred at the pooled mean C = Σ W_c ȳ_c / Σ W_c to keep the
    subtraction well conditioned: with d_c = ȳ_c − C and δ = m_r − C,

        Σ_{c∈r} W_c² (ȳ_c − m_r)² = A_r − 2 δ B_r + δ² Q_r,
        A = Σ W_c² d_c²,  B = Σ W_c² d_c,  Q = Σ W_c²  (each: total − group).

    Then ``scipy.stats.ttest_ind_from_stats`` (vectorised) gets std = sqrt(k v) and the cluster
    counts, exactly as the per-group :func:`_welch`; a side whose ȳ_c are all equal (range ≤
    1e-12·max|ȳ_c|, i.e. S_c/W_c rounding) has std 0, and both sides constant give NaN.
    """
    g = unit_group
    n_in = np.bincount(g, minlength=k_groups).astype(np.float64)
    n_out = ybar.shape[0] - n_in
    w_in = np.bincount(g, weights=w, minlength=k_groups)
    w_tot = float(w.sum())
    centre = float(w @ ybar) / w_tot
    d = ybar - centre
    w2 = w * w
    sd_in = np.bincount(g, weights=w * d, minlength=k_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        delta_in = sd_in / w_in  # m_a − C
        mean_in = centre + delta_in
        dev_in = d - delta_in[g]
        ss_in = np.bincount(g, weights=w2 * dev_in * dev_in, minlength=k_groups)
        var_in = n_in / (n_in - 1) * ss_in / (w_in * w_in)
        a_in = np.bincount(g, weights=w2 * d * d, minlength=k_groups)
        b_in = np.bincount(g, weights=w2 * d, minlength=k_groups)
        q_in = np.bincount(g, weights=w2, minlength=k_groups)
        w_out = w_tot - w_in
        delta_out = (float(w @ d) - sd_in) / w_out  # m_r − C
        mean_out = centre + delta_out
        ss_out = (a_in.sum() - a_in) - 2.0 * delta_out * (b_in.sum() - b_in) \
            + delta_out * delta_out * (q_in.sum() - q_in)
        var_out = n_out / (n_out - 1) * np.maximum(ss_out, 0.0) / (w_out * w_out)
    # Range and largest |ȳ_c| per group and per rest (units are in group order).
    counts = n_in.astype(np.intp)
    hi = np.full(k_groups, -np.inf)
    lo = np.full(k_groups, np.inf)
    np.maximum.at(hi, g, ybar)
    np.minimum.at(lo, g, ybar)
    hi_out = _rest_extreme(hi, counts, largest=True)
    lo_out = _rest_extreme(lo, counts, largest=False)
    flat_in = (hi - lo) <= 1e-12 * np.maximum(np.abs(hi), np.abs(lo))
    flat_out = (hi_out - lo_out) <= 1e-12 * np.maximum(np.abs(hi_out), np.abs(lo_out))
    std_in = np.where(flat_in, 0.0, np.sqrt(np.maximum(n_in * var_in, 0.0)))
    std_out = np.where(flat_out, 0.0, np.sqrt(np.maximum(n_out * var_out, 0.0)))
    stat = np.full(k_groups, np.nan)
    pval = np.full(k_groups, np.nan)
    ok = testable & ~((std_in == 0.0) & (std_out == 0.0))
    if ok.any():
        with np.errstate(invalid="ignore", divide="ignore"):
            res = scipy.stats.ttest_ind_from_stats(
                mean_in[ok], std_in[ok], n_in[ok], mean_out[ok], std_out[ok], n_out[ok],
                equal_var=False,
            )
        stat[ok] = np.asarray(res.statistic, dtype=np.float64)
        pval[ok] = np.asarray(res.pvalue, dtype=np.float64)
    return stat, pval


def _permutation(
    s: np.ndarray, w: np.ndarray, inside: np.ndarray, n_permutations: int,
    rng: np.random.Generator,
) -> tuple[float, float]:
    def diff(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
        a, b = a.astype(np.intp), b.astype(np.intp)
        return s[a].sum(axis) / w[a].sum(axis) - s[b].sum(axis) / w[b].sum(axis)

    units = np.arange(s.shape[0])
    res = scipy.stats.permutation_test(
        (units[inside], units[~inside]), diff, permutation_type="independent",
        vectorized=True, n_resamples=n_permutations, alternative="two-sided",
        batch=max(1, _BATCH_CELLS // s.shape[0]), **{_RNG_KEYWORD: rng},
    )
    return float(res.statistic), float(res.pvalue)


def group_vs_rest_tests(
    y: object,
    *,
    sensitive_features: object,
    clusters: object = None,
    sample_weight: object = None,
    method: str = "welch",
    n_permutations: int = 9999,
    random_state: int | np.random.SeedSequence | None = 0,
    alpha: float | None = 0.05,
    metric: str | None = None,
    attribute: str | None = None,
) -> tuple[GroupTest, ...]:
    """Test each group's mean against the mean of all other groups, on clusters.

    Parameters
    ----------
    y : array-like, shape (n,)
        Outcome per row.
    sensitive_features : array-like, shape (n,), or GroupCodes
    clusters : array-like, shape (n,), optional
        Cluster (prompt, twin set) per row; None: rows are independent.
    sample_weight : array-like, shape (n,), optional
    method : {"welch", "permutation"}
        See the module notes.
    n_permutations : int
        Permutations per group (``method="permutation"``).
    random_state : int, SeedSequence or None
        Seed of the permutations (one stream per group).
    alpha : float or None
        Level of the Holm-adjusted decisions within this call; use :func:`adjust_family` to
        adjust across metrics. None skips the adjustment here (``p_adjusted`` NaN, ``reject``
        False), for results that go to :func:`adjust_family` anyway: statsmodels' Holm runs
        ``gc.collect()`` on every call, which costs 0.1–1 s in a large process.
    metric, attribute : str, optional
        Labels copied into every result.

    Returns
    -------
    tuple of GroupTest
        One per group, in label order; Holm-adjusted over these groups (unless alpha is None).
    """
    if method not in METHODS:
        raise FaroUsageError(f"method: expected one of {METHODS}, got {method!r}")
    if isinstance(n_permutations, bool) or not isinstance(n_permutations, (int, np.integer)) \
            or n_permutations < 1:
        raise FaroUsageError(f"n_permutations: expected a positive integer, got {n_permutations!r}")
    if np.ndim(y) != 1:
        raise FaroUsageError(f"y: expected one outcome per row (shape (n,)), got {np.shape(y)}")
    tot = cluster_totals(
        y, sensitive_features=sensitive_features, clusters=clusters, sample_weight=sample_weight
    )
    s, w = tot.sums[:, 0], tot.weights[:, 0]
    unit_group = np.repeat(np.arange(len(tot.labels)), tot.n_clusters)
    used = w > 0
    s, w, unit_group = s[used], w[used], unit_group[used]
    ybar = s / w
    k_groups = len(tot.labels)
    seeds = _seed(random_state).spawn(k_groups) if method == "permutation" else None
    n_in_all = np.bincount(unit_group, minlength=k_groups)
    s_in = np.bincount(unit_group, weights=s, minlength=k_groups)
    w_in = np.bincount(unit_group, weights=w, minlength=k_groups)
    n_out_all = ybar.shape[0] - n_in_all
    with np.errstate(invalid="ignore", divide="ignore"):
        m_in_all = np.where(n_in_all > 0, s_in / w_in, np.nan)
        m_out_all = np.where(n_out_all > 0, (s.sum() - s_in) / (w.sum() - w_in), np.nan)
    testable = (n_in_all >= 2) & (n_out_all >= 2)
    stat_all = np.full(k_groups, np.nan)
    p_all = np.full(k_groups, np.nan)
    if method == "welch" and testable.any():
        stat_all, p_all = _welch_all(ybar, w, unit_group, k_groups, testable)
    out: list[GroupTest] = []
    for k, label in enumerate(tot.labels):
        n_in, n_out = int(n_in_all[k]), int(n_out_all[k])
        m_in, m_out = float(m_in_all[k]), float(m_out_all[k])
        stat = p = math.nan
        reason = None
        if not testable[k]:
            side, count = ("group", n_in) if n_in < 2 else ("rest of the data", n_out)
            reason = (f"the {side} has {count} cluster(s) with weight; a test needs at least 2 "
                      "on each side")
        elif method == "welch":
            stat, p = float(stat_all[k]), float(p_all[k])
            if math.isnan(p):
                reason = ("no variation within the group or within the rest (both "
                          "constant): Welch's t is undefined; use method='permutation'")
        else:
            assert seeds is not None
            rng = np.random.Generator(np.random.PCG64(seeds[k]))
            stat, p = _permutation(s, w, unit_group == k, int(n_permutations), rng)
        out.append(GroupTest(
            group=label, n=int(tot.n_rows[k]), n_clusters=n_in, mean_group=m_in,
            mean_rest=m_out, difference=m_in - m_out, statistic=stat, p_value=p,
            p_adjusted=math.nan, reject=False, method=method, metric=metric,
            attribute=attribute, reason=reason,
        ))
    return tuple(out) if alpha is None else adjust_family(out, alpha=alpha)
