"""Tolerance sweep: retrain at several tolerances and mark the Pareto-optimal points.

Each point scales every constraint's tolerance by a factor f (ε_j′ = min(1, f·ε_j)), retrains
with the same settings and seed, and measures on the held-out rows every gap, pairwise accuracy
and BT NLL (:func:`faro_audit.retrain.compare.evaluate_margins`). A point is *non-dominated*
when no other point is at least as good in every criterion — each gap (lower), pairwise accuracy
(higher), BT NLL (lower) — and strictly better in one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from faro_audit.retrain.compare import MethodMetrics
from faro_audit.retrain.constraints import TrainingConstraint

__all__ = ["DEFAULT_FACTORS", "SweepPoint", "SweepResult", "pareto_mask", "run_sweep"]

DEFAULT_FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0)


@dataclass(frozen=True)
class SweepPoint:
    """One retraining of the sweep."""

    factor: float
    epsilons: dict[str, float]
    gaps: dict[str, float]
    pairwise_accuracy: float
    bt_nll: float
    ece: float
    declared_slack: float
    dual_feasible: bool
    non_dominated: bool = False


@dataclass(frozen=True)
class SweepResult:
    """The sweep table (plot data: each gap against pairwise accuracy and BT NLL)."""

    points: tuple[SweepPoint, ...]
    criteria: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        from faro_audit.audit.result import result_as_dict

        return result_as_dict(self)


def pareto_mask(costs: np.ndarray) -> np.ndarray:
    """Non-dominated rows of ``costs`` (n, k), every column to be minimised.

    Row i is dominated when some row j has costs_j ≤ costs_i everywhere and < somewhere.
    """
    c = np.asarray(costs, dtype=np.float64)
    le = (c[:, None, :] <= c[None, :, :]).all(-1)  # le[j, i]: j ≤ i everywhere
    lt = (c[:, None, :] < c[None, :, :]).any(-1)
    dominated = (le & lt).any(0)
    return ~dominated


def run_sweep(
    fit: Callable[[Sequence[TrainingConstraint]], tuple[MethodMetrics, Any]],
    constraints: Sequence[TrainingConstraint],
    *,
    factors: Sequence[float] = DEFAULT_FACTORS,
    progress: Callable[[float], None] | None = None,
) -> SweepResult:
    """Retrain at each tolerance factor and mark the non-dominated points.

    Parameters
    ----------
    fit : callable
        ``fit(constraints)`` → (held-out :class:`MethodMetrics`, :class:`GDAResult`).
    constraints : sequence of TrainingConstraint
        The constraints at factor 1.
    factors : sequence of float
    progress : callable, optional
        Called with each factor before it is trained.
    """
    points = []
    for f in factors:
        if progress is not None:
            progress(f)
        scaled = [replace(c, epsilon=float(min(1.0, f * c.epsilon))) for c in constraints]
        metrics, gda = fit(scaled)
        points.append(SweepPoint(
            factor=float(f),
            epsilons={c.name: c.epsilon for c in scaled},
            gaps={c.name: metrics.gaps[c.text] for c in scaled},
            pairwise_accuracy=metrics.pairwise_accuracy,
            bt_nll=metrics.bt_nll,
            ece=metrics.ece,
            declared_slack=float(gda.declared_slack),
            dual_feasible=bool(gda.selected_checkpoint.feasible),
        ))
    names = [c.name for c in constraints]
    costs = np.array([[p.gaps[n] for n in names] + [-p.pairwise_accuracy, p.bt_nll]
                      for p in points])
    mask = pareto_mask(costs) if points else np.zeros(0, bool)
    points = [replace(p, non_dominated=bool(m)) for p, m in zip(points, mask)]
    criteria = tuple(f"{n} (lower)" for n in names) + ("pairwise_accuracy (higher)",
                                                       "bt_nll (lower)")
    return SweepResult(tuple(points), criteria)
