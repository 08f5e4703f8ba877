"""Cardinal metrics for preference pairs: ECE, Brier score, BT negative log-likelihood (SPEC §3).

Per pair i with margin d_i = r(chosen) − r(rejected), temperature T and rater share p_i
(``p_human``; p_i = 1 without it), let q_i = σ(d_i / T) be the RM's BT probability that
``chosen`` wins.

**Confidence and correctness.** The RM picks the side it gives probability > ½; its
confidence is c_i = max(q_i, 1 − q_i) = σ(|d_i| / T). Its pick is correct when it is the
side the human prefers; against a rater who prefers ``chosen`` with probability p_i the
expected correctness is k_i = p_i·h_i + (1 − p_i)(1 − h_i), with h_i = 1[d_i > 0] (ties ½).

**What "each pair enters once in each orientation" means.** Listing the pair as
(rejected, chosen) turns d into −d and p into 1 − p: the RM's probability for the first-listed
side becomes 1 − q_i, but the confidence c_i, the side it picks, and whether that side is the
human-preferred one are unchanged. So the doubled data are two identical (c_i, k_i) copies of
each pair: every bin mean, the ECE, the Brier score and the NLL are exactly those of one copy
per pair, which is what is computed here. The doubling is what makes the metrics independent of
which response a data set happened to list first (in contrast to a reliability diagram of q
against "chosen wins", where every label is 1). It adds no information: the effective sample
size is the number of pairs, not twice it, and the bootstrap must resample pairs. Expanding
p_i into rater outcomes (y = 1 with weight p_i, y = 0 with weight 1 − p_i) gives the same
numbers, because bins and means are linear in the weights.

* ECE = Σ_b (W_b / W) |acc_b − conf_b| over ``n_bins`` (default 15) equal-mass bins of c
  (Naeini et al., 2015, AAAI; Guo et al., 2017, ICML). Bins are formed on the sorted
  confidences by cumulative weight: a tied block of confidences goes, whole, to the bin in
  which its cumulative weight starts (so the result does not depend on row order; bins are
  exactly equal when there are no ties and the count divides evenly).
* Brier = mean_i [p_i (1 − q_i)² + (1 − p_i) q_i²]: the expected Brier score against a rater
  who prefers ``chosen`` w.p. p_i (Brier, 1950). It equals mean (q_i − p_i)² + mean p_i(1 − p_i);
  with p_i ∈ {0, 1} it is the confidence Brier mean (c_i − k_i)². It is orientation-free.
* BT NLL = mean_i −[p_i log σ(d_i/T) + (1 − p_i) log σ(−d_i/T)], via
  :func:`scipy.special.log_expit` (stable for any finite d).

All means are weighted by ``sample_weight``. Per-group versions compute the metric within each
group (ECE with each group's own equal-mass bins, so a group with fewer than ``n_bins`` rows has
bins of one row and a large ECE; flag small groups upstream) and report the gap between the
worst (largest value) and the best (smallest value) group.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit, log_expit

from faro_audit.errors import FaroUsageError
from faro_audit.metrics.groups import (
    SensitiveFeatures,
    as_float_array,
    as_sample_weight,
    by_label,
    encode_groups,
)
from faro_audit.metrics.outcomes import check_temperature

__all__ = [
    "ReliabilityCurve",
    "GroupCalibration",
    "confidence_correct",
    "reliability_curve",
    "ece",
    "brier",
    "bt_nll",
    "ece_by_group",
    "brier_by_group",
    "bt_nll_by_group",
]


@dataclass(frozen=True, eq=False)
class ReliabilityCurve:
    """Per-bin mean confidence and accuracy (non-empty bins only, in confidence order).

    Attributes
    ----------
    conf_lower, conf_upper : numpy.ndarray
        Smallest and largest confidence in each bin.
    confidence, accuracy : numpy.ndarray
        Weighted mean confidence conf_b and correctness acc_b in each bin.
    n : numpy.ndarray of int
        Pairs per bin.
    weight : numpy.ndarray
        W_b, the weight per bin.
    ece : float
        Σ_b (W_b / W) |acc_b − conf_b|.
    """

    conf_lower: np.ndarray
    conf_upper: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    n: np.ndarray
    weight: np.ndarray
    ece: float


@dataclass(frozen=True, eq=False)
class GroupCalibration:
    """A calibration metric per group and the gap between the worst and best group.

    ``values`` is NaN for a group with zero weight; such a group enters neither the gap nor
    ``best``/``worst``. Lower is better for every metric here.
    """

    metric: str
    labels: np.ndarray
    values: np.ndarray
    n: np.ndarray
    weight_sum: np.ndarray
    gap: float
    best: object
    worst: object

    @property
    def by_group(self) -> dict[object, float]:
        """``{label: value}``."""
        return by_label(self.labels, self.values)


def _inputs(
    margin: ArrayLike, p_human: ArrayLike | None, sample_weight: ArrayLike | None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    d = as_float_array(margin, name="margin")
    p = None if p_human is None else as_float_array(
        p_human, name="p_human", n_rows=d.shape[0], lo=0.0, hi=1.0
    )
    w = as_sample_weight(sample_weight, d.shape[0])
    return d, p, w


def confidence_correct(
    margin: ArrayLike, *, p_human: ArrayLike | None = None, temperature: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence c = σ(|d|/T) and expected correctness k = p·h + (1 − p)(1 − h) per pair."""
    t = check_temperature(temperature)
    d, p, _ = _inputs(margin, p_human, None)
    c = expit(np.abs(d) / t)
    h = (np.sign(d) + 1.0) / 2.0
    k = h if p is None else p * h + (1.0 - p) * (1.0 - h)
    return c, k


