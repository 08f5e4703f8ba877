"""The training runs of one retraining session: Faro, the baselines and the tolerance sweep.

Every run trains a fresh copy of the input model (:meth:`Session.new_model`) with ProxyGDA on
the same train / dual split and is then evaluated on the same held-out rows:

* :func:`train_run` — one ProxyGDA game (Faro with constraints; the unconstrained and the
  reweighting baselines without, SPEC §7 "Output");
* :func:`compare_methods` — the held-out comparison of the input model, the baselines
  (:mod:`faro_audit.retrain.baselines`) and Faro (:mod:`faro_audit.retrain.compare`);
* :func:`sweep_tolerances` — Faro at scaled tolerances (:mod:`faro_audit.retrain.sweep`).

Progress: one tqdm bar per run over its steps, with (J, worst violation, largest λ).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from faro_audit.retrain.baselines import (
    BASELINE_DESCRIPTIONS,
    balance_weights,
    fit_group_shift,
)
from faro_audit.retrain.batches import StratifiedSampler
from faro_audit.retrain.compare import (
    DEFINITIONS,
    Comparison,
    MethodMetrics,
    evaluate_margins,
)
from faro_audit.retrain.constraints import ConstraintSet, TrainingConstraint
from faro_audit.retrain.data import RetrainData
from faro_audit.retrain.problem import PairGame
from faro_audit.retrain.proxygda import Checkpoint, GDAResult, run_proxygda
from faro_audit.retrain.session import Session
from faro_audit.retrain.settings import RetrainSettings
from faro_audit.retrain.sweep import SweepResult, run_sweep

__all__ = ["ProgressBar", "compare_methods", "heldout_margins", "progress_enabled",
           "sweep_tolerances", "train_run"]


def progress_enabled(progress: bool | None) -> bool:
    """Show bars: as asked, else when stderr is a terminal."""
    return sys.stderr.isatty() if progress is None else bool(progress)


class ProgressBar:
    """tqdm bar over steps with (J, worst violation, largest λ); silent when disabled."""

    def __init__(self, total: int, desc: str, enabled: bool) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc=desc, disable=not enabled, leave=False,
                        file=sys.stderr, dynamic_ncols=True)
        self.last = 0

    def __call__(self, cp: Checkpoint) -> None:
        self.bar.update(cp.step - self.last)
        self.last = cp.step
        self.bar.set_postfix(J=f"{cp.objective:.4f}",
                             worst=f"{cp.max_violation:+.4f}" if cp.values else "-",
                             lam=f"{max(cp.lambdas[1:], default=0.0):.3g}")

    def close(self) -> None:
        self.bar.close()


def train_run(session: Session, data: RetrainData, constraints: Sequence[TrainingConstraint],
              settings: RetrainSettings, *, row_weight: np.ndarray, label: str,
              progress: bool) -> tuple[Any, GDAResult, ConstraintSet]:
    """Train a fresh copy of the input model under ``constraints`` (none: a baseline) with
    rows weighted by ``row_weight``; returns (model at the selected checkpoint, game result,
    the bound constraints)."""
    cset = ConstraintSet(constraints, groups=data.groups, cf_sets=data.cf_sets,
                         p_human=data.p_human, temperature=settings.temperature)
    train = data.splits.train.rows
    sampler = StratifiedSampler(train, data.strata[train], batch_size=settings.batch_size,
                                row_weight=row_weight, cf_sets=data.cf_sets,
                                cf_sets_per_batch=settings.cf_sets_per_batch)
    model = session.new_model()
    game = PairGame(model, cset, sampler, train_rows=train, dual_rows=data.splits.dual.rows,
                    row_weight=row_weight, p_human=data.p_human,
                    reward_penalty=settings.reward_penalty,
                    objective_rows=settings.objective_rows, random_state=settings.seed)
    bar = ProgressBar(settings.gda.steps, label, progress)
    try:
        result = run_proxygda(game, settings=settings.gda, random_state=settings.seed,
                              callback=bar)
    finally:
        bar.close()
    return model, result, cset


def heldout_margins(model: Any, rows: np.ndarray) -> np.ndarray:
    """Margins d = r(chosen) − r(rejected) of ``model`` on ``rows`` (no gradient)."""
    rc, rr = model.rewards_eval(rows)
    return rc - rr


def compare_methods(session: Session, data: RetrainData, constraints: Sequence[TrainingConstraint],
                    settings: RetrainSettings, faro_rewards: tuple[np.ndarray, np.ndarray],
                    result: GDAResult, slack: float, progress: bool) -> Comparison:
    """The input model, the baselines (when ``settings.baselines``) and Faro on the held-out
    rows, each with the claimed ``constraints``' gaps (see :mod:`faro_audit.retrain.compare`)."""
    rows = data.audit_rows
    T = settings.temperature

    def ev(name: str, margin: np.ndarray, **extra: Any) -> MethodMetrics:
        return evaluate_margins(margin, data, rows, constraints, method=name, temperature=T,
                                description=BASELINE_DESCRIPTIONS[name], extra=extra)

    methods = [ev("original", session.original_margins(rows))]
    if settings.baselines:
        m, r, _ = train_run(session, data, (), settings, row_weight=data.weight,
                            label="unconstrained", progress=progress)
        methods.append(ev("unconstrained", heldout_margins(m, rows),
                          selected_step=r.selected_checkpoint.step))
        del m
        w = balance_weights(data.strata, data.splits.train.rows, data.weight)
        m, r, _ = train_run(session, data, (), settings, row_weight=w, label="reweighting",
                            progress=progress)
        methods.append(ev("reweighting", heldout_margins(m, rows),
                          selected_step=r.selected_checkpoint.step))
        del m
        group_cons = [c for c in constraints if c.metric in ("dp", "eo")]
        if group_cons:
            c0 = group_cons[0]
            dual = data.splits.dual.rows
            shift = fit_group_shift(session.original_margins(dual), data.strata[dual],
                                    weight=data.weight[dual],
                                    p_human=None if data.p_human is None else data.p_human[dual],
                                    metric=c0.metric, hard=c0.outcome == "hard",
                                    temperature=T)
            shifted = shift.apply(session.original_margins(rows), data.strata[rows])
            methods.append(ev("group_shift", shifted, **shift.as_dict()))
    methods.append(ev("faro", faro_rewards[0] - faro_rewards[1], declared_slack=slack,
                      selected_step=result.selected_checkpoint.step,
                      dual_feasible=result.selected_checkpoint.feasible))
    return Comparison(
        data="audit table" if data.n_train_table < data.n_rows else "held-out audit split",
        n_rows=int(rows.size), temperature=T,
        constraints=tuple(c.as_dict() for c in constraints), methods=tuple(methods),
        definitions=dict(DEFINITIONS),
    )


def sweep_tolerances(session: Session, data: RetrainData, constraints: Sequence[TrainingConstraint],
                     settings: RetrainSettings, factors: Sequence[float], progress: bool,
                     say: Callable[[str], None]) -> SweepResult:
    """Faro retrained at each tolerance factor × ε, evaluated on the held-out rows."""
    rows = data.audit_rows

    def fit(scaled: Sequence[TrainingConstraint]) -> tuple[MethodMetrics, GDAResult]:
        m, r, _ = train_run(session, data, scaled, settings, row_weight=data.weight,
                            label="sweep", progress=progress)
        metrics = evaluate_margins(heldout_margins(m, rows), data, rows, scaled, method="faro",
                                   description="sweep point", temperature=settings.temperature)
        return metrics, r

    return run_sweep(fit, constraints, factors=factors,
                     progress=lambda f: say(f"sweep: tolerance factor {f:g}"))
