"""Cluster reduction and the resampling engine of :mod:`faro_audit.stats.bootstrap`.

* Cluster reduction (:func:`cluster_totals`): rows become units, the (group, cluster) pairs,
  with weighted sums S_c = Σ_{i∈c} w_i y_i and weights W_c = Σ_{i∈c} w_i.
* Engine (:func:`group_tasks`, :func:`run_tasks`): the replicate sums Σ_{c ∈ draw} (S_c, W_c)
  of n_a clusters drawn uniformly with replacement within one group, either through the
  multinomial law of the distinct (S_c, W_c) rows ("atoms") or by drawing cluster indices in
  chunks (gather-and-sum, or ``np.bincount`` then BLAS); see the notes of
  :mod:`faro_audit.stats.bootstrap`, which owns the tuning constants and passes them in
  (Davison & Hinkley 1997, §3.8).

The input checks are :mod:`faro_audit.stats.checks`'.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from faro_audit.errors import FaroUsageError
from faro_audit.stats.checks import (
    check_outcomes,
    check_weights,
    encode_group_column,
    encode_labels,
    read_only,
)

__all__ = ["ClusterTotals", "cluster_totals", "cluster_units", "group_tasks", "run_tasks"]


def cluster_units(g: np.ndarray, clusters: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row order (by unit), unit id of each ordered row, and the group of each unit.

    A unit is a (group, cluster) pair; units are numbered in group order.

    Parameters
    ----------
    g : ndarray of intp, shape (n,)
        Group code per row.
    clusters : array-like of shape (n,) or None
        Cluster id per row; None makes every row its own unit.

    Returns
    -------
    (order, unit, unit_group) : tuple of ndarray
        ``order`` sorts the rows by unit, ``unit[i]`` is the unit of row ``order[i]``, and
        ``unit_group[u]`` the group of unit u (non-decreasing).
    """
    n = g.shape[0]
    if clusters is None:
        order = np.argsort(g, kind="stable")
        return order, np.arange(n, dtype=np.intp), g[order]
    _, c = encode_labels(clusters, "clusters", n)
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
    row its own unit.

    Parameters
    ----------
    y : array-like of shape (n,) or (n, M)
        Outcomes.
    sensitive_features : array-like
        Group per row (:func:`encode_group_column`).
    clusters : array-like of shape (n,), optional
        Cluster id per row.
    sample_weight : array-like of shape (n,) or (n, M), optional
        Row weights w_i.

    Returns
    -------
    ClusterTotals
        S_c = Σ_{i∈c} w_i y_i and W_c = Σ_{i∈c} w_i per unit c, in group order.
    """
    yy = check_outcomes(y)
    n = yy.shape[0]
    y2 = yy.reshape(n, -1)
    w = check_weights(sample_weight, n, y2.shape[1])
    labels, g = encode_group_column(sensitive_features, n)
    order, unit, unit_group = cluster_units(g, clusters)
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
        labels, read_only(sums[:, :m]), read_only(sums[:, m:]),
        read_only(np.searchsorted(unit_group, np.arange(len(labels) + 1))),
        read_only(np.bincount(g, minlength=len(labels))),
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


def group_tasks(
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

    Parameters
    ----------
    sw : ndarray of shape (n_units, J)
        The group's unit rows (S_c and W_c columns).
    n_boot : int
        Replicates.
    seed : numpy.random.SeedSequence
        The group's seed (spawned per chunk).
    out : ndarray of shape (n_boot, J)
        Filled in place with Σ_{c ∈ draw} sw_c over n_units draws with replacement.
    atom_ratio, chunk_draws : int
        Tuning (owned by :mod:`faro_audit.stats.bootstrap`).

    Returns
    -------
    list of callables
        Each fills its part of ``out``; run them with :func:`run_tasks`.
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


def run_tasks(
    tasks: list[Callable[[], None]], n_jobs: int | None, draws: int, *, parallel_min_draws: int
) -> None:
    """Run ``tasks`` on ``n_jobs`` threads (all CPUs when None); on one thread when there is
    one task or fewer than ``parallel_min_draws`` cluster draws in total.

    Parameters
    ----------
    tasks : list of callables
        From :func:`group_tasks`.
    n_jobs : int or None
        Threads.
    draws : int
        Cluster draws in total (decides whether threads pay off).
    parallel_min_draws : int
        Below this many draws, one thread.

    Raises
    ------
    FaroUsageError
        ``n_jobs`` below 1.
    """
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
