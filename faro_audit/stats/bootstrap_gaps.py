"""Percentile intervals, and gaps with simultaneous max-t intervals (SPEC §3, §4; description only).

:func:`percentile_interval` is the percentile interval of replicates (Efron & Tibshirani 1993,
§13.3), for smooth statistics (group means, pooled means). A demographic-parity gap is a
*maximum* (max − min, max |·|): its plug-in estimate is biased upward near 0, and the percentile
interval of its replicates never covers a true gap of 0 (SPEC §4). :func:`bootstrap_gap` and
:func:`bootstrap_eo_gap` therefore bootstrap the *signed contrasts* the gap is the largest
absolute value of (m_a − m_b for a < b, or m_a − m_pool), give them simultaneous intervals with a
max-|t| critical value (:func:`max_t_intervals`; Romano & Wolf 2005) and read the gap's interval
off those. Both take the (B, K) replicate matrix of group means of
:func:`faro_audit.stats.bootstrap.bootstrap_group_means`. These intervals are descriptive;
certification uses the bounds of SPEC §5 (:mod:`faro_audit.stats.certificates`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.stats.checks import check_level, read_only
from faro_audit.vocabulary import GAP_METHODS as VOCABULARY_GAP_METHODS

if TYPE_CHECKING:
    from faro_audit.stats.bootstrap import BootstrapGroupMeans

__all__ = [
    "GAP_INTERVAL_KIND",
    "GAP_METHODS",
    "BootstrapGap",
    "GapContrasts",
    "bootstrap_eo_gap",
    "bootstrap_gap",
    "max_t_intervals",
    "percentile_interval",
]

GAP_METHODS = VOCABULARY_GAP_METHODS  # the vocabulary's; importable here as before
GAP_INTERVAL_KIND = "simultaneous max-t bootstrap (descriptive)"
_SD_RTOL = 1e-12  # a bootstrap sd at most this (relative to the values' scale) counts as 0


@dataclass(frozen=True, eq=False)
class GapContrasts:
    """The signed contrasts behind a gap, with their simultaneous intervals.

    ``names`` are ``"a - b"`` (between groups) or ``"a - pooled"`` (to the pooled mean),
    prefixed by ``"<class>: "`` for an EO gap; arrays have one entry per contrast.
    """

    names: tuple[str, ...]
    estimate: np.ndarray
    sd: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


@dataclass(frozen=True, eq=False)
class BootstrapGap:
    """A gap, its interval and its replicates; unpacks as (estimate, lo, hi, reps).

    ``estimate`` is the plug-in gap. ``lower``/``upper`` is the gap's interval of kind
    :data:`GAP_INTERVAL_KIND` ("simultaneous max-t bootstrap (descriptive)"), derived from the
    simultaneous intervals of the signed contrasts in ``contrasts`` with critical value
    ``critical_value`` (see :func:`bootstrap_gap`). ``replicates`` are the bootstrap
    replicates of the plug-in gap itself, kept for reference: their percentile interval is
    *not* the reported interval (it is biased upward and misses a true gap of 0).
    """

    estimate: float
    lower: float
    upper: float
    replicates: np.ndarray = field(repr=False)
    level: float
    method: str
    kind: str = GAP_INTERVAL_KIND
    critical_value: float = math.nan
    contrasts: GapContrasts | None = field(default=None, repr=False)

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
    check_level(level)
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


def max_t_intervals(
    estimate: object, replicates: object, *, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Simultaneous bootstrap intervals for C contrasts with a max-|t| critical value.

    With the contrasts' estimates d_j, bootstrap replicates d*_j and bootstrap standard
    deviations sd_j (``ddof=1``, over the defined replicates), the critical value c is the
    ``level`` quantile (``method="higher"``: the order statistic at or above it) of

        T* = max_j |d*_j − d_j| / sd_j

    over the replicates, and the intervals [d_j − c·sd_j, d_j + c·sd_j] cover all C contrasts
    together with probability ≈ ``level`` (the single-step max-t method of Romano & Wolf 2005,
    "Exact and approximate stepdown methods for multiple hypothesis testing", JASA 100,
    §3–4; studentised by the bootstrap standard error, Efron & Tibshirani 1993, §6 and §12).

    Degenerate cases: a contrast with sd_j = 0 (its replicates are all equal, up to float
    round-off: sd_j ≤ 1e-12·max(1, largest |value|) counts as 0) has the point
    d_j as its interval and takes no part in T*; with no contrast of positive sd, c = 0. A
    contrast with fewer than two defined (non-NaN) replicates has NaN bounds. NaN replicates of
    a contrast are left out of that contrast's sd and of T* (the maximum over the contrasts
    defined in the replicate); replicates with no defined contrast are left out of c.

    Parameters
    ----------
    estimate : array-like, shape (C,)
    replicates : array-like, shape (B, C)
    level : float
        Simultaneous coverage, in (0, 1).

    Returns
    -------
    (lower, upper, sd, c)
        Arrays of shape (C,) and the critical value.
    """
    check_level(level)
    d = np.asarray(estimate, dtype=np.float64).reshape(-1)
    reps = np.asarray(replicates, dtype=np.float64)
    if reps.ndim != 2 or reps.shape[1] != d.size:
        raise FaroInputError(
            f"replicates: expected shape (B, {d.size}) to match the estimates, got {reps.shape}"
        )
    if reps.shape[0] == 0:
        raise FaroInputError("replicates: expected at least one replicate, got none")
    if d.size == 0:
        empty = np.empty(0)
        return empty, empty, empty, math.nan
    finite = np.isfinite(reps)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # columns with < 2 defined replicates
        sd = np.nanstd(reps, axis=0, ddof=1)
        sd[finite.sum(axis=0) < 2] = np.nan
        # float round-off of equal replicates (a sum over clusters of a constant) is not spread
        scale = np.fmax(np.abs(d), np.nanmax(np.abs(np.where(finite, reps, 0.0)), axis=0))
        sd[sd <= _SD_RTOL * np.fmax(scale, 1.0)] = 0.0
        live = np.isfinite(sd) & (sd > 0)
        c = 0.0
        if live.any():
            t = np.abs(reps[:, live] - d[live]) / sd[live]
            tmax = np.nanmax(t, axis=1)
            tmax = tmax[np.isfinite(tmax)]
            if tmax.size:
                c = float(np.quantile(tmax, level, method="higher"))
            else:
                c = math.nan
    half = np.where(live, c * np.where(live, sd, 0.0), 0.0)
    half[~np.isfinite(sd)] = np.nan
    return d - half, d + half, sd, c


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


