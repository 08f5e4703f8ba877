"""Input checks, cluster reduction and the resampling engine of :mod:`faro_audit.stats.bootstrap`.

* Input checks: labels (:func:`_encode`, missing values are an error), outcomes, weights,
  ``n_boot``, ``level`` and ``random_state``, each raising a one-line
  :class:`~faro_audit.errors.FaroInputError` / :class:`~faro_audit.errors.FaroUsageError`.
* Cluster reduction (:func:`cluster_totals`): rows become units, the (group, cluster) pairs,
  with weighted sums S_c = Σ_{i∈c} w_i y_i and weights W_c = Σ_{i∈c} w_i.
* Engine: the replicate sums Σ_{c ∈ draw} (S_c, W_c) of n_a clusters drawn uniformly with
  replacement within one group, either through the multinomial law of the distinct (S_c, W_c)
  rows ("atoms") or by drawing cluster indices in chunks (gather-and-sum, or ``np.bincount``
  then BLAS); see the notes of :mod:`faro_audit.stats.bootstrap`, which owns the tuning
  constants and passes them in (Davison & Hinkley 1997, §3.8).

Private module: the public names are re-exported by :mod:`faro_audit.stats.bootstrap`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.metrics.groups import encode_groups

__all__ = ["ClusterTotals", "cluster_totals"]


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


def _atoms(sw: np.ndarray, atom_ratio: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Distinct rows of ``sw`` and their counts, or None when there are more than
    ``n_units // atom_ratio`` (too many to pay off)."""
    n_units = sw.shape[0]
    limit = n_units // atom_ratio
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
    sw: np.ndarray,
    n_boot: int,
    seed: np.random.SeedSequence,
    out: np.ndarray,
    *,
    atom_ratio: int,
    chunk_draws: int,
) -> list[Callable[[], None]]:
    """Work items that fill ``out`` (n_boot, J) with replicate sums of one group.

    The multinomial path is used when the group has at most ``n_units // atom_ratio`` atoms;
    otherwise replicates are drawn in chunks of about ``chunk_draws`` cluster draws.
    """
    n_units = sw.shape[0]
    atoms = _atoms(sw, atom_ratio)
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
    per = max(1, min(n_boot, chunk_draws // n_units))
    starts = range(0, n_boot, per)
    seeds = seed.spawn(len(starts))

    def make(lo: int, s: np.random.SeedSequence) -> Callable[[], None]:
        def task() -> None:
            hi = min(lo + per, n_boot)
            out[lo:hi, vary] = _chunk_sums(cols, n_units, hi - lo, s)

        return task

    return [make(lo, s) for lo, s in zip(starts, seeds)]


def _run(
    tasks: list[Callable[[], None]], n_jobs: int | None, draws: int, *, parallel_min_draws: int
) -> None:
    """Run ``tasks`` on ``n_jobs`` threads (all CPUs when None); on one thread when there is
    one task or fewer than ``parallel_min_draws`` cluster draws in total."""
    workers = (os.cpu_count() or 1) if n_jobs is None else int(n_jobs)
    if workers < 1:
        raise FaroUsageError(f"n_jobs: expected a positive integer or None, got {n_jobs!r}")
    if workers == 1 or len(tasks) == 1 or draws < parallel_min_draws:
        for task in tasks:
            task()
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for fut in [pool.submit(t) for t in tasks]:
            fut.result()
