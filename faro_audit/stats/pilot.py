"""What a pilot says about one gap: the inputs of :func:`faro_audit.stats.planning.plan_constraint`.

:func:`pilot_estimates` and :func:`cf_pilot_estimates` turn pilot outcomes (numpy arrays) into
the gap g, standard deviation σ, intra-cluster correlation ρ and cluster size m a plan needs
(SPEC §5.8). Pure: arrays in, a frozen :class:`PilotEstimate` out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from faro_audit.errors import FaroInputError

__all__ = ["PilotEstimate", "cf_pilot_estimates", "pilot_estimates"]


@dataclass(frozen=True)
class PilotEstimate:
    """What a pilot says about one gap: the inputs of :func:`plan_constraint`.

    Attributes
    ----------
    gap : float
        Estimated gap (between groups or anchored; paired: the largest |mean contrast|). A
        max-type estimate is biased upward near 0, which makes a certification plan
        conservative.
    sd : float
        Pooled within-group standard deviation of the outcome (paired: the largest standard
        deviation of a within-set contrast).
    icc, cluster_size : float
        One-way ANOVA intra-cluster correlation (clusters within groups, clipped to [0, 1])
        and the size-weighted mean cluster size Σ m_c² / Σ m_c (1 and 0 without clusters).
    n_groups : int
    group_means : dict
        group label → weighted row mean.
    group_rows : dict
        group label → rows.
    design : {"paired", "unpaired"}
    n_sets : int
        Complete twin sets (paired only; else 0).
    saturated_share : float or None
        Share of values below 0.001 or above 0.999 (soft outcomes; None when not computed).
    """

    gap: float
    sd: float
    icc: float
    cluster_size: float
    n_groups: int
    group_means: dict[str, float]
    group_rows: dict[str, int]
    design: str
    n_sets: int = 0
    saturated_share: float | None = None


def _icc(values: np.ndarray, groups: np.ndarray, clusters: np.ndarray) -> tuple[float, float]:
    """(ρ, m): one-way ANOVA ICC of clusters nested in groups, and Σ m_c² / Σ m_c."""
    n = values.size
    cell = np.unique(np.column_stack([groups, clusters]), axis=0, return_inverse=True)[1].ravel()
    n_cells = int(cell.max()) + 1
    size = np.bincount(cell, minlength=n_cells).astype(float)
    m = float(np.sum(size**2) / n)
    if n_cells == n:
        return 0.0, 1.0
    n_groups = np.unique(groups).size
    if n_cells <= n_groups:  # one cluster per group: ρ cannot be estimated; assume the worst
        return 1.0, m
    cmean = np.bincount(cell, weights=values, minlength=n_cells) / size
    g_of_cell = np.zeros(n_cells, dtype=np.int64)
    g_of_cell[cell] = groups
    gsum = np.bincount(groups, weights=values)
    gn = np.bincount(groups).astype(float)
    gmean = gsum / np.where(gn > 0, gn, 1.0)
    ssw = float(np.sum((values - cmean[cell]) ** 2))
    ssb = float(np.sum(size * (cmean - gmean[g_of_cell]) ** 2))
    msw = ssw / max(n - n_cells, 1)
    msb = ssb / (n_cells - n_groups)
    m0 = (n - float(np.sum(size**2 / gn[g_of_cell]))) / (n_cells - n_groups)
    denom = msb + (m0 - 1.0) * msw
    rho = 0.0 if denom <= 0 else (msb - msw) / denom
    return float(min(max(rho, 0.0), 1.0)), m


def pilot_estimates(
    values: ArrayLike,
    groups: ArrayLike,
    *,
    method: str = "between_groups",
    clusters: ArrayLike | None = None,
    weight: ArrayLike | None = None,
    twin_ids: ArrayLike | None = None,
    soft: bool = False,
) -> PilotEstimate:
    """Gap, σ, ρ and m of a pilot, for one outcome and one attribute.

    Parameters
    ----------
    values : array-like of shape (n,)
        Row outcomes in [0, 1].
    groups : array-like of shape (n,)
        Group label per row.
    method : {"between_groups", "to_overall"}
    clusters : array-like, optional
        Cluster id per row (prompts, ``cluster_id``); clusters are split by group.
    weight : array-like, optional
        Row weights (the gap and σ are weighted; ρ is unweighted).
    twin_ids : array-like, optional
        ``cf_id`` per row. When every twin set holds each group exactly once (and the rows
        are unweighted), the estimate is for the paired design: gap and σ of the within-set
        contrasts (ρ = 0, m = 1: sets are taken as independent).
    soft : bool
        Also measure the share of saturated values (SPEC §2).

    Returns
    -------
    PilotEstimate
        Gap, pooled sd, ICC and cluster size (paired: of the within-set contrasts).
    """
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise FaroInputError("pilot: no outcomes to estimate from")
    if not np.all(np.isfinite(x)):
        raise FaroInputError("pilot: outcomes must be finite")
    labels, codes = np.unique(np.asarray(groups).astype(str), return_inverse=True)
    codes = codes.ravel()
    k = labels.size
    if k < 2:
        raise FaroInputError(f"pilot: only one group ({labels[0]!r}); a gap needs at least two")
    w = np.ones(x.size) if weight is None else np.asarray(weight, dtype=np.float64)
    wsum = np.bincount(codes, weights=w, minlength=k)
    if np.any(wsum <= 0):
        raise FaroInputError("pilot: a group has no weight; every group needs rows with weight > 0")
    means = np.bincount(codes, weights=w * x, minlength=k) / wsum
    rows = np.bincount(codes, minlength=k)
    shares = wsum / wsum.sum()
    sat = float(np.mean((x < 1e-3) | (x > 1 - 1e-3))) if soft else None
    gm = {str(lab): float(v) for lab, v in zip(labels, means)}
    gr = {str(lab): int(v) for lab, v in zip(labels, rows)}
    paired = _paired_contrasts(x, codes, k, twin_ids, weight, method, shares)
    if paired is not None:
        contrasts, n_sets = paired
        gap = max(abs(float(np.mean(cv))) for cv in contrasts)
        sd = max(float(np.std(cv, ddof=1)) if cv.size > 1 else 1.0 for cv in contrasts)
        return PilotEstimate(gap, min(sd, 1.0), 0.0, 1.0, k, gm, gr, "paired", n_sets, sat)
    if method == "between_groups":
        gap = float(means.max() - means.min())
    else:
        gap = float(np.max(np.abs(means - np.dot(shares, means))))
    resid = x - means[codes]
    dof = max(float(w.sum()) * (1.0 - k / x.size), 1e-12) if x.size > k else float(w.sum())
    sd = math.sqrt(float(np.sum(w * resid**2)) / dof)
    if clusters is None:
        rho, m = 0.0, 1.0
    else:
        cl = np.unique(np.asarray(clusters).astype(str), return_inverse=True)[1].ravel()
        rho, m = _icc(x, codes, cl)
    return PilotEstimate(gap, min(sd, 0.5), rho, m, k, gm, gr, "unpaired", 0, sat)


def _paired_contrasts(x: np.ndarray, codes: np.ndarray, k: int, twin_ids: ArrayLike | None,
                      weight: ArrayLike | None, method: str,
                      shares: np.ndarray) -> tuple[list[np.ndarray], int] | None:
    """Within-set contrasts when every twin set holds each group once, else None."""
    if twin_ids is None:
        return None
    if weight is not None and not np.all(np.asarray(weight) == np.asarray(weight).ravel()[0]):
        return None
    sets = np.unique(np.asarray(twin_ids).astype(str), return_inverse=True)[1].ravel()
    n_sets = int(sets.max()) + 1
    counts = np.zeros((n_sets, k), dtype=np.int64)
    np.add.at(counts, (sets, codes), 1)
    if n_sets < 2 or not np.all(counts == 1):
        return None
    o = np.zeros((n_sets, k))
    o[sets, codes] = x
    if method == "between_groups":
        out = [o[:, a] - o[:, b] for a in range(k) for b in range(a + 1, k)]
    else:
        pooled = o @ np.full(k, 1.0 / k)
        out = [o[:, a] - pooled for a in range(k)]
    return out, n_sets


def cf_pilot_estimates(spreads: ArrayLike) -> PilotEstimate:
    """Mean and sd of a pilot's twin-set spreads s_k (the cf gap and its σ).

    Parameters
    ----------
    spreads : array-like of shape (n_sets,)
        s_k = max − min of the outcome within twin set k, at least two sets.

    Returns
    -------
    PilotEstimate
        gap = mean_k s_k, sd = min(sd_k s_k, ½), design ``twin-set spreads``.
    """
    s = np.asarray(spreads, dtype=np.float64)
    if s.ndim != 1 or s.size < 2:
        raise FaroInputError("pilot: a cf plan needs at least two twin sets with two or more rows")
    return PilotEstimate(float(s.mean()), min(float(np.std(s, ddof=1)), 0.5), 0.0, 1.0, 1,
                         {"twin sets": float(s.mean())}, {"twin sets": int(s.size)}, "twin-set spreads",
                         int(s.size), None)