@dataclass(frozen=True)
class _ClassGap:
    """One class's plug-in gap, its replicates and its signed contrasts (C may be 0)."""

    estimate: float
    replicates: np.ndarray
    names: tuple[str, ...]
    contrast: np.ndarray  # (C,)
    contrast_reps: np.ndarray  # (B, C)


def _class_gap(boot: BootstrapGroupMeans, method: str, shares: object, prefix: str) -> _ClassGap:
    if method not in GAP_METHODS:
        raise FaroUsageError(f"method: expected one of {GAP_METHODS}, got {method!r}")
    if boot.estimate.ndim != 1:
        raise FaroUsageError(
            "boot: has several outcome columns; pick one with boot.outcome(j) before the gap"
        )
    present = boot.weight_total > 0  # labels without rows are absent, as in dp_gap
    if present.sum() < 2:  # nothing to compare: the gap is 0, as in faro_audit.metrics.parity
        return _ClassGap(0.0, np.zeros(boot.n_boot), (), np.empty(0), np.empty((boot.n_boot, 0)))
    labels = [boot.labels[i] for i in np.flatnonzero(present)]
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
    if method == "between_groups":
        i, j = np.triu_indices(len(labels), 1)
        names = tuple(f"{prefix}{labels[a]} - {labels[b]}" for a, b in zip(i, j))
        d, d_rep = est[0, i] - est[0, j], reps[:, i] - reps[:, j]
    else:
        names = tuple(f"{prefix}{a} - pooled" for a in labels)
        d, d_rep = est[0] - pool_est[0], reps - pool_rep[:, None]
    return _ClassGap(gap_est, gap_rep, names, d, d_rep)


def _combine(parts: list[_ClassGap], estimate: float, replicates: np.ndarray, level: float,
             method: str) -> BootstrapGap:
    """Gap interval from the simultaneous intervals of all contrasts of all classes."""
    names = tuple(n for p in parts for n in p.names)
    d = np.concatenate([p.contrast for p in parts])
    d_rep = np.concatenate([p.contrast_reps for p in parts], axis=1)
    if d.size == 0:  # fewer than two groups in every class: no interval
        return BootstrapGap(estimate, math.nan, math.nan, read_only(replicates), float(level), method)
    if d_rep.shape[0] == 0:
        raise FaroInputError("boot: has no replicates (n_boot = 0); an interval needs some")
    lo, hi, sd, c = max_t_intervals(d, d_rep, level=level)
    # Every contrast in its interval ⇒ the gap max_j |d_j| lies in [lower, upper]: the lower end
    # is the largest |d_j| that all intervals force, the upper the largest |d_j| they allow.
    lower = float(max(0.0, np.max(np.maximum(lo, -hi))))
    upper = float(np.max(np.maximum(np.abs(lo), np.abs(hi))))
    contrasts = GapContrasts(names, read_only(d), read_only(sd), read_only(lo), read_only(hi))
    return BootstrapGap(estimate, lower, upper, read_only(replicates), float(level), method,
                        critical_value=c, contrasts=contrasts)


