"""Before/after comparison on the same held-out rows (saved as ``comparison.json``).

For each method (the input model, the baselines of :mod:`faro_audit.retrain.baselines`, and
Faro) the margins d on the held-out audit rows give, with the metric functions of
:mod:`faro_audit.metrics` (the audit's own definitions, SPEC §2–§3):

* every constrained gap with its own outcome and method (``dp_gap``; EO for pairs as the gap of
  ``pair_accuracy_outcome``; CF as ``cf_gap`` over twin sets of ≥ 2 rows);
* pairwise accuracy (``pairwise_accuracy``, overall and per group of each attribute);
* with ``p_human``: agreement with the raters, a = p·h + (1 − p)(1 − h) with h = 1[d > 0]
  (ties ½), overall and per group (``pair_accuracy_outcome``, the accuracy the audit reports
  per group when the table has ``p_human``). Pairwise accuracy counts how often the model
  prefers the ``chosen`` column; agreement, how often it sides with the raters' votes;
  without ``p_human`` they are the same;
* BT negative log-likelihood (``bt_nll``) and ECE with 15 equal-mass bins (``ece``).

These are point estimates for comparison; the certificate with its confidence bounds is the
audit of the retrained model (``audit.json``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit

from faro_audit.metrics.calibration import bt_nll, ece
from faro_audit.metrics.counterfactual import cf_gap
from faro_audit.metrics.ordinal import pairwise_accuracy
from faro_audit.metrics.outcomes import hard_outcome
from faro_audit.metrics.parity import dp_gap, group_means, pair_accuracy_outcome
from faro_audit.retrain.constraints import TrainingConstraint
from faro_audit.retrain.data import RetrainData

__all__ = ["Comparison", "MethodMetrics", "evaluate_margins"]


@dataclass(frozen=True)
class MethodMetrics:
    """Held-out metrics of one method.

    Attributes
    ----------
    method : str
        ``original``, ``unconstrained``, ``reweighting``, ``group_shift`` or ``faro``.
    description : str
    gaps : dict
        Constraint text (e.g. ``dp_anchored:soft@gender=0.05``) → gap on the held-out rows.
    pairwise_accuracy, bt_nll, ece : float
    accuracy_by_group : dict
        attribute → {group: accuracy}.
    n_rows : int
    extra : dict
        Method details (e.g. fitted offsets, declared slack).
    human_agreement : float or None
        Agreement with the raters (``p_human``; ``None`` without it).
    agreement_by_group : dict
        attribute → {group: agreement} (empty without ``p_human``).
    """

    method: str
    description: str
    gaps: dict[str, float]
    pairwise_accuracy: float
    bt_nll: float
    ece: float
    accuracy_by_group: dict[str, dict[str, float]]
    n_rows: int
    extra: dict[str, Any] = field(default_factory=dict)
    human_agreement: float | None = None
    agreement_by_group: dict[str, dict[str, float]] = field(default_factory=dict)

    def satisfies(self, constraints: Sequence[TrainingConstraint]) -> bool:
        """Every point-estimate gap ≤ its ε."""
        return all(self.gaps[c.text] <= c.epsilon for c in constraints)


@dataclass(frozen=True)
class Comparison:
    """All methods on the same held-out rows."""

    data: str
    n_rows: int
    temperature: float
    constraints: tuple[dict[str, Any], ...]
    methods: tuple[MethodMetrics, ...]
    definitions: dict[str, str] = field(default_factory=dict)

    def method(self, name: str) -> MethodMetrics:
        return next(m for m in self.methods if m.method == name)

    def to_dict(self) -> dict[str, Any]:
        from faro_audit.audit.result import result_as_dict

        return result_as_dict(self)


DEFINITIONS = {
    "gaps": "each constraint's gap on the held-out rows with its own outcome (soft σ(d/T) or "
            "hard 1[d>0]) and method, as the audit computes it (SPEC §3)",
    "pairwise_accuracy": "share of held-out pairs with d > 0, ties ½",
    "human_agreement": "with p_human: mean of p·1[d>0] + (1−p)·1[d<0], ties ½ (how often the "
                       "model sides with the raters)",
    "bt_nll": "mean −log σ(d) (with p_human: −[p log σ(d) + (1−p) log σ(−d)])",
    "ece": "expected calibration error, 15 equal-mass bins of max(σ(d), 1−σ(d))",
}


def evaluate_margins(
    margin: np.ndarray,
    data: RetrainData,
    rows: np.ndarray,
    constraints: Sequence[TrainingConstraint],
    *,
    method: str,
    description: str,
    temperature: float = 1.0,
    extra: dict[str, Any] | None = None,
) -> MethodMetrics:
    """Metrics of margins ``margin`` (aligned with ``rows``) — see the module docstring."""
    d = np.asarray(margin, dtype=np.float64)
    rows = np.asarray(rows, dtype=np.int64)
    w = data.weight[rows]
    p = None if data.p_human is None else data.p_human[rows]
    soft = expit(d / temperature)
    hard = hard_outcome(d)
    gaps: dict[str, float] = {}
    for c in constraints:
        o = hard if c.outcome == "hard" else soft
        if c.metric == "cf":
            assert data.cf_sets is not None
            ids = data.cf_sets[rows]
            keep = ids >= 0
            if c.attribute is not None:
                keep &= data.groups[c.attribute][0][rows] >= 0
            sizes = np.bincount(ids[keep]) if keep.any() else np.zeros(0, int)
            has_twins = keep.any() and (sizes >= 2).any()
            gaps[c.text] = (float(cf_gap(o[keep], cf_id=ids[keep], allow_singletons=True).gap)
                            if has_twins else 0.0)
            continue
        codes, labels = data.groups[c.attribute]  # type: ignore[index]
        cc = codes[rows]
        keep = cc >= 0
        y = pair_accuracy_outcome(o, p_human=p) if c.metric == "eo" else o
        gaps[c.text] = float(dp_gap(y[keep], sensitive_features=np.asarray(labels)[cc[keep]],
                                    sample_weight=w[keep], method=c.method))
    agree = None if p is None else pair_accuracy_outcome(hard, p_human=p)
    by_group: dict[str, dict[str, float]] = {}
    agree_by_group: dict[str, dict[str, float]] = {}
    for attr, (codes, labels) in data.groups.items():
        cc = codes[rows]
        keep = cc >= 0
        names = np.asarray(labels)[cc[keep]]
        acc = pairwise_accuracy(d[keep], sensitive_features=names, sample_weight=w[keep])
        assert acc.by_group is not None
        by_group[attr] = {str(k): float(v) for k, v in acc.by_group.as_dict().items()}
        if agree is not None:
            gm = group_means(agree[keep], sensitive_features=names, sample_weight=w[keep])
            agree_by_group[attr] = {str(k): float(v) for k, v in gm.as_dict().items()}
    return MethodMetrics(
        method=method,
        description=description,
        gaps=gaps,
        pairwise_accuracy=float(pairwise_accuracy(d, sample_weight=w).accuracy),
        bt_nll=float(bt_nll(d, p_human=p, sample_weight=w)),
        ece=float(ece(d, p_human=p, sample_weight=w)),
        accuracy_by_group=by_group,
        n_rows=int(rows.size),
        extra=dict(extra or {}),
        human_agreement=None if agree is None else float(np.average(agree, weights=w)),
        agreement_by_group=agree_by_group,
    )
