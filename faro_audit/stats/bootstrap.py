"""Clustered, group-stratified percentile bootstrap (SPEC §4, intervals for description).

Within each group the *clusters* (prompts or twin sets; each row its own cluster when none are
given) are resampled with replacement, as many as the group has, so every replicate keeps each
group's cluster count (stratified bootstrap). A cluster that spans several groups is split by
group. With cluster weighted sums S_c = Σ_{i∈c} w_i y_i and weights W_c = Σ_{i∈c} w_i, the
replicate mean of group a is

    m*_a = Σ_{c ∈ draw} S_c / Σ_{c ∈ draw} W_c,

the ratio estimator of the resampled clusters (Davison & Hinkley 1997, *Bootstrap Methods and
their Application*, §3.8, cluster/two-stage resampling; Field & Welsh 2007, "Bootstrapping
clustered data", JRSS-B 69). Intervals are percentile intervals (Efron & Tibshirani 1993, §13.3).

Computation (no Python loop over resamples; every method is an exact nonparametric bootstrap):

* *Few atoms* (e.g. hard outcomes without clusters): drawing n_a clusters uniformly with
  replacement and summing is the same in distribution as drawing the multiplicities of the
  distinct (S_c, W_c) rows ("atoms") from Multinomial(n_a, frequency / n_a), so a replicate costs
  O(atoms) instead of O(n_a).
* *Many atoms* (soft outcomes): uniform cluster indices are drawn in chunks of replicates and
  either gathered and summed (one or two columns) or counted with ``np.bincount`` and multiplied
  by the (S, W) matrix with BLAS (more columns). All sums are float64. Chunks run on a thread pool
  (numpy releases the GIL); every (group, chunk) has its own ``SeedSequence`` child, so results
  depend on ``random_state`` only, never on ``n_jobs``.

Replicates in which a group has zero total weight for an outcome (possible only with per-outcome
weights, e.g. class-conditional means) are undefined (NaN); :func:`percentile_interval` leaves
them out and :attr:`BootstrapGroupMeans.n_undefined` counts them.

Layout: this module holds the entry points and their result types; the input checks are in
:mod:`faro_audit.stats.checks`, the reduction to clusters (:func:`cluster_totals`) and the
engine in :mod:`faro_audit.stats.resampling`, the percentile intervals and gaps (:func:`bootstrap_gap`,
:func:`bootstrap_eo_gap`, :func:`percentile_interval`) in :mod:`faro_audit.stats.bootstrap_gaps`;
their public names are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import numpy as np

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.stats.bootstrap_gaps import (
    GAP_METHODS,  # noqa: F401  (re-exported: was defined here)
    BootstrapGap,
    bootstrap_eo_gap,
    bootstrap_gap,
    percentile_interval,
)
from faro_audit.stats.checks import (
    check_n_boot,
    check_outcomes,
    check_weights,
    encode_group_column,
    encode_labels,
    read_only,
    seed_sequence,
)
from faro_audit.stats.resampling import (
    ClusterTotals,
    cluster_totals,
    group_tasks,
    run_tasks,
)

__all__ = [
    "BootstrapGap",
    "BootstrapGroupMeans",
    "ClusterTotals",
    "bootstrap_class_group_means",
    "bootstrap_eo_gap",
    "bootstrap_gap",
    "bootstrap_group_means",
    "cluster_totals",
    "percentile_interval",
]

#: Old private spelling of :func:`faro_audit.stats.checks.seed_sequence`, still imported by
#: :mod:`faro_audit.stats.grouptests`.
_seed = seed_sequence

# Engine tuning, read at call time by bootstrap_group_means and passed to the engine
# (faro_audit.stats.resampling), so they can be changed here (tests do).
_CHUNK_DRAWS = 1 << 19  # cluster draws per chunk in the many-atoms path (4 MiB of int64)
_ATOM_RATIO = 8  # use the multinomial path when atoms <= clusters / _ATOM_RATIO
_PARALLEL_MIN_DRAWS = 1 << 22  # below this many draws in total, stay on one thread


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class BootstrapGroupMeans:
    """Group means and their bootstrap replicates.

    Attributes
    ----------
    labels : tuple
        Group labels, sorted (``np.unique`` order).
    estimate : ndarray, shape (K,) or (K, M)
        Weighted group means m_a = Σ w y / Σ w (one column per outcome when M outcomes).
    replicates : ndarray, shape (n_boot, K) or (n_boot, K, M)
        Bootstrap replicates of the group means.
    weight_total : ndarray, shape like ``estimate``
        Σ w per group (per outcome): the group's pooled weight.
    replicate_weights : ndarray, shape like ``replicates``
        Σ w of the drawn clusters, per replicate and group.
    n_rows, n_clusters : ndarray, shape (K,)
        Rows and clusters per group.
    """

    labels: tuple[Hashable, ...]
    estimate: np.ndarray
    replicates: np.ndarray = field(repr=False)
    weight_total: np.ndarray = field(repr=False)
    replicate_weights: np.ndarray = field(repr=False)
    n_rows: np.ndarray = field(repr=False)
    n_clusters: np.ndarray = field(repr=False)

    @property
    def n_boot(self) -> int:
        """Number of bootstrap replicates."""
        return int(self.replicates.shape[0])

    @property
    def n_undefined(self) -> np.ndarray:
        """Replicates per group (and outcome) whose drawn clusters have zero weight (NaN)."""
        return np.isnan(self.replicates).sum(axis=0)

    def outcome(self, j: int) -> BootstrapGroupMeans:
        """The single-outcome result of column ``j`` (shared draws).

        Parameters
        ----------
        j : int
            Outcome column (negative counts from the end).

        Returns
        -------
        BootstrapGroupMeans
            1-D ``estimate`` and 2-D ``replicates`` of that column.
        """
        if self.estimate.ndim != 2 or not -self.estimate.shape[1] <= j < self.estimate.shape[1]:
            raise FaroUsageError(
                f"outcome: column {j} does not exist; this result has estimate shape "
                f"{self.estimate.shape}; pass 0 <= j < number of outcome columns"
            )
        return BootstrapGroupMeans(
            self.labels, read_only(self.estimate[:, j]), read_only(self.replicates[:, :, j]),
            read_only(self.weight_total[:, j]), read_only(self.replicate_weights[:, :, j]),
            self.n_rows, self.n_clusters,
        )

    def interval(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Percentile interval of every group mean (see :func:`percentile_interval`).

        Parameters
        ----------
        level : float
            Confidence level 1 − α in (0, 1).

        Returns
        -------
        (lower, upper) : tuple of ndarray
            The α/2 and 1 − α/2 quantiles of each group's replicates (NaN replicates left out).
        """
        lo, hi = percentile_interval(self.replicates, level=level)
        return np.asarray(lo), np.asarray(hi)


