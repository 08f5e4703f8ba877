"""Baselines that Faro is compared with on the same held-out data.

``unconstrained``
    The same mode, steps, optimiser and stratified minibatches as Faro, with no constraint
    (λ ≡ 0): the effect of the training budget alone.
``reweighting`` (pre-processing)
    Unconstrained retraining with every train row weighted by W / (S · W_s) (S strata, W_s the
    stratum's total weight, W the total): each joint group carries the same total weight in the
    BT objective. For pairs, whose label class is always "chosen preferred", this is the
    Kamiran & Calders (2012, KAIS 33:1–33) reweighing P(a)P(y)/P(a, y) with the one class
    replaced by balance over groups, the usual group-balancing baseline of reward modelling.
``group_shift`` (post-processing)
    The input model's margins with a per-group offset, d′ = d − t_a (a group-specific decision
    threshold, Hardt, Price & Srebro 2016, NeurIPS). t_a is fitted on the dual split so that
    every group's mean constrained outcome equals m_pool, the pooled mean before the shift
    (equalisation; hard outcomes get as close as the margins' discreteness allows). Note: a per-group constant added to
    *rewards* cancels in a pair margin when the group is a property of the row, so for pairs the
    post-processing must act on the margin; it needs the group and the pair's orientation at
    scoring time, so it is a reference point, not a deployable reward model. Groups are the
    joint groups of the constraint attributes; the first ``dp``/``eo`` constraint sets the
    outcome (soft/hard, DP/accuracy) that is equalised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit

__all__ = ["BASELINE_DESCRIPTIONS", "GroupShift", "balance_weights", "fit_group_shift"]

BASELINE_DESCRIPTIONS = {
    "original": "the input model, unchanged",
    "unconstrained": "retrained with the same mode and budget, no constraint",
    "reweighting": "pre-processing: retrained with group-balanced weights, no constraint",
    "group_shift": "post-processing: per-group margin offset fitted on the dual split",
    "faro": "Faro (ProxyGDA) under the fairness constraints",
}


def balance_weights(strata: np.ndarray, rows: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Row weights with equal total weight per stratum over ``rows`` (others keep ``base``).

    w_i = base_i · W / (S · W_{s(i)}) for i in ``rows``: Σ_{i∈s} w_i = W / S for every stratum s.
    """
    w = np.asarray(base, dtype=np.float64).copy()
    rows = np.asarray(rows, dtype=np.int64)
    labels, inv = np.unique(np.asarray(strata)[rows].astype(str), return_inverse=True)
    totals = np.bincount(inv, weights=w[rows], minlength=len(labels))
    w[rows] = w[rows] * totals.sum() / (len(labels) * totals[inv])
    return w


def _outcome(d: np.ndarray, *, hard: bool, temperature: float, p: np.ndarray | None) -> np.ndarray:
    o = (np.sign(d) + 1.0) / 2.0 if hard else expit(d / temperature)
    return o if p is None else p * o + (1.0 - p) * (1.0 - o)


@dataclass(frozen=True)
class GroupShift:
    """Fitted per-group margin offsets t_a (d′ = d − t_a); groups not seen get 0."""

    offsets: dict[str, float]
    targets: dict[str, float]
    hard: bool
    metric: str

    def apply(self, margin: np.ndarray, strata: np.ndarray) -> np.ndarray:
        t = np.array([self.offsets.get(str(s), 0.0) for s in strata], dtype=np.float64)
        return np.asarray(margin, dtype=np.float64) - t

    def as_dict(self) -> dict[str, Any]:
        return {"offsets": self.offsets, "targets": self.targets, "hard": self.hard,
                "metric": self.metric}


def _solve_offset(d: np.ndarray, w: np.ndarray, p: np.ndarray | None, target: float, *,
                  hard: bool, temperature: float) -> float:
    """t with weighted mean outcome of d − t closest to ``target``."""
    def mean_at(t: float) -> float:
        return float(np.average(_outcome(d - t, hard=hard, temperature=temperature, p=p), weights=w))

    if hard:
        srt = np.unique(d)
        cands = np.concatenate(([srt[0] - 1.0], (srt[:-1] + srt[1:]) / 2.0, [srt[-1] + 1.0], [0.0]))
        vals = np.array([mean_at(t) for t in cands]) if cands.size <= 4096 else None
        if vals is None:  # many distinct margins: thin the candidates evenly
            cands = np.quantile(d, np.linspace(0, 1, 4097))
            vals = np.array([mean_at(t) for t in cands])
        err = np.abs(vals - target)
        best = np.flatnonzero(err <= err.min() + 1e-12)
        return float(cands[best[np.argmin(np.abs(cands[best]))]])  # smallest shift among ties
    lo, hi = float(d.min() - 40 * temperature), float(d.max() + 40 * temperature)
    f_lo, f_hi = mean_at(lo) - target, mean_at(hi) - target
    if f_lo * f_hi < 0:
        return float(brentq(lambda t: mean_at(t) - target, lo, hi, xtol=1e-10))
    grid = np.linspace(lo, hi, 2001)
    return float(grid[np.argmin([abs(mean_at(t) - target) for t in grid])])


def fit_group_shift(margin: np.ndarray, strata: np.ndarray, *, weight: np.ndarray,
                    p_human: np.ndarray | None, metric: str, hard: bool,
                    temperature: float) -> GroupShift:
    """Fit the per-group offsets on the dual split (see the module docstring).

    Parameters
    ----------
    margin, strata, weight : numpy.ndarray
        Dual-split margins of the input model, joint group labels, row weights.
    p_human : numpy.ndarray or None
        Rater shares (for ``eo``).
    metric : {"dp", "eo"}
    hard : bool
    temperature : float
    """
    d = np.asarray(margin, dtype=np.float64)
    s = np.asarray(strata).astype(str)
    w = np.asarray(weight, dtype=np.float64)
    p = p_human if metric == "eo" else None
    o = _outcome(d, hard=hard, temperature=temperature, p=p)
    pool = float(np.average(o, weights=w))
    offsets, targets = {}, {}
    for g in np.unique(s):
        m = s == g
        targets[str(g)] = pool
        offsets[str(g)] = _solve_offset(d[m], w[m], None if p is None else p[m], pool,
                                        hard=hard, temperature=temperature)
    return GroupShift(offsets, targets, hard, metric)
