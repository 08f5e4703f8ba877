"""ProxyGDA: the proxy-Lagrangian descent–ascent game of Faro retraining (SPEC §7).

The game knows nothing about reward models. A :class:`Game` supplies

* ``minibatch(rng)`` → (J_b, c̃_b): a differentiable minibatch estimate of the objective J(θ)
  and of the m one-sided *proxy* constraints c̃_i(θ) = g̃_i(θ) − ε_i (feasible when ≤ 0);
* ``evaluate()`` → (J, c): the objective on the train split and the *true* one-sided
  constraints c_i(θ) = g_i(θ) − ε_i on the dual split (no gradient; hard outcomes allowed);
* ``parameters()``, ``snapshot()``, ``restore(state)``.

Two multiplier updates:

``"gda"`` (SPEC §7)
    θ ← optimiser step on J_b + Σ_i λ_i c̃_{b,i}; every k steps
    λ_i ← clip(λ_i + η_λ c_i, 0, Λ) with the true values c_i.
``"swap-regret"`` (Cotter, Jiang & Sridharan 2019, "Two-player games for efficient non-convex
constrained optimization", ALT, Algorithm 2/4)
    λ ∈ Δ^{m+1} weights the objective and the m constraints, the θ-player descends
    λ_0 J_b + Σ_i λ_i c̃_{b,i}. The λ-player keeps a column-stochastic M ∈ R^{(m+1)×(m+1)}:
    M ← colnormalise(M ⊙ exp(η_λ Δ λᵀ)) with Δ = (0, c_1, …, c_m), and plays the Perron
    (stationary) eigenvector λ = Mλ. This has no swap regret, which is what makes the
    proxy-Lagrangian game (where θ sees proxies and λ sees the true constraints) converge.

Every k steps (and at step 0 and the last step) the game evaluates J and c at the current θ,
updates λ with these c, and records (step, J, c, λ after the update).

Selection (SPEC §7): among recorded checkpoints feasible on the dual split (max_i c_i ≤ 0), the
one with the lowest J; if none is feasible, the one with the smallest largest violation
max_i c_i. This order is total, so it is applied online and only the best snapshot is kept.
Declared slack s = max_i (c_i(selected))⁺ = max_j (g_j − ε_j)⁺.

Optional mixture (Cotter et al. 2019, §5 "shrinking"): the linear program
min_p Σ_t p_t J_t s.t. Σ_t p_t c_{i,t} ≤ 0, p ∈ Δ^T over all recorded checkpoints, solved with
a simplex method (:func:`scipy.optimize.linprog`, HiGHS dual simplex) so that the solution is a
vertex with at most m + 1 non-zero weights. If the program is infeasible, the mixture first
minimises the largest expected violation ξ and then J at that ξ. The mixture is a randomised
model; the deterministic model returned is its support point that the SPEC §7 rule selects.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import torch
from scipy.optimize import linprog

from faro_audit.errors import FaroUsageError

__all__ = [
    "Checkpoint",
    "GDAResult",
    "GDASettings",
    "Game",
    "Mixture",
    "perron_vector",
    "run_proxygda",
    "selection_key",
    "solve_mixture",
]

MultiplierUpdate = Literal["gda", "swap-regret"]


class Game(Protocol):
    """What :func:`run_proxygda` needs from a constrained learning problem."""

    n_constraints: int

    def parameters(self) -> Sequence[torch.Tensor]: ...

    def minibatch(self, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]: ...

    def evaluate(self) -> tuple[float, np.ndarray]: ...

    def snapshot(self) -> Any: ...

    def restore(self, state: Any) -> None: ...


@dataclass(frozen=True)
class GDASettings:
    """Settings of the descent–ascent game.

    Attributes
    ----------
    steps : int
        Number of θ steps T.
    eval_every : int
        k: evaluate the true constraints, update λ and record every k steps.
    lr : float
        Learning rate of the θ optimiser.
    optimizer : {"adam", "sgd"}
        θ optimiser (:class:`torch.optim.Adam` or plain :class:`torch.optim.SGD`).
    eta_lambda : float
        η_λ, the multiplier step.
    lambda_max : float
        Λ, the upper clip of the GDA multipliers (ignored by swap-regret, whose λ is on the simplex).
    multiplier_update : {"gda", "swap-regret"}
    mixture : bool
        Also solve the Cotter et al. linear program for a mixture of checkpoints (keeps every
        recorded snapshot in memory).
    """

    steps: int = 1000
    eval_every: int = 10
    lr: float = 1e-2
    optimizer: str = "adam"
    eta_lambda: float = 1.0
    lambda_max: float = 100.0
    multiplier_update: MultiplierUpdate = "gda"
    mixture: bool = False

    def __post_init__(self) -> None:
        if int(self.steps) < 1:
            raise FaroUsageError(f"steps must be ≥ 1; got {self.steps}")
        if int(self.eval_every) < 1:
            raise FaroUsageError(f"eval_every must be ≥ 1; got {self.eval_every}")
        for name in ("lr", "eta_lambda", "lambda_max"):
            v = float(getattr(self, name))
            if not (math.isfinite(v) and v > 0):
                raise FaroUsageError(f"{name} must be a finite number > 0; got {v!r}")
        if self.optimizer not in ("adam", "sgd"):
            raise FaroUsageError(f"optimizer {self.optimizer!r} is unknown; use 'adam' or 'sgd'")
        if self.multiplier_update not in ("gda", "swap-regret"):
            raise FaroUsageError(
                f"multiplier_update {self.multiplier_update!r} is unknown; use 'gda' or 'swap-regret'"
            )


@dataclass(frozen=True)
class Checkpoint:
    """One recorded evaluation: (step, J, c, λ). ``values`` are c_i = g_i − ε_i on the dual split."""

    step: int
    objective: float
    values: tuple[float, ...]
    lambdas: tuple[float, ...]

    @property
    def max_violation(self) -> float:
        """max_i c_i (≤ 0 means feasible); −inf without constraints."""
        return max(self.values) if self.values else -math.inf

    @property
    def feasible(self) -> bool:
        return self.max_violation <= 0.0


@dataclass(frozen=True)
class Mixture:
    """A distribution over recorded checkpoints (indices into ``GDAResult.history``)."""

    indices: tuple[int, ...]
    weights: tuple[float, ...]
    objective: float
    values: tuple[float, ...]
    feasible: bool


@dataclass(frozen=True)
class GDAResult:
    """Outcome of :func:`run_proxygda`.

    Attributes
    ----------
    history : tuple of Checkpoint
    selected : int
        Index into ``history`` of the selected checkpoint (its state is restored in the game).
    declared_slack : float
        s = max_i (c_i(selected))⁺.
    mixture : Mixture or None
    """

    history: tuple[Checkpoint, ...]
    selected: int
    declared_slack: float
    mixture: Mixture | None = None
    settings: GDASettings = field(default_factory=GDASettings)

    @property
    def selected_checkpoint(self) -> Checkpoint:
        return self.history[self.selected]


def selection_key(cp: Checkpoint) -> tuple[int, float]:
    """SPEC §7 order: feasible before infeasible; then lowest J, resp. smallest violation."""
    return (0, cp.objective) if cp.feasible else (1, cp.max_violation)


def perron_vector(matrix: np.ndarray) -> np.ndarray:
    """Stationary distribution λ = Mλ of a column-stochastic matrix M (Perron vector).

    Computed from the eigenvector of the eigenvalue closest to 1 (:func:`numpy.linalg.eig`),
    made non-negative and normalised to sum 1.
    """
    vals, vecs = np.linalg.eig(matrix)
    v = np.real(vecs[:, int(np.argmin(np.abs(vals - 1.0)))])
    v = np.abs(v)
    return v / v.sum()


def solve_mixture(objectives: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, bool]:
    """Cotter et al.'s "shrinking" linear program over T checkpoints and m constraints.

    min_p Σ_t p_t J_t  s.t.  Σ_t p_t c_{i,t} ≤ 0 (i = 1..m), Σ_t p_t = 1, p ≥ 0.

    Solved by the HiGHS dual simplex, whose optimum is a basic solution: at most m + 1 weights
    are non-zero (m inequality rows plus one equality). When infeasible, phase 1 finds the
    smallest ξ with Σ_t p_t c_{i,t} ≤ ξ and phase 2 minimises J subject to that ξ.

    Parameters
    ----------
    objectives : numpy.ndarray, shape (T,)
    values : numpy.ndarray, shape (T, m)

    Returns
    -------
    (weights, feasible) : (numpy.ndarray of shape (T,), bool)
    """
    J = np.asarray(objectives, dtype=np.float64)
    C = np.asarray(values, dtype=np.float64).reshape(J.shape[0], -1)
    T, m = C.shape
    a_eq, b_eq = np.ones((1, T)), np.array([1.0])
    if m == 0:
        p = np.zeros(T)
        p[int(np.argmin(J))] = 1.0
        return p, True
    res = linprog(J, A_ub=C.T, b_ub=np.zeros(m), A_eq=a_eq, b_eq=b_eq, bounds=(0, None),
                  method="highs-ds")
    feasible = res.status == 0
    if not feasible:
        # phase 1: variables (p, ξ); minimise ξ s.t. C^T p − ξ ≤ 0
        c1 = np.r_[np.zeros(T), 1.0]
        a_ub = np.c_[C.T, -np.ones(m)]
        r1 = linprog(c1, A_ub=a_ub, b_ub=np.zeros(m), A_eq=np.c_[a_eq, 0.0], b_eq=b_eq,
                     bounds=[(0, None)] * T + [(None, None)], method="highs-ds")
        xi = float(r1.x[-1])
        res = linprog(J, A_ub=C.T, b_ub=np.full(m, xi + 1e-12), A_eq=a_eq, b_eq=b_eq,
                      bounds=(0, None), method="highs-ds")
    p = np.clip(res.x[:T], 0.0, None)
    p[p < 1e-12] = 0.0
    return p / p.sum(), feasible


def _make_optimizer(params: Sequence[torch.Tensor], s: GDASettings) -> torch.optim.Optimizer:
    if s.optimizer == "sgd":
        return torch.optim.SGD(list(params), lr=s.lr)
    return torch.optim.Adam(list(params), lr=s.lr)


def run_proxygda(
    game: Game,
    *,
    settings: GDASettings,
    random_state: int = 0,
    callback: Callable[[Checkpoint], None] | None = None,
) -> GDAResult:
    """Play the ProxyGDA game (SPEC §7) and restore the selected checkpoint into ``game``.

    Parameters
    ----------
    game : Game
        The constrained problem (objective, proxy and true one-sided constraints, state).
    settings : GDASettings
    random_state : int
        Seed of the minibatch generator (:func:`numpy.random.default_rng`) and of torch.
    callback : callable, optional
        Called with each new :class:`Checkpoint` (progress display).

    Returns
    -------
    GDAResult
    """
    s = settings
    m = int(game.n_constraints)
    rng = np.random.default_rng(random_state)
    torch.manual_seed(random_state)
    params = [p for p in game.parameters() if p.requires_grad]
    if not params:
        raise FaroUsageError("the model has no trainable parameters; check the retraining mode")
    opt = _make_optimizer(params, s)
    swap = s.multiplier_update == "swap-regret"
    if swap:
        # start with half the weight on the objective, the rest spread over the constraints
        col = np.r_[0.5, np.full(m, 0.5 / m)] if m else np.ones(1)
        M = np.tile(col[:, None], (1, m + 1))
        lam_full = perron_vector(M)
    else:
        M = np.ones((1, 1))
        lam_full = np.r_[1.0, np.zeros(m)]

    history: list[Checkpoint] = []
    snapshots: list[Any] = []
    best: tuple[tuple[int, float], int, Any] | None = None

    def evaluate_update_record(step: int) -> None:
        """Evaluate J and the true c on the dual split, update λ with them, record."""
        nonlocal best, lam_full, M
        J, c = game.evaluate()
        c = np.asarray(c, dtype=np.float64).reshape(m)
        if m and swap:
            delta = np.r_[0.0, c]
            M = M * np.exp(np.clip(s.eta_lambda * np.outer(delta, lam_full), -50.0, 50.0))
            M = M / M.sum(axis=0, keepdims=True)
            lam_full = perron_vector(M)
        elif m:
            lam_full = np.r_[1.0, np.clip(lam_full[1:] + s.eta_lambda * c, 0.0, s.lambda_max)]
        cp = Checkpoint(step, float(J), tuple(map(float, c)), tuple(map(float, lam_full)))
        history.append(cp)
        state = game.snapshot()
        if s.mixture:
            snapshots.append(state)
        key = selection_key(cp)
        if best is None or key < best[0]:
            best = (key, len(history) - 1, state)
        if callback is not None:
            callback(cp)

    evaluate_update_record(0)
    for t in range(1, s.steps + 1):
        J_b, c_b = game.minibatch(rng)
        weights = torch.as_tensor(lam_full, dtype=J_b.dtype)
        loss = weights[0] * J_b
        if m:
            loss = loss + torch.dot(weights[1:], c_b.reshape(m))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if t % s.eval_every == 0 or t == s.steps:
            evaluate_update_record(t)
    assert best is not None
    mixture = None
    selected = best[1]
    state = best[2]
    if s.mixture and len(history) > 1:
        J_all = np.array([h.objective for h in history])
        C_all = np.array([h.values for h in history]).reshape(len(history), m)
        p, feasible = solve_mixture(J_all, C_all)
        support = np.flatnonzero(p > 0)
        mixture = Mixture(
            indices=tuple(int(i) for i in support),
            weights=tuple(float(p[i]) for i in support),
            objective=float(p @ J_all),
            values=tuple(map(float, p @ C_all)) if m else (),
            feasible=bool(feasible),
        )
        selected = min(support, key=lambda i: selection_key(history[i]))
        state = snapshots[selected]
    game.restore(state)
    chosen = history[selected]
    slack = max(0.0, chosen.max_violation) if m else 0.0
    return GDAResult(tuple(history), int(selected), float(slack), mixture, s)