def bootstrap_group_means(
    y: object,
    *,
    sensitive_features: object,
    clusters: object = None,
    sample_weight: object = None,
    n_boot: int = 1000,
    random_state: int | np.random.SeedSequence | None = 0,
    n_jobs: int | None = None,
) -> BootstrapGroupMeans:
    """Clustered, group-stratified bootstrap of weighted group means.

    Parameters
    ----------
    y : array-like, shape (n,) or (n, M)
        Outcomes; with M columns (e.g. soft, hard, correct) one set of draws serves all.
    sensitive_features : array-like, shape (n,)
        Group label per row.
    clusters : array-like, shape (n,), optional
        Cluster id per row (prompt, twin set). None: each row is its own cluster.
    sample_weight : array-like, shape (n,) or (n, M), optional
        Row weights (default 1); one column per outcome gives per-outcome weights (used for
        class-conditional means).
    n_boot : int
        Number of replicates B.
    random_state : int, SeedSequence or None
        Seed; results depend on it alone (not on ``n_jobs``).
    n_jobs : int, optional
        Threads (default: all CPUs).

    Returns
    -------
    BootstrapGroupMeans
        m_a = Σ_c S_c / Σ_c W_c and its replicates Σ_{c∈draw} S_c / Σ_{c∈draw} W_c (module notes).
    """
    n_boot = check_n_boot(n_boot)
    tot = cluster_totals(
        y, sensitive_features=sensitive_features, clusters=clusters, sample_weight=sample_weight
    )
    one_d = np.ndim(y) == 1
    n_groups, m = len(tot.labels), tot.sums.shape[1]
    sw_all = np.concatenate([tot.sums, tot.weights], axis=1)
    b = tot.bounds
    w_tot = np.stack([sw_all[b[k] : b[k + 1], m:].sum(axis=0) for k in range(n_groups)])
    if tot.weights.shape[1] == 1:
        zero = (tot.n_rows > 0) & (w_tot[:, 0] <= 0)
        if zero.any():
            raise FaroInputError(
                f"sample_weight: group {tot.labels[int(np.argmax(zero))]!r} has total weight 0; "
                "give it positive weight or remove its rows explicitly"
            )
    seeds = seed_sequence(random_state).spawn(n_groups)
    rep = np.zeros((n_boot, n_groups, sw_all.shape[1]))  # empty groups stay 0/0 = NaN
    outs = [np.zeros((n_boot, sw_all.shape[1])) for _ in range(n_groups)]
    tasks: list[Callable[[], None]] = []
    for k in range(n_groups):
        if b[k + 1] > b[k]:
            tasks += group_tasks(np.ascontiguousarray(sw_all[b[k] : b[k + 1]]), n_boot,
                                  seeds[k], outs[k], atom_ratio=_ATOM_RATIO,
                                  chunk_draws=_CHUNK_DRAWS)
    run_tasks(tasks, n_jobs, n_boot * int(tot.n_rows.sum()),
         parallel_min_draws=_PARALLEL_MIN_DRAWS)
    for k in range(n_groups):
        rep[:, k] = outs[k]
    s_tot = np.stack([sw_all[b[k] : b[k + 1], :m].sum(axis=0) for k in range(n_groups)])
    w_tot = np.broadcast_to(w_tot, (n_groups, m))
    s_rep, w_rep = rep[:, :, :m], np.broadcast_to(rep[:, :, m:], (n_boot, n_groups, m))
    with np.errstate(invalid="ignore", divide="ignore"):
        est = np.where(w_tot > 0, s_tot / w_tot, np.nan)
        reps = np.where(w_rep > 0, s_rep / w_rep, np.nan)
    if one_d:
        est, reps, w_tot, w_rep = est[:, 0], reps[:, :, 0], w_tot[:, 0], w_rep[:, :, 0]
    return BootstrapGroupMeans(
        tot.labels, read_only(est), read_only(reps), read_only(np.array(w_tot)), read_only(np.array(w_rep)),
        tot.n_rows, read_only(tot.n_clusters),
    )


