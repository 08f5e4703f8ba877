"""The fairness-constrained reward-model problem as a ProxyGDA :class:`~faro_audit.retrain.proxygda.Game`.

Objective (SPEC §7): J(θ) = mean_i w_i ℓ_i / mean_i w_i over the train split, with the BT
negative log-likelihood ℓ_i = −log σ(d_i) (with a rater share p_i: −[p_i log σ(d_i) +
(1 − p_i) log σ(−d_i)]) of the margin d_i = r(x_i, chosen_i) − r(x_i, rejected_i), plus
c · mean_i w_i (r(x_i, chosen_i)² + r(x_i, rejected_i)²)/2 when ``reward_penalty`` c > 0 (pins
the BT offset, which the likelihood leaves free).

A step uses a stratified minibatch (:mod:`faro_audit.retrain.batches`); the recorded J and
the true constraints are computed on the whole train and dual split (``objective_rows`` caps
the train rows used for the recorded J with a fixed seeded subsample, for ``full``/``lora`` on
large data).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from faro_audit.retrain.batches import StratifiedSampler
from faro_audit.retrain.constraints import ConstraintSet
from faro_audit.retrain.modes import PairRewardModel

__all__ = ["PairGame", "bt_objective"]


def bt_objective(d: torch.Tensor, weight: torch.Tensor, p_human: torch.Tensor | None, *,
                 reward_penalty: float = 0.0, rc: torch.Tensor | None = None,
                 rr: torch.Tensor | None = None) -> torch.Tensor:
    """Weighted mean BT NLL of margins d (+ c · mean squared reward of rc, rr), see the module
    docstring."""
    if p_human is None:
        loss = F.softplus(-d)
    else:
        p = p_human.to(d.dtype)  # the margins' precision (float32 in head mode)
        loss = p * F.softplus(-d) + (1.0 - p) * F.softplus(d)
    if reward_penalty > 0:
        assert rc is not None and rr is not None
        loss = loss + reward_penalty * 0.5 * (rc**2 + rr**2)
    w = weight.to(loss.dtype)
    return (w * loss).sum() / w.sum()


class PairGame:
    """Game of one retraining run.

    Parameters
    ----------
    model : PairRewardModel
    constraints : ConstraintSet
    sampler : StratifiedSampler
        Draws minibatches from the train split.
    train_rows, dual_rows : numpy.ndarray of int
    row_weight : numpy.ndarray, shape (n_table_rows,)
        ``weight`` column (or 1) per table row (a reweighting baseline passes its weights).
    p_human : numpy.ndarray, optional
        Rater shares per table row.
    reward_penalty : float
    objective_rows : int, optional
        Cap on the train rows of the recorded J (a fixed subsample).
    random_state : int
    """

    def __init__(self, model: PairRewardModel, constraints: ConstraintSet, sampler: StratifiedSampler,
                 *, train_rows: np.ndarray, dual_rows: np.ndarray, row_weight: np.ndarray,
                 p_human: np.ndarray | None = None, reward_penalty: float = 0.0,
                 objective_rows: int | None = None, random_state: int = 0) -> None:
        self.model = model
        self.constraints = constraints
        self.sampler = sampler
        self.n_constraints = constraints.n_one_sided
        self.row_weight = np.asarray(row_weight, dtype=np.float64)
        self.p_human = (None if p_human is None
                        else torch.from_numpy(np.array(p_human, dtype=np.float64)))
        self.reward_penalty = float(reward_penalty)
        train_rows = np.asarray(train_rows, dtype=np.int64)
        if objective_rows is not None and train_rows.size > objective_rows:
            rng = np.random.default_rng(random_state)
            train_rows = np.sort(rng.choice(train_rows, size=int(objective_rows), replace=False))
        self.objective_rows = train_rows
        self.dual_rows = np.asarray(dual_rows, dtype=np.int64)
        cf = constraints.cf_sets
        self._dual_in_set = (np.zeros(self.dual_rows.size, bool) if cf is None
                             else cf[self.dual_rows] >= 0)

    def parameters(self) -> list[torch.Tensor]:
        return self.model.trainable()

    def _p(self, rows: np.ndarray) -> torch.Tensor | None:
        if self.p_human is None:
            return None
        return torch.index_select(self.p_human, 0, torch.as_tensor(np.asarray(rows, dtype=np.int64)))

    def _margins(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor | None,
                                                  torch.Tensor | None]:
        """(d, rc, rr) with gradient; head models give d directly when rewards are not needed."""
        fast = getattr(self.model, "margins", None)
        if fast is not None and self.reward_penalty == 0:
            return fast(rows), None, None
        rc, rr = self.model.rewards(rows)
        return rc - rr, rc, rr

    def minibatch(self, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        batch = self.sampler.sample(rng)
        n = batch.rows.size
        rows = np.concatenate([batch.rows, batch.cf_rows]) if batch.cf_rows.size else batch.rows
        d, rc, rr = self._margins(rows)
        w = torch.as_tensor(batch.weight)
        J = bt_objective(d[:n], w, self._p(batch.rows), reward_penalty=self.reward_penalty,
                         rc=None if rc is None else rc[:n], rr=None if rr is None else rr[:n])
        c = self.constraints.values(d[:n], batch.rows, w, cf_margin=d[n:],
                                    cf_rows=batch.cf_rows, proxy=True)
        return J, c

    def _margins_eval(self, rows: np.ndarray) -> np.ndarray:
        fast = getattr(self.model, "margins_eval", None)
        if fast is not None:
            return fast(rows)
        rc, rr = self.model.rewards_eval(rows)
        return rc - rr

    def objective(self, rows: np.ndarray) -> float:
        """J over ``rows`` (no gradient)."""
        w = torch.as_tensor(self.row_weight[rows])
        if self.reward_penalty == 0:
            d = torch.as_tensor(self._margins_eval(rows))
            return float(bt_objective(d, w, self._p(rows)))
        rc, rr = (torch.as_tensor(x) for x in self.model.rewards_eval(rows))
        return float(bt_objective(rc - rr, w, self._p(rows), reward_penalty=self.reward_penalty,
                                  rc=rc, rr=rr))

    def dual_values(self) -> np.ndarray:
        """True one-sided constraint values c = g − ε on the dual split."""
        rows = self.dual_rows
        d = torch.as_tensor(self._margins_eval(rows))
        w = torch.as_tensor(self.row_weight[rows])
        in_set = torch.as_tensor(self._dual_in_set)
        with torch.no_grad():
            c = self.constraints.values(d, rows, w, cf_margin=d[in_set],
                                        cf_rows=rows[self._dual_in_set], proxy=False)
        return c.numpy().astype(np.float64)

    def evaluate(self) -> tuple[float, np.ndarray]:
        return self.objective(self.objective_rows), self.dual_values()

    def snapshot(self) -> Any:
        return self.model.snapshot()

    def restore(self, state: Any) -> None:
        self.model.restore(state)
