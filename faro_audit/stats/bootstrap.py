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
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Hashable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.metrics.groups import encode_groups

__all__ = [
    "BootstrapGap",
    "BootstrapGroupMeans",
    "BootstrapGroupStatistic",
    "ClusterTotals",
    "bootstrap_class_group_means",
    "bootstrap_eo_gap",
    "bootstrap_gap",
    "bootstrap_group_means",
    "bootstrap_statistic",
    "cluster_totals",
    "percentile_interval",
]

_CHUNK_DRAWS = 1 << 19  # cluster draws per chunk in the many-atoms path (4 MiB of int64)
_ATOM_RATIO = 8  # use the multinomial path when atoms <= clusters / _ATOM_RATIO
_PARALLEL_MIN_DRAWS = 1 << 22  # below this many draws in total, stay on one thread
GAP_METHODS = ("between_groups", "to_overall")


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
        """The single-outcome result of column ``j`` (shared draws)."""
        if self.estimate.ndim != 2 or not -self.estimate.shape[1] <= j < self.estimate.shape[1]:
            raise FaroUsageError(
                f"outcome: column {j} does not exist; this result has estimate shape "
                f"{self.estimate.shape}; pass 0 <= j < number of outcome columns"
            )
        return BootstrapGroupMeans(
            self.labels, _ro(self.estimate[:, j]), _ro(self.replicates[:, :, j]),
            _ro(self.weight_total[:, j]), _ro(self.replicate_weights[:, :, j]),
            self.n_rows, self.n_clusters,
        )

    def interval(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Percentile interval of every group mean (see :func:`percentile_interval`)."""
        lo, hi = percentile_interval(self.replicates, level=level)
        return np.asarray(lo), np.asarray(hi)


@dataclass(frozen=True, eq=False)
class BootstrapGap:
    """A gap, its percentile interval and its replicates; unpacks as (estimate, lo, hi, reps)."""

    estimate: float
    lower: float
    upper: float
    replicates: np.ndarray = field(repr=False)
    level: float
    method: str

    def __iter__(self) -> Iterator[float | np.ndarray]:
        return iter((self.estimate, self.lower, self.upper, self.replicates))


@dataclass(frozen=True, eq=False)
class BootstrapGroupStatistic:
    """Per-group value of an arbitrary statistic and its clustered bootstrap replicates."""

    labels: tuple[Hashable, ...]
    estimate: np.ndarray
    replicates: np.ndarray = field(repr=False)
    n_rows: np.ndarray = field(repr=False)
    n_clusters: np.ndarray = field(repr=False)

    def interval(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Percentile interval per group (see :func:`percentile_interval`)."""
        lo, hi = percentile_interval(self.replicates, level=level)
        return np.asarray(lo), np.asarray(hi)


# ----------------------------------------------------------------------------- validation


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    a.flags.writeable = False
    return a


def _is_missing(x: object) -> bool:
    return x is None or (isinstance(x, (float, np.floating)) and math.isnan(x))


def _encode(values: object, name: str, n: int) -> tuple[tuple[Hashable, ...], np.ndarray]:
    """Sorted labels and integer codes of a 1-D label array; missing values are an error."""
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise FaroInputError(f"{name}: expected a 1-D array of {n} labels, got shape {arr.shape}")
    if arr.dtype.kind == "f":
        bad = np.flatnonzero(np.isnan(arr))
    elif arr.dtype.kind == "O":
        bad = np.flatnonzero([_is_missing(x) for x in arr])
    else:
        bad = np.empty(0, dtype=np.intp)
    if bad.size:
        raise FaroInputError(
            f"{name}: {bad.size} missing value(s), first at row {int(bad[0])}; "
            "fill them or drop those rows explicitly"
        )
    if arr.dtype.kind in "biuf":
        labels, codes = np.unique(arr, return_inverse=True)
        return tuple(labels.tolist()), codes.reshape(-1).astype(np.intp)
    items = arr.tolist()  # strings/objects: hashing beats np.unique's string sort
    try:
        uniq = sorted(set(items))
    except TypeError as err:
        raise FaroInputError(
            f"{name}: labels of mixed types cannot be ordered ({err}); convert them to str"
        ) from None
    lookup = {x: i for i, x in enumerate(uniq)}
    return tuple(uniq), np.fromiter(map(lookup.__getitem__, items), dtype=np.intp, count=n)


def _outcomes(y: object, name: str = "y") -> np.ndarray:
    arr = np.asarray(y, dtype=np.float64)
    if arr.ndim not in (1, 2) or arr.shape[0] == 0:
        raise FaroInputError(f"{name}: expected shape (n,) or (n, M) with n >= 1, got {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr.reshape(arr.shape[0], -1)).all(axis=1))
    if bad.size:
        raise FaroInputError(
            f"{name}: {bad.size} row(s) with NaN or infinite values, first at row {int(bad[0])}; "
            "remove or fill them"
        )
    return arr


def _weights(sample_weight: object, n: int, m: int) -> np.ndarray:
    """Weights as (n, 1) or (n, M); non-negative and finite."""
    if sample_weight is None:
        return np.ones((n, 1))
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim == 1:
        w = w[:, None]
    if w.ndim != 2 or w.shape[0] != n or w.shape[1] not in (1, m):
        raise FaroInputError(
            f"sample_weight: expected shape ({n},) or ({n}, {m}), got {np.shape(sample_weight)}"
        )
    bad = np.flatnonzero(~(np.isfinite(w) & (w >= 0)).all(axis=1))
    if bad.size:
        raise FaroInputError(
            f"sample_weight: {bad.size} row(s) negative, NaN or infinite, first at row "
            f"{int(bad[0])}; weights must be finite and >= 0"
        )
    return w


def _check_boot(n_boot: object, level: float | None = None) -> int:
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise FaroUsageError(f"n_boot: expected a positive integer, got {n_boot!r}")
    if level is not None:
        _check_level(level)
    return int(n_boot)


def _check_level(level: float) -> None:
    if not (isinstance(level, (float, int, np.floating)) and 0.0 < float(level) < 1.0):
        raise FaroUsageError(f"level: expected a number in (0, 1), got {level!r}")


def _seed(random_state: object) -> np.random.SeedSequence:
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if random_state is None or (
        isinstance(random_state, (int, np.integer))
        and not isinstance(random_state, bool)
        and random_state >= 0
    ):
        return np.random.SeedSequence(None if random_state is None else int(random_state))
    raise FaroUsageError(
        f"random_state: expected a non-negative int, a numpy SeedSequence or None, "
        f"got {random_state!r}"
    )


def _groups(sensitive_features: object, n: int) -> tuple[tuple[Hashable, ...], np.ndarray]:
    enc = encode_groups(sensitive_features, n_rows=n)  # also takes GroupCodes, 2-D columns
    return tuple(np.asarray(enc.labels).tolist()), np.asarray(enc.codes, dtype=np.intp)


def _units(g: np.ndarray, clusters: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row order (by unit), unit id of each ordered row, and the group of each unit.

    A unit is a (group, cluster) pair; units are numbered in group order.
    """
    n = g.shape[0]
    if clusters is None:
        order = np.argsort(g, kind="stable")
        return order, np.arange(n, dtype=np.intp), g[order]
    _, c = _encode(clusters, "clusters", n)
    radix = int(c.max()) + 1
    uniq, inv = np.unique(g.astype(np.int64) * radix + c, return_inverse=True)
    inv = inv.reshape(-1)
    order = np.argsort(inv, kind="stable")
    return order, inv[order], (uniq // radix).astype(np.intp)


@dataclass(frozen=True, eq=False)
class ClusterTotals:
    """Rows reduced to units, the (group, cluster) pairs, numbered in group order.

    Attributes
    ----------
    labels : tuple
        Group labels (sorted).
    sums : ndarray, shape (U, M)
        S_c = Σ_{i∈c} w_i y_i per unit and outcome.
    weights : ndarray, shape (U, 1) or (U, M)
        W_c = Σ_{i∈c} w_i (one column unless the weights are per outcome).
    bounds : ndarray, shape (K + 1,)
        Units of group k are ``bounds[k]:bounds[k + 1]``.
    n_rows : ndarray, shape (K,)
        Rows per group.
    """

    labels: tuple[Hashable, ...]
    sums: np.ndarray = field(repr=False)
    weights: np.ndarray = field(repr=False)
    bounds: np.ndarray = field(repr=False)
    n_rows: np.ndarray = field(repr=False)

    @property
    def n_clusters(self) -> np.ndarray:
        """Clusters (units) per group."""
        return np.diff(self.bounds)


def cluster_totals(
    y: object,
    *,
    sensitive_features: object,
    clusters: object = None,
    sample_weight: object = None,
) -> ClusterTotals:
    """Cluster weighted sums S_c and weights W_c per (group, cluster) unit.

    A cluster spanning several groups becomes one unit per group; ``clusters=None`` makes every
    row its own unit. ``y`` is (n,) or (n, M); ``sample_weight`` is (n,) or (n, M).
    """
    yy = _outcomes(y)
    n = yy.shape[0]
    y2 = yy.reshape(n, -1)
    w = _weights(sample_weight, n, y2.shape[1])
    labels, g = _groups(sensitive_features, n)
    order, unit, unit_group = _units(g, clusters)
    n_units = unit_group.shape[0]
    ws = w[order]
    rows = np.concatenate([y2[order] * ws, ws], axis=1)
    if unit.shape[0] == n_units:  # every row its own unit, rows already in unit order
        sums = rows
    else:
        sums = np.stack(
            [np.bincount(unit, weights=rows[:, j], minlength=n_units) for j in range(rows.shape[1])],
            axis=1,
        )
    m = y2.shape[1]
    return ClusterTotals(
        labels, _ro(sums[:, :m]), _ro(sums[:, m:]),
        _ro(np.searchsorted(unit_group, np.arange(len(labels) + 1))),
        _ro(np.bincount(g, minlength=len(labels))),
    )


# ----------------------------------------------------------------------------- engine


def _atoms(sw: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Distinct rows of ``sw`` and their counts, or None when there are too many to pay off."""
    n_units = sw.shape[0]
    limit = n_units // _ATOM_RATIO
    if limit < 2:
        return None
    key = np.zeros(n_units, dtype=np.int64)
    radix = 1
    for j in range(sw.shape[1]):
        values, code = np.unique(sw[:, j], return_inverse=True)
        if values.size > limit or radix * values.size >= 1 << 62:
            return None
        key += code.reshape(-1) * radix
        radix *= values.size
    _, first, freq = np.unique(key, return_index=True, return_counts=True)
    if first.size > limit:
        return None
    return sw[first], freq


def _chunk_sums(
    cols: np.ndarray, n_units: int, n_rep: int, seed: np.random.SeedSequence
) -> np.ndarray:
    """Σ over n_units uniform draws with replacement of each row of ``cols`` (J, n_units).

    Returns shape (n_rep, J). Few columns: gather and sum; more: bincount, then BLAS.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    idx = rng.integers(0, n_units, size=(n_rep, n_units), dtype=np.int64)
    if cols.shape[0] <= 2:
        buf = np.empty((n_rep, n_units))
        out = np.empty((n_rep, cols.shape[0]))
        for j in range(cols.shape[0]):
            np.take(cols[j], idx, out=buf)
            out[:, j] = buf.sum(axis=1)
        return out
    idx += (np.arange(n_rep, dtype=np.int64) * n_units)[:, None]
    counts = np.bincount(idx.ravel(), minlength=n_rep * n_units).reshape(n_rep, n_units)
    return counts.astype(np.float64) @ cols.T


def _group_tasks(
    sw: np.ndarray, n_boot: int, seed: np.random.SeedSequence, out: np.ndarray
) -> list[Callable[[], None]]:
    """Work items that fill ``out`` (n_boot, J) with replicate sums of one group."""
    n_units = sw.shape[0]
    atoms = _atoms(sw)
    if atoms is not None:

        def multinomial() -> None:
            rng = np.random.Generator(np.random.PCG64(seed))
            counts = rng.multinomial(n_units, atoms[1] / n_units, size=n_boot)
            out[:] = counts.astype(np.float64) @ atoms[0]

        return [multinomial]
    const = (sw == sw[:1]).all(axis=0)  # e.g. unit weights: the sum is n_units * value
    out[:, const] = n_units * sw[0, const]
    vary = np.flatnonzero(~const)
    cols = np.ascontiguousarray(sw[:, vary].T)
    per = max(1, min(n_boot, _CHUNK_DRAWS // n_units))
    starts = range(0, n_boot, per)
    seeds = seed.spawn(len(starts))

    def make(lo: int, s: np.random.SeedSequence) -> Callable[[], None]:
        def task() -> None:
            hi = min(lo + per, n_boot)
            out[lo:hi, vary] = _chunk_sums(cols, n_units, hi - lo, s)

        return task

    return [make(lo, s) for lo, s in zip(starts, seeds)]


def _run(tasks: list[Callable[[], None]], n_jobs: int | None, draws: int) -> None:
    workers = (os.cpu_count() or 1) if n_jobs is None else int(n_jobs)
    if workers < 1:
        raise FaroUsageError(f"n_jobs: expected a positive integer or None, got {n_jobs!r}")
    if workers == 1 or len(tasks) == 1 or draws < _PARALLEL_MIN_DRAWS:
        for task in tasks:
            task()
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for fut in [pool.submit(t) for t in tasks]:
            fut.result()


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
    n_boot = _check_boot(n_boot)
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
    seeds = _seed(random_state).spawn(n_groups)
    rep = np.zeros((n_boot, n_groups, sw_all.shape[1]))  # empty groups stay 0/0 = NaN
    outs = [np.zeros((n_boot, sw_all.shape[1])) for _ in range(n_groups)]
    tasks: list[Callable[[], None]] = []
    for k in range(n_groups):
        if b[k + 1] > b[k]:
            tasks += _group_tasks(np.ascontiguousarray(sw_all[b[k] : b[k + 1]]), n_boot,
                                  seeds[k], outs[k])
    _run(tasks, n_jobs, n_boot * int(tot.n_rows.sum()))
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
        tot.labels, _ro(est), _ro(reps), _ro(np.array(w_tot)), _ro(np.array(w_rep)),
        tot.n_rows, _ro(tot.n_clusters),
    )


# ----------------------------------------------------------------------------- intervals, gaps


def percentile_interval(
    replicates: object, *, level: float = 0.95
) -> tuple[float | np.ndarray, float | np.ndarray]:
    """Percentile bootstrap interval along axis 0.

    [q_{(1-level)/2}, q_{(1+level)/2}] of the replicates, quantiles by ``np.percentile``'s
    default linear interpolation (Hyndman & Fan 1996, type 7). NaN replicates (undefined, see
    module notes) are left out; an all-NaN column gives NaN.

    Parameters
    ----------
    replicates : array-like, shape (B,) or (B, ...)
    level : float
        Coverage, in (0, 1).

    Returns
    -------
    (lower, upper)
        Floats for 1-D input, else arrays of shape ``replicates.shape[1:]``.
    """
    _check_level(level)
    reps = np.asarray(replicates, dtype=np.float64)
    if reps.ndim == 0 or reps.shape[0] == 0:
        raise FaroInputError(f"replicates: expected at least one replicate, got shape {reps.shape}")
    q = [50.0 * (1.0 - level), 50.0 * (1.0 + level)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN on purpose
        lo, hi = np.nanpercentile(reps, q, axis=0)
    if reps.ndim == 1:
        return float(lo), float(hi)
    return lo, hi


def _shares(shares: object, labels: tuple[Hashable, ...]) -> np.ndarray:
    if isinstance(shares, Mapping):
        missing = [a for a in labels if a not in shares]
        if missing:
            raise FaroUsageError(f"shares: no share for group {missing[0]!r}; give every group one")
        arr = np.array([float(shares[a]) for a in labels])
    else:
        arr = np.asarray(shares, dtype=np.float64).reshape(-1)
        if arr.shape[0] != len(labels):
            raise FaroUsageError(
                f"shares: expected {len(labels)} values (one per group, in labels order), "
                f"got {arr.shape[0]}"
            )
    if not (np.isfinite(arr).all() and (arr >= 0).all() and abs(arr.sum() - 1.0) < 1e-9):
        raise FaroUsageError(f"shares: expected non-negative values summing to 1, got {arr}")
    return arr


def _gap(means: np.ndarray, pool: np.ndarray | None, method: str) -> np.ndarray:
    """Gap over the group axis (axis 1 of (B, K, ...) arrays)."""
    if method == "between_groups":
        return means.max(axis=1) - means.min(axis=1)
    return np.abs(means - np.expand_dims(pool, 1)).max(axis=1)


def bootstrap_gap(
    boot: BootstrapGroupMeans,
    *,
    method: str = "between_groups",
    shares: object = None,
    level: float = 0.95,
) -> BootstrapGap:
    """Gap between group means with a percentile interval from the same draws.

    ``between_groups``: Δ = max_a m_a − min_a m_a. ``to_overall`` (Faro's anchored gap):
    Δ = max_a |m_a − m_pool| with m_pool = Σ_a W_a m_a / Σ_a W_a, the pooled weighted mean
    (recomputed in each replicate from the drawn weights), or m_pool = Σ_a s_a m_a with the
    given ``shares`` s (SPEC §3, §5.3). Computed on the (B, K) replicate matrix. Groups without
    weight are absent; with fewer than two groups present the gap is 0 (as in ``dp_gap``).
    A gap is a maximum, so when the groups are close its replicates sit above the estimate and
    the percentile interval may not contain it: the interval describes sampling variability;
    certification uses the bounds of SPEC §5, not this.

    Parameters
    ----------
    boot : BootstrapGroupMeans
        A single-outcome result (use ``boot.outcome(j)`` for multi-outcome results).
    method : {"between_groups", "to_overall"}
    shares : array-like (K,) in ``boot.labels`` order, or mapping label → share, optional
    level : float

    Returns
    -------
    BootstrapGap
        Unpacks as ``(estimate, lower, upper, replicates)``.
    """
    if method not in GAP_METHODS:
        raise FaroUsageError(f"method: expected one of {GAP_METHODS}, got {method!r}")
    _check_level(level)
    if boot.estimate.ndim != 1:
        raise FaroUsageError(
            "boot: has several outcome columns; pick one with boot.outcome(j) before the gap"
        )
    present = boot.weight_total > 0  # labels without rows are absent, as in dp_gap
    if present.sum() < 2:  # nothing to compare: the gap is 0, as in faro_audit.metrics.parity
        zeros = np.zeros(boot.n_boot)
        return BootstrapGap(0.0, 0.0, 0.0, _ro(zeros), float(level), method)
    est, reps = boot.estimate[None, present], boot.replicates[:, present]
    pool_est = pool_rep = None
    if method == "to_overall":
        if shares is None:
            w_est, w_rep = boot.weight_total[present], boot.replicate_weights[:, present]
            pool_est = est @ w_est / w_est.sum()
            with np.errstate(invalid="ignore", divide="ignore"):
                pool_rep = np.nansum(w_rep * reps, axis=1) / w_rep.sum(axis=1)
        else:
            sh = _shares(shares, boot.labels)[present]
            pool_est, pool_rep = est @ sh / sh.sum(), reps @ sh / sh.sum()
    gap_est = float(_gap(est, pool_est, method)[0])
    gap_rep = _gap(reps, pool_rep, method)
    lo, hi = percentile_interval(gap_rep, level=level)
    return BootstrapGap(gap_est, float(lo), float(hi), _ro(gap_rep), float(level), method)


def bootstrap_eo_gap(
    boots: Mapping[Hashable, BootstrapGroupMeans],
    *,
    method: str = "between_groups",
    shares: Mapping[Hashable, object] | None = None,
    level: float = 0.95,
) -> BootstrapGap:
    """Equalized-odds gap: the DP gap within each label class, maximised over classes.

    Δ_EO = max_k Δ_k, per replicate too (SPEC §3). Each class's gap is taken over the groups of
    its own result; ``shares`` (for ``to_overall``) maps class → shares of that class.
    ``boots`` typically comes from :func:`bootstrap_class_group_means` (shared cluster draws);
    results of separate calls (a bootstrap stratified by class as well) are accepted too.
    """
    if not boots:
        raise FaroUsageError("boots: expected at least one class, got an empty mapping")
    sizes = {b.n_boot for b in boots.values()}
    if len(sizes) != 1:
        raise FaroUsageError(f"boots: classes have different n_boot {sorted(sizes)}; use one B")
    gaps = [
        bootstrap_gap(b, method=method, shares=None if shares is None else shares.get(k),
                      level=level)
        for k, b in boots.items()
    ]
    est = float(max(gp.estimate for gp in gaps))
    reps = np.max(np.stack([gp.replicates for gp in gaps]), axis=0)  # NaN propagates
    lo, hi = percentile_interval(reps, level=level)
    return BootstrapGap(est, float(lo), float(hi), _ro(reps), float(level), method)


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

    Returns
    -------
    dict
        class → BootstrapGroupMeans (outcome columns as in ``y_score``).
    """
    ys = _outcomes(y_score, "y_score")
    n = ys.shape[0]
    y2 = ys.reshape(n, -1)
    m = y2.shape[1]
    classes, t = _encode(y_true, "y_true", n)
    w = _weights(sample_weight, n, 1)
    if w.shape[1] != 1:
        raise FaroInputError("sample_weight: expected one weight per row (shape (n,))")
    onehot = (t[:, None] == np.arange(len(classes))[None, :]).astype(np.float64) * w
    big = bootstrap_group_means(
        np.tile(y2, (1, len(classes))), sensitive_features=sensitive_features,
        clusters=clusters, sample_weight=np.repeat(onehot, m, axis=1), n_boot=n_boot,
        random_state=random_state, n_jobs=n_jobs,
    )
    _, g = _groups(sensitive_features, n)
    out: dict[Hashable, BootstrapGroupMeans] = {}
    for k, cls in enumerate(classes):
        cols: slice | int = slice(k * m, (k + 1) * m) if ys.ndim == 2 else k * m
        keep = np.flatnonzero(big.weight_total[:, k * m] > 0)
        rows = np.bincount(g[t == k], minlength=len(big.labels))[keep]
        out[cls] = BootstrapGroupMeans(
            tuple(big.labels[i] for i in keep), _ro(big.estimate[keep][:, cols]),
            _ro(big.replicates[:, keep][:, :, cols]), _ro(big.weight_total[keep][:, cols]),
            _ro(big.replicate_weights[:, keep][:, :, cols]), _ro(rows),
            _ro(big.n_clusters[keep]),
        )
    return out


# ----------------------------------------------------------------------------- any statistic


def bootstrap_statistic(
    values: object,
    *,
    statistic: Callable[..., float],
    sensitive_features: object = None,
    clusters: object = None,
    sample_weight: object = None,
    n_boot: int = 1000,
    random_state: int | np.random.SeedSequence | None = 0,
) -> BootstrapGroupStatistic:
    """Clustered, group-stratified bootstrap of any statistic of the rows (e.g. the median).

    As :func:`bootstrap_group_means`, clusters are drawn with replacement within each group;
    the statistic is applied to the rows of the drawn clusters (a cluster drawn twice enters
    twice): ``statistic(values)``, or ``statistic(values, weights)`` when ``sample_weight`` is
    given. This loops over replicates in Python (O(B · n) work), so use it only for statistics
    that cannot be written as means: a mean, or a variance via the means of y and y², belongs in
    :func:`bootstrap_group_means`, which is vectorised.

    Parameters
    ----------
    values : array-like, shape (n,)
    statistic : callable
        Returns a float from a 1-D array (and weights).
    sensitive_features : array-like, shape (n,), optional
        None: one group holding every row (label ``None``).
    clusters, sample_weight, n_boot, random_state
        As in :func:`bootstrap_group_means`.
    """
    n_boot = _check_boot(n_boot)
    v = _outcomes(values, "values")
    if v.ndim != 1:
        raise FaroInputError(f"values: expected shape (n,), got {v.shape}")
    n = v.shape[0]
    w = None if sample_weight is None else _weights(sample_weight, n, 1)[:, 0]
    if sensitive_features is None:
        labels, g = (None,), np.zeros(n, dtype=np.intp)
    else:
        labels, g = _groups(sensitive_features, n)
    order, unit, unit_group = _units(g, clusters)
    vs, ws = v[order], None if w is None else w[order]
    starts = np.searchsorted(unit, np.arange(unit_group.shape[0] + 1))
    bounds = np.searchsorted(unit_group, np.arange(len(labels) + 1))

    def apply(rows: np.ndarray) -> float:
        return float(statistic(vs[rows]) if ws is None else statistic(vs[rows], ws[rows]))

    seeds = _seed(random_state).spawn(len(labels))
    est = np.empty(len(labels))
    reps = np.empty((n_boot, len(labels)))
    for k in range(len(labels)):
        u0, u1 = int(bounds[k]), int(bounds[k + 1])
        if u1 == u0:  # a label without rows (possible with GroupCodes)
            est[k], reps[:, k] = np.nan, np.nan
            continue
        est[k] = apply(np.arange(starts[u0], starts[u1]))
        first, length = starts[u0:u1], np.diff(starts[u0 : u1 + 1])
        rng = np.random.Generator(np.random.PCG64(seeds[k]))
        for b in range(n_boot):  # statistic is arbitrary: not vectorisable in general
            idx = rng.integers(0, u1 - u0, size=u1 - u0)
            size = length[idx]
            rows = np.repeat(first[idx] - (np.cumsum(size) - size), size) + np.arange(size.sum())
            reps[b, k] = apply(rows)
    return BootstrapGroupStatistic(
        labels, _ro(est), _ro(reps), _ro(np.bincount(g, minlength=len(labels))),
        _ro(np.diff(bounds)),
    )