def bootstrap_class_group_means(
    y_score: object,
    y_true: object,
    *,
    sensitive_features: object,
    clusters: object = None,
    sample_weight: object = None,
    n_boot: int = 1000,
    random_state: int | np.random.SeedSequence | None = 0,
    n_jobs: int | None = None,
) -> dict[Hashable, BootstrapGroupMeans]:
    """Class-conditional group means m_{a,k} = Σ_{y_true=k} w y / Σ_{y_true=k} w, jointly.

    One :func:`bootstrap_group_means` call with per-class weight columns w·1[y_true = k], so
    all classes share the cluster draws (clusters holding rows of both classes stay whole).
    Each class keeps only the groups that have rows (positive weight) in it; a replicate in
    which a group drew no rows of the class is NaN (counted by ``n_undefined``).

    Parameters
    ----------
    y_score : array-like of shape (n,) or (n, M)
        Outcomes.
    y_true : array-like of shape (n,)
        Class of each row (e.g. the human label); missing values are an error.
    sensitive_features : array-like
        Group per row.
    clusters : array-like of shape (n,), optional
        Cluster per row (resampled whole).
    sample_weight : array-like of shape (n,), optional
        Row weights w.
    n_boot : int
        Replicates B.
    random_state : int, SeedSequence or None
        Seed (recorded in reports).
    n_jobs : int or None
        Threads (all CPUs when None).

    Returns
    -------
    dict
        class → BootstrapGroupMeans (outcome columns as in ``y_score``).
    """
    ys = check_outcomes(y_score, "y_score")
    n = ys.shape[0]
    y2 = ys.reshape(n, -1)
    m = y2.shape[1]
    classes, t = encode_labels(y_true, "y_true", n)
    w = check_weights(sample_weight, n, 1)
    if w.shape[1] != 1:
        raise FaroInputError("sample_weight: expected one weight per row (shape (n,))")
    onehot = (t[:, None] == np.arange(len(classes))[None, :]).astype(np.float64) * w
    big = bootstrap_group_means(
        np.tile(y2, (1, len(classes))), sensitive_features=sensitive_features,
        clusters=clusters, sample_weight=np.repeat(onehot, m, axis=1), n_boot=n_boot,
        random_state=random_state, n_jobs=n_jobs,
    )
    _, g = encode_group_column(sensitive_features, n)
    out: dict[Hashable, BootstrapGroupMeans] = {}
    for k, cls in enumerate(classes):
        cols: slice | int = slice(k * m, (k + 1) * m) if ys.ndim == 2 else k * m
        keep = np.flatnonzero(big.weight_total[:, k * m] > 0)
        rows = np.bincount(g[t == k], minlength=len(big.labels))[keep]
        out[cls] = BootstrapGroupMeans(
            tuple(big.labels[i] for i in keep), read_only(big.estimate[keep][:, cols]),
            read_only(big.replicates[:, keep][:, :, cols]), read_only(big.weight_total[keep][:, cols]),
            read_only(big.replicate_weights[:, keep][:, :, cols]), read_only(rows),
            read_only(big.n_clusters[keep]),
        )
    return out