def bootstrap_gap(
    boot: BootstrapGroupMeans,
    *,
    method: str = "between_groups",
    shares: object = None,
    level: float = 0.95,
) -> BootstrapGap:
    """Gap between group means with a simultaneous max-t bootstrap interval (descriptive).

    ``between_groups``: Δ = max_a m_a − min_a m_a = max_{a<b} |d_ab|, d_ab = m_a − m_b.
    ``to_overall`` (Faro's anchored gap): Δ = max_a |d_a|, d_a = m_a − m_pool, with
    m_pool = Σ_a W_a m_a / Σ_a W_a the pooled weighted mean (recomputed in each replicate from
    the drawn weights), or m_pool = Σ_a s_a m_a with the given ``shares`` s (SPEC §3, §5.3).
    The estimate is the plug-in gap. Groups without weight are absent; with fewer than two
    groups present the gap is 0 (as in ``dp_gap``) and the interval is NaN.

    The interval (kind :data:`GAP_INTERVAL_KIND`) is not the percentile interval of the gap's
    replicates: a maximum is biased upward near 0, so that interval never covers a true gap of
    0 (SPEC §4). Instead the signed contrasts d_j are bootstrapped from the same draws and given
    simultaneous intervals [lo_j, hi_j] = [d_j − c·sd_j, d_j + c·sd_j] with the max-|t|
    critical value c of :func:`max_t_intervals` (Romano & Wolf 2005; Efron & Tibshirani 1993,
    *An Introduction to the Bootstrap*, §12–13). If every contrast lies in its interval, then

        max(0, max_j max(lo_j, −hi_j))  ≤  Δ  ≤  max_j max(|lo_j|, |hi_j|),

    which is the reported interval: it covers the true gap at least as often as the contrast
    intervals cover jointly (≈ ``level``), also at a true gap of 0, where its lower end is 0
    whenever every contrast interval holds 0. It always contains the estimate. Descriptive
    only: certification uses the bounds of SPEC §5, not this.

    Parameters
    ----------
    boot : BootstrapGroupMeans
        A single-outcome result (use ``boot.outcome(j)`` for multi-outcome results).
    method : {"between_groups", "to_overall"}
    shares : array-like (K,) in ``boot.labels`` order, or mapping label → share, optional
    level : float
        Simultaneous coverage of the contrasts, in (0, 1).

    Returns
    -------
    BootstrapGap
        Unpacks as ``(estimate, lower, upper, replicates)``; ``replicates`` are those of the
        plug-in gap, ``contrasts`` the signed contrasts with their intervals.

    References
    ----------
    Romano, J. P. & Wolf, M. (2005). Exact and approximate stepdown methods for multiple
    hypothesis testing. *JASA* 100(469), 94–108.
    Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*. Chapman & Hall.
    """
    if method not in GAP_METHODS:
        raise FaroUsageError(f"method: expected one of {GAP_METHODS}, got {method!r}")
    check_level(level)
    part = _class_gap(boot, method, shares, "")
    return _combine([part], part.estimate, part.replicates, level, method)


def bootstrap_eo_gap(
    boots: Mapping[Hashable, BootstrapGroupMeans],
    *,
    method: str = "between_groups",
    shares: Mapping[Hashable, object] | None = None,
    level: float = 0.95,
) -> BootstrapGap:
    """Equalized-odds gap: the DP gap within each label class, maximised over classes.

    Δ_EO = max_k Δ_k (SPEC §3), the plug-in estimate; ``replicates`` are max_k of the classes'
    gap replicates (NaN propagates). Each class's gap is taken over the groups of its own
    result; ``shares`` (for ``to_overall``) maps class → shares of that class. The interval is
    the simultaneous max-t bootstrap interval of :func:`bootstrap_gap` with the critical value
    computed *jointly* over all contrasts of all classes (T* is the maximum over every class's
    contrasts in a replicate), so Δ_EO = max over all of them of |d_j| gets the same
    guarantee. Classes with fewer than two groups contribute no contrast; with none left the
    interval is NaN. ``boots`` typically comes from :func:`bootstrap_class_group_means` (shared
    cluster draws); results of separate calls (a bootstrap stratified by class as well) are
    accepted too (replicate b of each class then forms the joint replicate b).

    Parameters
    ----------
    boots : mapping class → BootstrapGroupMeans
        One single-outcome result per label class, all with the same B.
    method : {"between_groups", "to_overall"}
        :data:`faro_audit.vocabulary.GAP_METHODS`.
    shares : mapping class → shares, optional
        Group shares of the pooled mean per class (``to_overall``); default each class's
        weight shares.
    level : float
        Confidence level 1 − α of the simultaneous interval.

    Returns
    -------
    BootstrapGap
        Δ_EO, its simultaneous max-t interval (descriptive), replicates and the contrasts.
    """
    if not boots:
        raise FaroUsageError("boots: expected at least one class, got an empty mapping")
    if method not in GAP_METHODS:
        raise FaroUsageError(f"method: expected one of {GAP_METHODS}, got {method!r}")
    check_level(level)
    sizes = {b.n_boot for b in boots.values()}
    if len(sizes) != 1:
        raise FaroUsageError(f"boots: classes have different n_boot {sorted(sizes)}; use one B")
    parts = [
        _class_gap(b, method, None if shares is None else shares.get(k), f"{k}: ")
        for k, b in boots.items()
    ]
    est = float(max(p.estimate for p in parts))
    reps = np.max(np.stack([p.replicates for p in parts]), axis=0)  # NaN propagates
    return _combine(parts, est, reps, level, method)
