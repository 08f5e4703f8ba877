"""Descriptive intervals (SPEC §4) for the audit: one clustered, group-stratified bootstrap per
outcome matrix. Group means and pooled means (smooth statistics) get percentile intervals; DP/EO
gaps (maxima, biased upward near 0) get the simultaneous max-t bootstrap interval of
:func:`faro_audit.stats.bootstrap_gaps.bootstrap_gap`, which also covers a true gap of 0.
Both kinds are *descriptive* (bootstrap), never a certificate.

Outcome columns are addressed **by name** (``"soft"``, ``"hard"``, ``"agree_hard"``...), never
by position: :func:`bootstrap_means` takes a mapping name → array, and an alias (a name whose
array is another name's, e.g. ``agree_hard`` = ``hard`` for pairs without ``p_human``) shares
that column instead of being resampled twice.

Seeds: a bootstrap of its own (not the attribute's shared one) draws from
:func:`derive_seed` ``(seed, *names)``, a stable hash of the names of what it resamples, so a
seed never depends on the order in which metrics run.
"""

from __future__ import annotations

import zlib
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

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
           "derive_seed", "gap_interval"]


def derive_seed(seed: int, *names: str) -> int:
    """A seed for one named bootstrap, stable across runs, platforms and metric order.

    Parameters
    ----------
    seed : int
        The audit seed (``--seed``).
    *names : str
        What the bootstrap resamples, e.g. ``("eo_gap", "label=1")``.

    Returns
    -------
    int
        The first 32-bit word of ``numpy.random.SeedSequence([seed, crc32("/".join(names))])``.
    """
    key = zlib.crc32("/".join(names).encode("utf-8"))
    return int(np.random.SeedSequence([int(seed) % 2**32, key]).generate_state(1)[0])


@dataclass(frozen=True, eq=False)
class BootResult:
    """Group means of M named outcome columns with their bootstrap replicates.

    ``estimate`` is (K, M); ``replicates`` is (B, K, M) (B = 0 without a bootstrap); ``shares``
    the groups' weight shares (fixed under stratified resampling); ``columns`` maps each
    outcome name (aliases included) to its column. Read it by name: :meth:`group_estimates`,
    :meth:`pooled_interval`, :func:`gap_interval`.
    """

    labels: np.ndarray
    counts: np.ndarray
    shares: np.ndarray
    estimate: np.ndarray
    replicates: np.ndarray
    raw: BootstrapGroupMeans | None = None
    columns: Mapping[str, int] = field(default_factory=dict)

    def column(self, outcome: str) -> int:
        """The column of an outcome name (a ``KeyError`` names the known ones)."""
        try:
            return self.columns[outcome]
        except KeyError:
            raise KeyError(f"outcome {outcome!r} was not bootstrapped; known: {', '.join(self.columns)}") from None

    def _pct(self, reps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if reps.shape[0] == 0:
            nan = np.full(reps.shape[1:], np.nan)
            return nan, nan
        lo, hi = percentile_interval(reps, level=LEVEL)
        return np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)

    def group_estimates(self, outcome: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per group: (mean, lower, upper) of the outcome, percentile interval at :data:`LEVEL`."""
        col = self.column(outcome)
        lo, hi = self._pct(self.replicates[:, :, col])
        return self.estimate[:, col], lo, hi

    def pooled_interval(self, outcome: str) -> tuple[float, float, float]:
        """(pooled mean, lower, upper): the share-weighted mean of the group means."""
        col = self.column(outcome)
        est = float(self.shares @ self.estimate[:, col])
        lo, hi = self._pct(self.replicates[:, :, col] @ self.shares)
        return est, float(lo), float(hi)


def bootstrap_means(
    outcomes: Mapping[str, np.ndarray], codes: np.ndarray, labels: np.ndarray, *, clusters: np.ndarray,
    weight: np.ndarray, n_boot: int, seed: int, aliases: Mapping[str, str] | None = None,
) -> BootResult:
    """Bootstrap the group means of named outcomes, resampling clusters within groups.

    Parameters
    ----------
    outcomes : mapping of str to array (n,)
        Outcome name → row values, one column each (in this order).
    codes, labels : array
        Group code per row and the label of each code.
    clusters, weight : array (n,)
        Cluster id and sample weight per row.
    n_boot : int
        Replicates (0: point estimates only).
    seed : int
        Seed of the resampling.
    aliases : mapping of str to str, optional
        Extra names that read another name's column (not resampled again).

    Returns
    -------
    BootResult
    """
    names = list(outcomes)
    columns = {n: j for j, n in enumerate(names)}
    columns.update({a: columns[t] for a, t in (aliases or {}).items()})
    y = np.column_stack([np.asarray(outcomes[n], dtype=float) for n in names])
    enc = GroupCodes(codes=np.asarray(codes, dtype=np.intp), labels=np.asarray(labels))
    counts = np.bincount(enc.codes, minlength=len(labels))
    wsum = np.bincount(enc.codes, weights=weight, minlength=len(labels))
    shares = wsum / wsum.sum()
    if n_boot == 0:
        est = np.stack([group_means(y[:, j], sensitive_features=enc, sample_weight=weight).mean
                        for j in range(y.shape[1])], axis=1)
        return BootResult(np.asarray(labels), counts, shares, est, np.empty((0, len(labels), y.shape[1])),
                          columns=columns)
    res = bootstrap_group_means(y, sensitive_features=enc, clusters=clusters, sample_weight=weight,
                                n_boot=n_boot, random_state=seed)
    est = np.asarray(res.estimate, dtype=float).reshape(len(labels), -1)
    reps = np.asarray(res.replicates, dtype=float).reshape(n_boot, len(labels), -1)
    return BootResult(np.asarray(labels), counts, shares, est, reps, res, columns)


def gap_interval(boots: Mapping[Hashable, BootResult], *, outcome: str,
                 method: str) -> tuple[float, float, float]:
    """DP gap (one entry) or EO gap (max over label classes) with its descriptive interval.

    Returns ``(estimate, lower, upper)``: the plug-in gap and the 95% simultaneous max-t
    bootstrap interval (kind :data:`GAP_INTERVAL_KIND`) of :func:`bootstrap_gap` /
    :func:`bootstrap_eo_gap`, built from the signed group contrasts so that it covers a true gap
    of 0 too; for EO its critical value is joint over the classes. Bounds are NaN without a
    bootstrap (``n_boot = 0``) or with fewer than two groups present (the estimate is then 0).

    Parameters
    ----------
    boots : mapping of label class to BootResult
        One entry (``{None: boot}``) for a DP gap; one per label class for an EO gap.
    outcome : str
        The outcome name (a key of each ``BootResult.columns``).
    method : {"between_groups", "to_overall"}
    """
    if not boots:
        return float("nan"), float("nan"), float("nan")
    if any(b.raw is None for b in boots.values()):  # no bootstrap: point estimate only
        est = max(float(gap_from_means(b.estimate[:, b.column(outcome)], weight_sum=b.shares, method=method))
                  for b in boots.values())
        return est, float("nan"), float("nan")
    if len(boots) == 1:
        (b,) = boots.values()
        gap = bootstrap_gap(b.raw.outcome(b.column(outcome)), method=method, level=LEVEL)  # type: ignore[union-attr]
    else:
        gap = bootstrap_eo_gap({k: b.raw.outcome(b.column(outcome)) for k, b in boots.items()},  # type: ignore[union-attr]
                               method=method, level=LEVEL)
    return float(gap.estimate), float(gap.lower), float(gap.upper)
