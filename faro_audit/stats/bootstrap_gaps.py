"""Percentile intervals and gaps from bootstrap replicates (SPEC §3, §4; description only).

:func:`percentile_interval` is the percentile interval of replicates (Efron & Tibshirani 1993,
§13.3); :func:`bootstrap_gap` turns the (B, K) replicate matrix of group means of
:func:`faro_audit.stats.bootstrap.bootstrap_group_means` into replicates of the demographic
parity gap (between groups, or to the pooled mean), and :func:`bootstrap_eo_gap` takes the
maximum over label classes (equalized odds). Certification uses the bounds of SPEC §5
(:mod:`faro_audit.stats.certificates`), not these intervals.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.stats._resample import _check_level, _ro

if TYPE_CHECKING:
    from faro_audit.stats.bootstrap import BootstrapGroupMeans

__all__ = [
    "GAP_METHODS",
    "BootstrapGap",
    "bootstrap_eo_gap",
    "bootstrap_gap",
    "percentile_interval",
]

GAP_METHODS = ("between_groups", "to_overall")


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


def percentile_interval(
    replicates: object, *, level: float = 0.95
) -> tuple[float | np.ndarray, float | np.ndarray]:
    """Percentile bootstrap interval along axis 0.

    [q_{(1-level)/2}, q_{(1+level)/2}] of the replicates, quantiles by ``np.percentile``'s
    default linear interpolation (Hyndman & Fan 1996, type 7). NaN replicates (undefined, see
    :mod:`faro_audit.stats.bootstrap`) are left out; an all-NaN column gives NaN.

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