def _check_bins(n_bins: int) -> int:
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise FaroUsageError(f"n_bins must be a positive integer; got {n_bins!r} (default 15)")
    return int(n_bins)


def _curve(c: np.ndarray, k: np.ndarray, w: np.ndarray | None, n_bins: int) -> ReliabilityCurve:
    vals, inv = np.unique(c, return_inverse=True)
    if w is None:
        cnt = np.bincount(inv, minlength=vals.shape[0])
        start = np.cumsum(cnt) - cnt  # integer arithmetic: exact equal-count bins
        bin_of_block = (n_bins * start) // c.shape[0]
        ww = np.ones(c.shape[0])
    else:
        bw = np.bincount(inv, weights=w, minlength=vals.shape[0])
        start = np.cumsum(bw) - bw
        bin_of_block = np.floor(n_bins * start / w.sum() + 1e-9).astype(np.int64)
        ww = w
    bin_of_block = np.minimum(bin_of_block, n_bins - 1)
    b = bin_of_block[inv]
    W_b = np.bincount(b, weights=ww, minlength=n_bins)
    n_b = np.bincount(b, minlength=n_bins)
    conf = np.bincount(b, weights=ww * c, minlength=n_bins)
    acc = np.bincount(b, weights=ww * k, minlength=n_bins)
    lo = np.full(n_bins, np.inf)
    hi = np.full(n_bins, -np.inf)
    np.minimum.at(lo, bin_of_block, vals)
    np.maximum.at(hi, bin_of_block, vals)
    keep = W_b > 0
    conf, acc = conf[keep] / W_b[keep], acc[keep] / W_b[keep]
    total = W_b.sum()
    e = float(np.sum(W_b[keep] / total * np.abs(acc - conf)))
    return ReliabilityCurve(conf_lower=lo[keep], conf_upper=hi[keep], confidence=conf,
                            accuracy=acc, n=n_b[keep], weight=W_b[keep], ece=e)


def reliability_curve(
    margin: ArrayLike,
    *,
    p_human: ArrayLike | None = None,
    n_bins: int = 15,
    sample_weight: ArrayLike | None = None,
    temperature: float = 1.0,
) -> ReliabilityCurve:
    """Reliability diagram of confidence σ(|d|/T) against correctness, equal-mass bins.

    Parameters
    ----------
    margin : array-like of shape (n_pairs,)
        d = r(chosen) − r(rejected).
    p_human : array-like of shape (n_pairs,), optional
        Share of raters preferring ``chosen`` (default: 1 for every pair).
    n_bins : int, default 15
    sample_weight : array-like of shape (n_pairs,), optional
    temperature : float, default 1.0

    Returns
    -------
    ReliabilityCurve
    """
    nb = _check_bins(n_bins)
    c, k = confidence_correct(margin, p_human=p_human, temperature=temperature)
    w = as_sample_weight(sample_weight, c.shape[0])
    return _curve(c, k, w, nb)


def ece(
    margin: ArrayLike,
    *,
    p_human: ArrayLike | None = None,
    n_bins: int = 15,
    sample_weight: ArrayLike | None = None,
    temperature: float = 1.0,
) -> float:
    """Expected calibration error with ``n_bins`` equal-mass bins (see the module docstring)."""
    return reliability_curve(margin, p_human=p_human, n_bins=n_bins,
                             sample_weight=sample_weight, temperature=temperature).ece


def _brier_rows(d: np.ndarray, p: np.ndarray | None, t: float) -> np.ndarray:
    q = expit(d / t)
    if p is None:
        return (1.0 - q) ** 2
    return p * (1.0 - q) ** 2 + (1.0 - p) * q**2


