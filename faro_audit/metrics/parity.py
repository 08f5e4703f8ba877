"""Demographic parity and equalized odds gaps on bounded outcomes (SPEC §3).

m_a = Σ_{i∈a} w_i o_i / Σ_{i∈a} w_i is the weighted mean outcome of group a. Two gap methods
(named as in fairlearn's ``MetricFrame.difference``):

* ``"between_groups"``: Δ = max_a m_a − min_a m_a;
* ``"to_overall"`` (Faro's anchoring, 2K one-sided constraints instead of K(K−1)):
  Δ_anchor = max_a |m_a − m_pool| with m_pool the weighted pooled mean
  (= Σ_a W_a m_a / Σ_a W_a, W_a the group weight).

Δ ≤ 2·Δ_anchor always (triangle inequality through m_pool). Groups with total weight 0 (none
of their rows present, or all weights 0) have no mean and do not enter a gap; fewer than two
groups with a mean give a gap of 0. For hard 0/1 outcomes, ``dp_gap`` equals fairlearn's
``demographic_parity_difference`` and ``eo_gap`` its ``equalized_odds_difference``
(tests/metrics/test_fairlearn_parity.py). Reference: SPEC §3; fairlearn
(Weerts et al., 2023, JMLR 24(257)).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from faro_audit.errors import FaroUsageError
from faro_audit.metrics.groups import (
    SensitiveFeatures,
    as_float_array,
    as_sample_weight,
    by_label,
    encode_groups,
)

__all__ = [
    "GapMethod",
    "GroupStats",
    "EOBreakdown",
    "group_means",
    "gap_from_means",
    "dp_gap",
    "eo_gap",
    "eo_breakdown",
    "pair_accuracy_outcome",
]

GapMethod = Literal["between_groups", "to_overall"]
_METHODS = ("between_groups", "to_overall")
_OUTCOME_HINT = "; pass bounded outcomes (soft_outcome or hard_outcome), not raw rewards"


@dataclass(frozen=True, eq=False)
class GroupStats:
    """Weighted outcome mean per group.

    Attributes
    ----------
    labels : numpy.ndarray, shape (K,)
        Group labels (sorted).
    n : numpy.ndarray of int, shape (K,)
        Rows per group.
    weight_sum : numpy.ndarray of float, shape (K,)
        W_a = Σ_{i∈a} w_i (= n when unweighted).
    mean : numpy.ndarray of float, shape (K,)
        m_a; NaN where W_a = 0.
    pooled_mean : float
        m_pool = Σ_i w_i o_i / Σ_i w_i.
    """

    labels: np.ndarray
    n: np.ndarray
    weight_sum: np.ndarray
    mean: np.ndarray
    pooled_mean: float

    def as_dict(self) -> dict[object, float]:
        """``{label: m_a}``."""
        return by_label(self.labels, self.mean)

    def gap(self, method: GapMethod = "between_groups") -> float:
        """The gap of these means (see :func:`gap_from_means`)."""
        return gap_from_means(self.mean, weight_sum=self.weight_sum, method=method)


@dataclass(frozen=True, eq=False)
class EOBreakdown:
    """Group means within each label class and the resulting gaps.

    Attributes
    ----------
    classes : numpy.ndarray, shape (C,)
        Label classes (sorted).
    labels : numpy.ndarray, shape (K,)
        Group labels.
    n, weight_sum, mean : numpy.ndarray, shape (C, K)
        Rows, weight and weighted mean outcome of group k within class c (mean NaN if absent).
    pooled_mean : numpy.ndarray, shape (C,)
        Weighted mean outcome within each class.
    class_gaps : numpy.ndarray, shape (C,)
        The gap within each class (0 where fewer than two groups are present).
    gap : float
        max_c class_gaps[c].
    method : str
    """

    classes: np.ndarray
    labels: np.ndarray
    n: np.ndarray
    weight_sum: np.ndarray
    mean: np.ndarray
    pooled_mean: np.ndarray
    class_gaps: np.ndarray
    gap: float
    method: str

    @property
    def worst_class(self) -> object:
        """The class whose gap is largest (first one on ties)."""
        return self.classes[int(np.argmax(self.class_gaps))]

    def class_stats(self, c: int) -> GroupStats:
        """The :class:`GroupStats` of class index ``c``."""
        return GroupStats(self.labels, self.n[c], self.weight_sum[c], self.mean[c],
                          float(self.pooled_mean[c]))


def _check_method(method: str) -> str:
    if method not in _METHODS:
        raise FaroUsageError(
            f"method {method!r} is not a gap method; use 'between_groups' or 'to_overall'"
        )
    return method


def gap_from_means(
    mean: ArrayLike, *, weight_sum: ArrayLike, method: GapMethod = "between_groups"
) -> float:
    """Gap of group means: max − min, or max |m_a − m_pool| (``"to_overall"``).

    Parameters
    ----------
    mean : array-like of shape (K,)
        Group means m_a (NaN for absent groups).
    weight_sum : array-like of shape (K,)
        Group weights W_a; groups with W_a = 0 are absent. m_pool = Σ W_a m_a / Σ W_a.
    method : {"between_groups", "to_overall"}

    Returns
    -------
    float
        0.0 when fewer than two groups are present.
    """
    _check_method(method)
    m = np.asarray(mean, dtype=np.float64)
    ws = np.asarray(weight_sum, dtype=np.float64)
    ok = ws > 0
    if ok.sum() < 2:
        return 0.0
    m, ws = m[ok], ws[ok]
    if method == "between_groups":
        return float(m.max() - m.min())
    pool = float(np.dot(ws, m) / ws.sum())
    return float(np.max(np.abs(m - pool)))


def _group_sums(
    y: np.ndarray, codes: np.ndarray, n_groups: int, w: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = np.bincount(codes, minlength=n_groups)
    if w is None:
        ws = n.astype(np.float64)
        s = np.bincount(codes, weights=y, minlength=n_groups)
    else:
        ws = np.bincount(codes, weights=w, minlength=n_groups)
        s = np.bincount(codes, weights=w * y, minlength=n_groups)
    mean = np.divide(s, ws, out=np.full(n_groups, np.nan), where=ws > 0)
    return n, ws, mean


def group_means(
    y: ArrayLike,
    *,
    sensitive_features: SensitiveFeatures,
    sample_weight: ArrayLike | None = None,
) -> GroupStats:
    """Weighted mean of ``y`` per group, m_a = Σ_{i∈a} w_i y_i / Σ_{i∈a} w_i (SPEC §3).

    Parameters
    ----------
    y : array-like of shape (n_rows,)
        Finite values (outcomes, rewards, accuracies, ...).
    sensitive_features : array-like or GroupCodes
        Group label per row (2-D: one column per attribute, combined into intersections).
    sample_weight : array-like of shape (n_rows,), optional
        Non-negative weights (default 1).

    Returns
    -------
    GroupStats
    """
    yy = as_float_array(y, name="y")
    enc = encode_groups(sensitive_features, n_rows=yy.shape[0])
    w = as_sample_weight(sample_weight, yy.shape[0])
    n, ws, mean = _group_sums(yy, enc.codes, enc.n_groups, w)
    pooled = float(np.average(yy, weights=w))
    return GroupStats(labels=enc.labels, n=n, weight_sum=ws, mean=mean, pooled_mean=pooled)


def dp_gap(
    y_score: ArrayLike,
    *,
    sensitive_features: SensitiveFeatures,
    sample_weight: ArrayLike | None = None,
    method: GapMethod = "between_groups",
) -> float:
    """Demographic-parity gap of a bounded outcome (SPEC §3).

    ``"between_groups"``: Δ = max_a m_a − min_a m_a. ``"to_overall"``: Δ_anchor =
    max_a |m_a − m_pool|. Both lie in [0, 1] and Δ ≤ 2·Δ_anchor.

    Parameters
    ----------
    y_score : array-like of shape (n_rows,)
        Outcomes in [0, 1] (soft σ(d/T) or hard 1[d>0]).
    sensitive_features : array-like or GroupCodes
        Group label per row.
    sample_weight : array-like of shape (n_rows,), optional
        Non-negative row weights (default 1).
    method : {"between_groups", "to_overall"}, default "between_groups"

    Returns
    -------
    float
    """
    _check_method(method)
    y = as_float_array(y_score, name="y_score", lo=0.0, hi=1.0, hint=_OUTCOME_HINT)
    stats = group_means(y, sensitive_features=sensitive_features, sample_weight=sample_weight)
    return stats.gap(method)


def eo_breakdown(
    y_score: ArrayLike,
    y_true: ArrayLike,
    *,
    sensitive_features: SensitiveFeatures,
    sample_weight: ArrayLike | None = None,
    method: GapMethod = "between_groups",
) -> EOBreakdown:
    """Group means of the outcome within each label class, and their gaps (SPEC §3).

    Within class c, m_{c,a} = Σ_{i∈a, y_i=c} w_i o_i / Σ_{i∈a, y_i=c} w_i and the class gap is
    the DP gap of these means (``method``; for ``"to_overall"`` m_pool is the weighted mean
    within the class, as in fairlearn). A group with no weight in a class is absent from that
    class; a class in which fewer than two groups are present contributes a gap of 0 (there is
    nothing to compare). EO gap = max_c gap_c. For labels {0, 1} and hard outcomes these are
    the false- and true-positive-rate differences.

    Parameters
    ----------
    y_score : array-like of shape (n_rows,)
        Outcomes in [0, 1].
    y_true : array-like of shape (n_rows,)
        Label class of each row (any hashable values, e.g. ``label`` ∈ {0, 1}).
    sensitive_features, sample_weight, method
        As in :func:`dp_gap`.

    Returns
    -------
    EOBreakdown
    """
    _check_method(method)
    y = as_float_array(y_score, name="y_score", lo=0.0, hi=1.0, hint=_OUTCOME_HINT)
    n_rows = y.shape[0]
    cls = encode_groups(y_true, name="y_true", n_rows=n_rows)
    enc = encode_groups(sensitive_features, n_rows=n_rows)
    w = as_sample_weight(sample_weight, n_rows)
    C, K = cls.n_groups, enc.n_groups
    n, ws, mean = _group_sums(y, cls.codes * K + enc.codes, C * K, w)
    n, ws, mean = n.reshape(C, K), ws.reshape(C, K), mean.reshape(C, K)
    filled = np.where(ws > 0, mean, 0.0)
    tot = ws.sum(axis=1)
    pooled = np.divide((ws * filled).sum(axis=1), tot, out=np.full(C, np.nan), where=tot > 0)
    class_gaps = np.array(
        [gap_from_means(mean[c], weight_sum=ws[c], method=method) for c in range(C)]
    )
    return EOBreakdown(
        classes=cls.labels, labels=enc.labels, n=n, weight_sum=ws, mean=mean,
        pooled_mean=pooled, class_gaps=class_gaps, gap=float(class_gaps.max()), method=method,
    )


def eo_gap(
    y_score: ArrayLike,
    y_true: ArrayLike,
    *,
    sensitive_features: SensitiveFeatures,
    sample_weight: ArrayLike | None = None,
    method: GapMethod = "between_groups",
) -> float:
    """Equalized-odds gap: the DP gap within each label class, maximised over classes.

    See :func:`eo_breakdown` for the definition and the per-class/per-group table. For the
    ``pairs`` shape the class is "the human prefers chosen", so EO is the gap in group
    accuracy: use ``dp_gap(pair_accuracy_outcome(o, p_human=p), ...)`` (or this function with
    ``y_true`` all 1 and the accuracy outcome), which is the same number.

    Returns
    -------
    float in [0, 1]
    """
    return eo_breakdown(
        y_score, y_true, sensitive_features=sensitive_features,
        sample_weight=sample_weight, method=method,
    ).gap


def pair_accuracy_outcome(
    outcome: ArrayLike, *, p_human: ArrayLike | None = None
) -> np.ndarray:
    """Per-pair "the RM agrees with the human" outcome, a_i = p_i·o_i + (1 − p_i)(1 − o_i).

    For the ``pairs`` shape, EO is accuracy parity (SPEC §3): the class is "the human prefers
    the first-listed response". A pair with rater share ``p_human`` = p enters twice: as
    (chosen, rejected) with weight w·p, where the human prefers the first and the RM's outcome
    is o; and swapped, (rejected, chosen) with weight w·(1 − p), where the human prefers the
    first and the RM's outcome is σ(−d/T) = 1 − o (hard: 1 − h). Both copies are in the same
    class, and their weighted mean is p·o + (1 − p)(1 − o) with total weight w·p + w·(1 − p)
    = w. So a group's accuracy from the doubled rows equals the mean of a_i with the original
    ``sample_weight`` unchanged — and one row per pair keeps the rows independent for
    intervals. Without ``p_human`` (p = 1, the labelled chosen is preferred) a_i = o_i.

    Parameters
    ----------
    outcome : array-like of shape (n_rows,)
        Soft σ(d/T) or hard 1[d>0] (ties ½) outcome of each pair, in [0, 1].
    p_human : array-like of shape (n_rows,), optional
        Share of raters preferring ``chosen``, in [0, 1].

    Returns
    -------
    numpy.ndarray of float64 in [0, 1]
        Use it as ``y_score`` with the same ``sample_weight``.
    """
    o = as_float_array(outcome, name="outcome", lo=0.0, hi=1.0, hint=_OUTCOME_HINT)
    if p_human is None:
        return o.copy()
    p = as_float_array(p_human, name="p_human", n_rows=o.shape[0], lo=0.0, hi=1.0)
    return p * o + (1.0 - p) * (1.0 - o)
