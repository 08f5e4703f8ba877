"""Descriptive intervals (SPEC §4) for the audit: one clustered, group-stratified bootstrap per
outcome matrix. Group means and pooled means (smooth statistics) get percentile intervals; DP/EO
gaps (maxima, biased upward near 0) get the simultaneous max-t bootstrap interval of
:func:`faro_audit.stats.bootstrap_gaps.bootstrap_gap`, which also covers a true gap of 0.
Both kinds are *descriptive* (bootstrap), never a certificate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from faro_audit.metrics.groups import GroupCodes
from faro_audit.metrics.parity import gap_from_means, group_means
from faro_audit.stats.bootstrap import (
    BootstrapGroupMeans,
    bootstrap_eo_gap,
    bootstrap_gap,
    bootstrap_group_means,
    percentile_interval,
)
from faro_audit.stats.bootstrap_gaps import GAP_INTERVAL_KIND

LEVEL = 0.95
GROUP_INTERVAL_KIND = "percentile bootstrap (descriptive)"  # group and pooled means
__all__ = ["GAP_INTERVAL_KIND", "GROUP_INTERVAL_KIND", "LEVEL", "BootResult", "bootstrap_means",
           "gap_interval"]


@dataclass(frozen=True, eq=False)
class BootResult:
    """Group means of M outcome columns with their bootstrap replicates.

    ``estimate`` is (K, M); ``replicates`` is (B, K, M) (B = 0 without a bootstrap); ``shares``
    the groups' weight shares (fixed under stratified resampling).
    """

    labels: np.ndarray
    counts: np.ndarray
    shares: np.ndarray
    estimate: np.ndarray
    replicates: np.ndarray
    raw: BootstrapGroupMeans | None = None

    def _pct(self, reps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if reps.shape[0] == 0:
            nan = np.full(reps.shape[1:], np.nan)
            return nan, nan
        lo, hi = percentile_interval(reps, level=LEVEL)
        return np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)

    def group_estimates(self, col: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lo, hi = self._pct(self.replicates[:, :, col])
        return self.estimate[:, col], lo, hi

    def pooled_interval(self, col: int) -> tuple[float, float, float]:
        est = float(self.shares @ self.estimate[:, col])
        lo, hi = self._pct(self.replicates[:, :, col] @ self.shares)
        return est, float(lo), float(hi)


def bootstrap_means(
    y: np.ndarray, codes: np.ndarray, labels: np.ndarray, *, clusters: np.ndarray, weight: np.ndarray,
    n_boot: int, seed: int,
) -> BootResult:
    """Bootstrap the group means of each column of ``y`` (n, M), resampling clusters within groups."""
    y = np.asarray(y, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    enc = GroupCodes(codes=np.asarray(codes, dtype=np.intp), labels=np.asarray(labels))
    counts = np.bincount(enc.codes, minlength=len(labels))
    wsum = np.bincount(enc.codes, weights=weight, minlength=len(labels))
    shares = wsum / wsum.sum()
    if n_boot == 0:
        est = np.stack([group_means(y[:, j], sensitive_features=enc, sample_weight=weight).mean
                        for j in range(y.shape[1])], axis=1)
        return BootResult(np.asarray(labels), counts, shares, est, np.empty((0, len(labels), y.shape[1])))
    res = bootstrap_group_means(y, sensitive_features=enc, clusters=clusters, sample_weight=weight,
                                n_boot=n_boot, random_state=seed)
    est = np.asarray(res.estimate, dtype=float).reshape(len(labels), -1)
    reps = np.asarray(res.replicates, dtype=float).reshape(n_boot, len(labels), -1)
    return BootResult(np.asarray(labels), counts, shares, est, reps, res)


def gap_interval(boots: Mapping[Any, BootResult], *, col: int, method: str) -> tuple[float, float, float]:
    """DP gap (one entry) or EO gap (max over label classes) with its descriptive interval.

    Returns ``(estimate, lower, upper)``: the plug-in gap and the 95% simultaneous max-t
    bootstrap interval (kind :data:`GAP_INTERVAL_KIND`) of :func:`bootstrap_gap` /
    :func:`bootstrap_eo_gap`, built from the signed group contrasts so that it covers a true gap
    of 0 too; for EO its critical value is joint over the classes. Bounds are NaN without a
    bootstrap (``n_boot = 0``) or with fewer than two groups present (the estimate is then 0).
    """
    if not boots:
        return float("nan"), float("nan"), float("nan")
    if any(b.raw is None for b in boots.values()):  # no bootstrap: point estimate only
        est = max(float(gap_from_means(b.estimate[:, col], weight_sum=b.shares, method=method))
                  for b in boots.values())
        return est, float("nan"), float("nan")
    if len(boots) == 1:
        (b,) = boots.values()
        gap = bootstrap_gap(b.raw.outcome(col), method=method, level=LEVEL)
    else:
        gap = bootstrap_eo_gap({k: b.raw.outcome(col) for k, b in boots.items()}, method=method, level=LEVEL)
    return float(gap.estimate), float(gap.lower), float(gap.upper)
