"""Ordinal metrics: pairwise accuracy and per-group AUC (SPEC §3).

* Pairwise accuracy: the weighted share of pairs with d > 0, ties (d = 0) counting ½, i.e. the
  mean hard outcome. For ``responses`` with labels, every (label 1, label 0) pair of responses
  to the same prompt is a pair (:func:`response_pairs`).
* AUC of reward against label, per group: the weighted Mann–Whitney statistic
  AUC = Σ_{i:y=1} Σ_{j:y=0} w_i w_j (1[s_i > s_j] + ½·1[s_i = s_j]) / (W₊ W₋),
  which equals the trapezoidal area under the weighted ROC curve
  (:func:`sklearn.metrics.roc_auc_score`, checked in the tests). Hanley & McNeil (1982),
  Radiology 143(1):29–36.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.metrics.groups import (
    GroupCodes,
    SensitiveFeatures,
    as_float_array,
    as_sample_weight,
    by_label,
    encode_groups,
)
from faro_audit.metrics.outcomes import hard_outcome
from faro_audit.metrics.parity import GroupStats, group_means

__all__ = [
    "PairwiseAccuracy",
    "ResponsePairs",
    "GroupAUC",
    "pairwise_accuracy",
    "response_pairs",
    "group_auc",
    "binary_labels",
]


@dataclass(frozen=True, eq=False)
class PairwiseAccuracy:
    """Share of correctly ordered pairs, overall and (optionally) per group."""

    accuracy: float
    n: int
    weight_sum: float
    by_group: GroupStats | None


@dataclass(frozen=True, eq=False)
class ResponsePairs:
    """All (label 1, label 0) pairs of responses to the same prompt.

    Attributes
    ----------
    margin : numpy.ndarray, shape (n_pairs,)
        reward[pos_index] − reward[neg_index].
    pos_index, neg_index : numpy.ndarray of int, shape (n_pairs,)
        Row positions of the label-1 and the label-0 response of each pair.
    n_prompts : int
        Distinct prompts.
    n_prompts_with_pairs : int
        Prompts that have at least one label-1 and one label-0 response; the other prompts
        give no pair (they still count in every non-ordinal metric).
    """

    margin: np.ndarray
    pos_index: np.ndarray
    neg_index: np.ndarray
    n_prompts: int
    n_prompts_with_pairs: int

    @property
    def n_pairs(self) -> int:
        return int(self.margin.shape[0])


@dataclass(frozen=True, eq=False)
class GroupAUC:
    """AUC of score against a binary label, per group and overall.

    ``auc`` is NaN for a group without both classes (``n_pos`` or ``n_neg`` is 0).
    """

    labels: np.ndarray
    auc: np.ndarray
    n_pos: np.ndarray
    n_neg: np.ndarray
    overall: float

    def as_dict(self) -> dict[object, float]:
        """``{label: AUC}``."""
        return by_label(self.labels, self.auc)


def binary_labels(
    y_true: ArrayLike, *, name: str = "y_true", n_rows: int | None = None
) -> np.ndarray:
    """``y_true`` as a boolean array; only 0/1 (or booleans) are accepted."""
    y = as_float_array(y_true, name=name, n_rows=n_rows)
    bad = (y != 0) & (y != 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise FaroInputError(
            f"{name} must be 0 or 1; row {i} has {y[i]!r} ({int(bad.sum())} such rows)"
        )
    return y == 1


def pairwise_accuracy(
    margin: ArrayLike,
    *,
    sensitive_features: SensitiveFeatures | None = None,
    sample_weight: ArrayLike | None = None,
) -> PairwiseAccuracy:
    """Weighted share of pairs with d > 0, ties counting ½, overall and per group.

    accuracy = Σ_i w_i h_i / Σ_i w_i with h_i = 1[d_i > 0] + ½·1[d_i = 0].

    Parameters
    ----------
    margin : array-like of shape (n_pairs,)
        d = r(preferred) − r(other) per pair.
    sensitive_features : array-like or GroupCodes, optional
        Group of each pair, for the per-group table.
    sample_weight : array-like of shape (n_pairs,), optional
    """
    h = hard_outcome(margin)
    w = as_sample_weight(sample_weight, h.shape[0])
    by_group = None
    if sensitive_features is not None:
        by_group = group_means(h, sensitive_features=sensitive_features, sample_weight=w)
    return PairwiseAccuracy(
        accuracy=float(np.average(h, weights=w)),
        n=int(h.shape[0]),
        weight_sum=float(h.shape[0] if w is None else w.sum()),
        by_group=by_group,
    )


def response_pairs(
    reward: ArrayLike,
    label: ArrayLike,
    *,
    prompt_ids: ArrayLike | GroupCodes,
    max_pairs: int = 50_000_000,
) -> ResponsePairs:
    """Every (label 1, label 0) pair of responses to the same prompt, vectorised.

    A prompt with n₁ positive and n₀ negative responses gives n₁·n₀ pairs. Rows are sorted
    once by (prompt, label); the pair indices are built with ``numpy.repeat`` and a ragged
    ``arange``, so there is no loop over prompts or rows.

    Parameters
    ----------
    reward : array-like of shape (n_rows,)
    label : array-like of shape (n_rows,)
        0/1 labels.
    prompt_ids : array-like of shape (n_rows,) or GroupCodes
        Prompt (or ``pair_id``) of each row.
    max_pairs : int, default 50_000_000
        Refuse to build more pairs than this (memory guard).

    Returns
    -------
    ResponsePairs
    """
    r = as_float_array(reward, name="reward")
    n = r.shape[0]
    y = binary_labels(label, name="label", n_rows=n)
    enc = encode_groups(prompt_ids, name="prompt_ids", n_rows=n)
    P = enc.n_groups
    n_pos = np.bincount(enc.codes[y], minlength=P)
    n_neg = np.bincount(enc.codes[~y], minlength=P)
    per_prompt = n_pos * n_neg
    total = int(per_prompt.sum())
    if total > max_pairs:
        raise FaroUsageError(
            f"response_pairs would build {total} pairs (more than max_pairs={max_pairs}); "
            "raise max_pairs or subsample responses per prompt"
        )
    pos_rows = np.flatnonzero(y)
    neg_rows = np.flatnonzero(~y)
    pos_sorted = pos_rows[np.argsort(enc.codes[pos_rows], kind="stable")]
    neg_sorted = neg_rows[np.argsort(enc.codes[neg_rows], kind="stable")]
    neg_start = np.concatenate(([0], np.cumsum(n_neg)[:-1]))
    pos_prompt = enc.codes[pos_sorted]
    reps = n_neg[pos_prompt]  # each positive pairs with every negative of its prompt
    pos_index = np.repeat(pos_sorted, reps)
    offsets = np.arange(total) - np.repeat(np.cumsum(reps) - reps, reps)
    neg_index = neg_sorted[np.repeat(neg_start[pos_prompt], reps) + offsets]
    return ResponsePairs(
        margin=r[pos_index] - r[neg_index],
        pos_index=pos_index.astype(np.intp),
        neg_index=neg_index.astype(np.intp),
        n_prompts=P,
        n_prompts_with_pairs=int((per_prompt > 0).sum()),
    )


def _auc_by_code(
    y: np.ndarray, s: np.ndarray, codes: np.ndarray, K: int, w: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted Mann–Whitney AUC within each code, with one lexsort over all rows."""
    ww = np.ones(s.shape[0]) if w is None else w
    order = np.lexsort((s, codes))
    cs, ss, ys, wsort = codes[order], s[order], y[order], ww[order]
    new_block = np.ones(ss.shape[0], dtype=bool)
    new_block[1:] = (cs[1:] != cs[:-1]) | (ss[1:] != ss[:-1])
    block = np.cumsum(new_block) - 1
    nb = int(block[-1]) + 1 if block.size else 0
    bpos = np.bincount(block, weights=wsort * ys, minlength=nb)
    bneg = np.bincount(block, weights=wsort * (~ys), minlength=nb)
    bcode = cs[new_block]
    # negative weight strictly below each block, within its code
    cum = np.cumsum(bneg) - bneg
    gneg = np.bincount(bcode, weights=bneg, minlength=K)
    gstart = np.concatenate(([0.0], np.cumsum(gneg)[:-1]))
    below = cum - gstart[bcode]
    num = np.bincount(bcode, weights=bpos * (below + 0.5 * bneg), minlength=K)
    wpos = np.bincount(codes, weights=ww * y, minlength=K)
    wneg = np.bincount(codes, weights=ww * (~y), minlength=K)
    den = wpos * wneg
    auc = np.divide(num, den, out=np.full(K, np.nan), where=den > 0)
    return auc, np.bincount(codes[y], minlength=K), np.bincount(codes[~y], minlength=K)