def _nll_rows(d: np.ndarray, p: np.ndarray | None, t: float) -> np.ndarray:
    z = d / t
    if p is None:
        return -log_expit(z)
    return -(p * log_expit(z) + (1.0 - p) * log_expit(-z))


def _mean_loss(
    rows: Callable[[np.ndarray, np.ndarray | None, float], np.ndarray], temperature: float
) -> Callable[[np.ndarray, np.ndarray | None, np.ndarray | None], float]:
    """``(d, p, w) ↦ Σ_i w_i ℓ_i / Σ_i w_i`` with ℓ = ``rows(d, p, T)``, T checked here.

    The one reduction behind :func:`brier`/:func:`bt_nll` (all pairs) and their ``*_by_group``
    versions (each group's pairs, via :func:`_by_group`).
    """
    t = check_temperature(temperature)

    def mean_loss(d: np.ndarray, p: np.ndarray | None, w: np.ndarray | None) -> float:
        return float(np.average(rows(d, p, t), weights=w))

    return mean_loss


def brier(
    margin: ArrayLike,
    *,
    p_human: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    temperature: float = 1.0,
) -> float:
    """Expected Brier score, mean_i [p_i (1 − σ(d_i/T))² + (1 − p_i) σ(d_i/T)²]."""
    return _mean_loss(_brier_rows, temperature)(*_inputs(margin, p_human, sample_weight))


def bt_nll(
    margin: ArrayLike,
    *,
    p_human: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    temperature: float = 1.0,
) -> float:
    """BT negative log-likelihood, mean_i −[p_i log σ(d_i/T) + (1 − p_i) log σ(−d_i/T)]."""
    return _mean_loss(_nll_rows, temperature)(*_inputs(margin, p_human, sample_weight))


def _scalar(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def _by_group(
    metric: str,
    margin: ArrayLike,
    sensitive_features: SensitiveFeatures,
    p_human: ArrayLike | None,
    sample_weight: ArrayLike | None,
    per_group: Callable[[np.ndarray, np.ndarray | None, np.ndarray | None], float],
) -> GroupCalibration:
    d, p, w = _inputs(margin, p_human, sample_weight)
    enc = encode_groups(sensitive_features, n_rows=d.shape[0])
    K = enc.n_groups
    n = np.bincount(enc.codes, minlength=K)
    ws = n.astype(np.float64) if w is None else np.bincount(enc.codes, weights=w, minlength=K)
    values = np.full(K, np.nan)
    order = np.argsort(enc.codes, kind="stable")
    starts = np.concatenate(([0], np.cumsum(n)))
    for g in np.flatnonzero(ws > 0):
        rows = order[starts[g] : starts[g + 1]]
        values[g] = per_group(d[rows], None if p is None else p[rows],
                              None if w is None else w[rows])
    ok = np.flatnonzero(ws > 0)
    best = int(ok[np.argmin(values[ok])])
    worst = int(ok[np.argmax(values[ok])])
    return GroupCalibration(
        metric=metric, labels=enc.labels, values=values, n=n, weight_sum=ws,
        gap=float(values[worst] - values[best]),
        best=_scalar(enc.labels[best]),
        worst=_scalar(enc.labels[worst]),
    )


def ece_by_group(
    margin: ArrayLike,
    *,
    sensitive_features: SensitiveFeatures,
    p_human: ArrayLike | None = None,
    n_bins: int = 15,
    sample_weight: ArrayLike | None = None,
    temperature: float = 1.0,
) -> GroupCalibration:
    """ECE within each group (each with its own equal-mass bins) and the worst − best gap."""
    nb = _check_bins(n_bins)
    t = check_temperature(temperature)

    def one(d: np.ndarray, p: np.ndarray | None, w: np.ndarray | None) -> float:
        c, k = confidence_correct(d, p_human=p, temperature=t)
        return _curve(c, k, w, nb).ece

    return _by_group("ece", margin, sensitive_features, p_human, sample_weight, one)


def brier_by_group(
    margin: ArrayLike,
    *,
    sensitive_features: SensitiveFeatures,
    p_human: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    temperature: float = 1.0,
) -> GroupCalibration:
    """Brier score within each group and the worst − best gap."""
    per_group = _mean_loss(_brier_rows, temperature)
    return _by_group("brier", margin, sensitive_features, p_human, sample_weight, per_group)


def bt_nll_by_group(
    margin: ArrayLike,
    *,
    sensitive_features: SensitiveFeatures,
    p_human: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    temperature: float = 1.0,
) -> GroupCalibration:
    """BT negative log-likelihood within each group and the worst − best gap."""
    per_group = _mean_loss(_nll_rows, temperature)
    return _by_group("bt_nll", margin, sensitive_features, p_human, sample_weight, per_group)
