"""Per-group descriptive table of rewards and outcomes (SPEC §2–§3, description only).

For each group a, with weights w (default 1) and W_a = Σ_{i∈a} w_i:

* raw-reward mean r̄_a = Σ w_i r_i / W_a, weighted median (numpy.median when unweighted), and
  standard deviation with the reliability-weights correction
  sd_a = sqrt(Σ w_i (r_i − r̄_a)² / (W_a − Σ w_i² / W_a)) (= the ddof=1 SD when unweighted;
  NaN for a single row);
* gap in reward units r̄_a − r̄ (signed, against the pooled mean r̄ of all rows) and in
  pooled-SD units (r̄_a − r̄) / sd, where sd is the SD of all rows of the table (one scale for
  every group, so the column is comparable across groups);
* the weighted means of the soft and hard outcomes and of the per-row accuracy, when given.

Raw rewards are description only: they have no fixed offset or scale across models, so only
bounded outcomes are certified (SPEC §2). Intervals are added by the bootstrap in
:mod:`faro_audit.stats`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from faro_audit.metrics.groups import (
    SensitiveFeatures,
    as_float_array,
    as_sample_weight,
    encode_groups,
    grouped_weighted_median,
)

__all__ = ["GroupRow", "GroupTable", "describe_groups"]


@dataclass(frozen=True)
class GroupRow:
    """One row of :class:`GroupTable` (``None`` where the input was not given)."""

    group: object
    n: int
    weight_sum: float
    reward_mean: float
    reward_median: float
    reward_sd: float
    gap_reward: float
    gap_sd: float
    soft_mean: float | None
    hard_mean: float | None
    accuracy: float | None


@dataclass(frozen=True, eq=False)
class GroupTable:
    """Columns of the per-group table, each aligned with ``labels``; ``pooled_*`` for all rows.

    ``soft_mean``, ``hard_mean`` and ``accuracy`` are ``None`` when not requested.
    """

    labels: np.ndarray
    n: np.ndarray
    weight_sum: np.ndarray
    reward_mean: np.ndarray
    reward_median: np.ndarray
    reward_sd: np.ndarray
    gap_reward: np.ndarray
    gap_sd: np.ndarray
    soft_mean: np.ndarray | None
    hard_mean: np.ndarray | None
    accuracy: np.ndarray | None
    pooled_mean: float
    pooled_median: float
    pooled_sd: float

    def rows(self) -> tuple[GroupRow, ...]:
        """The table as one :class:`GroupRow` per group."""

        def opt(a: np.ndarray | None, k: int) -> float | None:
            return None if a is None else float(a[k])

        return tuple(
            GroupRow(
                group=lab, n=int(self.n[k]), weight_sum=float(self.weight_sum[k]),
                reward_mean=float(self.reward_mean[k]),
                reward_median=float(self.reward_median[k]),
                reward_sd=float(self.reward_sd[k]), gap_reward=float(self.gap_reward[k]),
                gap_sd=float(self.gap_sd[k]), soft_mean=opt(self.soft_mean, k),
                hard_mean=opt(self.hard_mean, k), accuracy=opt(self.accuracy, k),
            )
            for k, lab in enumerate(self.labels.tolist())
        )


def _wmean(x: np.ndarray, codes: np.ndarray, K: int, w: np.ndarray, ws: np.ndarray) -> np.ndarray:
    s = np.bincount(codes, weights=w * x, minlength=K)
    return np.divide(s, ws, out=np.full(K, np.nan), where=ws > 0)


def _wsd(
    x: np.ndarray, codes: np.ndarray, K: int, w: np.ndarray, ws: np.ndarray, mean: np.ndarray
) -> np.ndarray:
    ss = np.bincount(codes, weights=w * (x - mean[codes]) ** 2, minlength=K)
    w2 = np.bincount(codes, weights=w * w, minlength=K)
    denom = ws - np.divide(w2, ws, out=np.zeros(K), where=ws > 0)
    ok = denom > 1e-12 * np.maximum(ws, 1e-300)
    return np.sqrt(np.divide(ss, denom, out=np.full(K, np.nan), where=ok))


def describe_groups(
    reward: ArrayLike,
    *,
    sensitive_features: SensitiveFeatures,
    sample_weight: ArrayLike | None = None,
    soft: ArrayLike | None = None,
    hard: ArrayLike | None = None,
    accuracy: ArrayLike | None = None,
) -> GroupTable:
    """Per-group description of rewards and outcomes.

    Parameters
    ----------
    reward : array-like of shape (n_rows,)
        Raw rewards (``responses``) or margins (``pairs``).
    sensitive_features : array-like or GroupCodes
        Group label per row.
    sample_weight : array-like of shape (n_rows,), optional
    soft, hard : array-like of shape (n_rows,), optional
        Soft σ(d/T) and hard 1[d>0] outcomes, in [0, 1].
    accuracy : array-like of shape (n_rows,), optional
        Per-row correctness in [0, 1], e.g. from
        :func:`~faro_audit.metrics.parity.pair_accuracy_outcome`.

    Returns
    -------
    GroupTable
    """
    r = as_float_array(reward, name="reward")
    n_rows = r.shape[0]
    enc = encode_groups(sensitive_features, n_rows=n_rows)
    K, codes = enc.n_groups, enc.codes
    w0 = as_sample_weight(sample_weight, n_rows)
    w = np.ones(n_rows) if w0 is None else w0
    n = np.bincount(codes, minlength=K)
    ws = n.astype(np.float64) if w0 is None else np.bincount(codes, weights=w, minlength=K)

    mean = _wmean(r, codes, K, w, ws)
    median = grouped_weighted_median(r, codes, K, w0)
    sd = _wsd(r, codes, K, w, ws, mean)
    zero = np.zeros(n_rows, dtype=np.intp)
    W = np.array([w.sum()])
    pooled_mean = float(_wmean(r, zero, 1, w, W)[0])
    pooled_sd = float(_wsd(r, zero, 1, w, W, np.array([pooled_mean]))[0])
    pooled_median = float(grouped_weighted_median(r, zero, 1, w0)[0])
    gap = mean - pooled_mean
    gap_sd = gap / pooled_sd if pooled_sd > 0 else np.full(K, np.nan)

    def outcome_mean(x: ArrayLike | None, name: str) -> np.ndarray | None:
        if x is None:
            return None
        xx = as_float_array(x, name=name, n_rows=n_rows, lo=0.0, hi=1.0)
        return _wmean(xx, codes, K, w, ws)

    return GroupTable(
        labels=enc.labels, n=n, weight_sum=ws, reward_mean=mean, reward_median=median,
        reward_sd=sd, gap_reward=gap, gap_sd=gap_sd,
        soft_mean=outcome_mean(soft, "soft"), hard_mean=outcome_mean(hard, "hard"),
        accuracy=outcome_mean(accuracy, "accuracy"),
        pooled_mean=pooled_mean, pooled_median=pooled_median, pooled_sd=pooled_sd,
    )