def group_auc(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    sensitive_features: SensitiveFeatures,
    sample_weight: ArrayLike | None = None,
) -> GroupAUC:
    """AUC of ``y_score`` (reward) against the binary ``y_true`` (label), per group.

    AUC_a = Σ_{i∈a, y=1} Σ_{j∈a, y=0} w_i w_j (1[s_i > s_j] + ½·1[s_i = s_j]) / (W₊,a W₋,a),
    computed from ranks (one lexsort by group and score, ties handled per tied block).
    NaN for a group that lacks one class; ``overall`` pools all rows.

    Parameters
    ----------
    y_true : array-like of shape (n_rows,)
        0/1 labels.
    y_score : array-like of shape (n_rows,)
        Scores (rewards), any finite values.
    sensitive_features : array-like or GroupCodes
    sample_weight : array-like of shape (n_rows,), optional
    """
    s = as_float_array(y_score, name="y_score")
    n = s.shape[0]
    y = binary_labels(y_true, n_rows=n)
    enc = encode_groups(sensitive_features, n_rows=n)
    w = as_sample_weight(sample_weight, n)
    auc, n_pos, n_neg = _auc_by_code(y, s, enc.codes, enc.n_groups, w)
    overall, _, _ = _auc_by_code(y, s, np.zeros(n, dtype=np.intp), 1, w)
    return GroupAUC(labels=enc.labels, auc=auc, n_pos=n_pos, n_neg=n_neg,
                    overall=float(overall[0]))
