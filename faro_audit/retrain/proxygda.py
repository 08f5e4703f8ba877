"""ProxyGDA: the proxy-Lagrangian descent–ascent game of Faro retraining (SPEC §7).

The game knows nothing about reward models. A :class:`Game` supplies

* ``minibatch(rng)`` → (J_b, c̃_b): a differentiable minibatch estimate of the objective J(θ)
  and of the m one-sided *proxy* constraints c̃_i(θ) = g̃_i(θ) − ε_i (feasible when ≤ 0);
* ``evaluate()`` → (J, c): the objective on the train split and the *true* one-sided
  constraints c_i(θ) = g_i(θ) − ε_i on the dual split (no gradient; hard outcomes allowed);
* ``parameters()``, ``snapshot()``, ``restore(state)``.

Three multiplier updates:

``"gda"`` (SPEC §7)
    θ ← optimiser step on J_b + Σ_i λ_i c̃_{b,i}; every k steps
    λ_i ← clip(λ_i + η_λ c_i, 0, Λ) with the true values c_i.
``"augmented"`` (the method of multipliers: Hestenes 1969, Powell 1969, Rockafellar 1973)
    θ ← optimiser step on J_b + P_ρ(c̃_b; λ) with the Powell–Hestenes–Rockafellar term
    P_ρ(c; λ) = (1/2ρ) Σ_i [(λ_i + ρ c_i)₊² − λ_i²], ρ = η_λ (:func:`augmented_penalty`); the
    multipliers are updated as for ``"gda"``. Its gradient in c̃_i is (λ_i + ρ c̃_i)₊, so a
    violation is pushed back at once rather than after λ has grown over several updates:
    plain GDA's linear Lagrangian lets θ overshoot while λ lags and then oscillate, which the
    quadratic term damps (the same role as the proportional term of PI-controlled multipliers,
    Stooke, Achiam & Abbeel 2020, ICML).
``"swap-regret"`` (Cotter, Jiang & Sridharan 2019, "Two-player games for efficient non-convex
constrained optimization", ALT, Algorithm 2/4)
    λ ∈ Δ^{m+1} weights the objective and the m constraints, the θ-player descends
    λ_0 J_b + Σ_i λ_i c̃_{b,i}. The λ-player keeps a column-stochastic M ∈ R^{(m+1)×(m+1)}:
    M ← colnormalise(M ⊙ exp(η_λ Δ λᵀ)) with Δ = (0, c_1, …, c_m), and plays the Perron
    (stationary) eigenvector λ = Mλ. This has no swap regret, which is what makes the
    proxy-Lagrangian game (where θ sees proxies and λ sees the true constraints) converge.

θ optimisers: Adam or SGD (one gradient step per step), or L-BFGS (Liu & Nocedal 1989;
:class:`torch.optim.LBFGS` with a strong-Wolfe line search): each step runs up to
``inner_iterations`` quasi-Newton iterations on one minibatch (drawn once per step, so the
closure L-BFGS re-evaluates is deterministic). For small, smooth, ill-conditioned problems such
as a linear score head on a frozen backbone's features (whose second-moment matrix can have a
condition number of 10⁹), first-order steps crawl along the weak directions, while L-BFGS with
full batches (``batch_size=0`` in :mod:`faro_audit.retrain.batches`) and the augmented
multipliers solves each step's Lagrangian nearly exactly; ``k = 1`` then updates λ after every
such solve.

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

from faro_audit.errors import FaroUsageError
from faro_audit.retrain.multipliers import (
    augmented_penalty,
    perron_vector,
    solve_mixture,
)

__all__ = [
    "Checkpoint",
    "GDAResult",
    "GDASettings",
    "Game",
    "Mixture",
    "augmented_penalty",
    "perron_vector",
    "run_proxygda",
    "selection_key",
    "solve_mixture",
]

MultiplierUpdate = Literal["gda", "augmented", "swap-regret"]


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
        Learning rate of the θ optimiser (for L-BFGS the initial step length; 1 is the usual
        choice with its line search).
    optimizer : {"adam", "sgd", "lbfgs"}
        θ optimiser (:class:`torch.optim.Adam`, plain :class:`torch.optim.SGD`, or
        :class:`torch.optim.LBFGS` with a strong-Wolfe line search).
    inner_iterations : int
        L-BFGS iterations per step (ignored by Adam and SGD).
    eta_lambda : float
        η_λ, the multiplier step (ρ of the augmented Lagrangian).
    lambda_max : float
        Λ, the upper clip of the GDA and augmented multipliers (ignored by swap-regret, whose
        λ is on the simplex).
    multiplier_update : {"gda", "augmented", "swap-regret"}
    mixture : bool
        Also solve the Cotter et al. linear program for a mixture of checkpoints (keeps every
        recorded snapshot in memory).
    """

    steps: int = 1000
    eval_every: int = 10
    lr: float = 1e-2
    optimizer: str = "adam"
    inner_iterations: int = 20
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
        if self.optimizer not in ("adam", "sgd", "lbfgs"):
            raise FaroUsageError(
                f"optimizer {self.optimizer!r} is unknown; use 'adam', 'sgd' or 'lbfgs'")
        if int(self.inner_iterations) < 1:
            raise FaroUsageError(f"inner_iterations must be ≥ 1; got {self.inner_iterations}")
        if self.multiplier_update not in ("gda", "augmented", "swap-regret"):
            raise FaroUsageError(
                f"multiplier_update {self.multiplier_update!r} is unknown; use 'gda', "
                "'augmented' or 'swap-regret'"
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


def _make_optimizer(params: Sequence[torch.Tensor], s: GDASettings) -> torch.optim.Optimizer:
    if s.optimizer == "sgd":
        return torch.optim.SGD(list(params), lr=s.lr)
    if s.optimizer == "lbfgs":
        return torch.optim.LBFGS(list(params), lr=s.lr, max_iter=int(s.inner_iterations),
                                 history_size=20, line_search_fn="strong_wolfe")
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
    augmented = s.multiplier_update == "augmented"
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

    def step_loss(batch_rng: np.random.Generator) -> torch.Tensor:
        """The θ-player's loss on one minibatch, with the current multipliers."""
        J_b, c_b = game.minibatch(batch_rng)
        loss = float(lam_full[0]) * J_b
        if m and augmented:
            loss = loss + augmented_penalty(c_b.reshape(m), lam_full[1:], s.eta_lambda)
        elif m:
            weights = torch.as_tensor(lam_full[1:], dtype=c_b.dtype)
            loss = loss + torch.dot(weights, c_b.reshape(m))
        return loss

    for t in range(1, s.steps + 1):
        if isinstance(opt, torch.optim.LBFGS):
            seed = int(rng.integers(2**63))  # the same minibatch in every closure call

            def closure(seed: int = seed) -> torch.Tensor:
                opt.zero_grad(set_to_none=True)
                loss = step_loss(np.random.default_rng(seed))
                loss.backward()
                return loss

            opt.step(closure)
        else:
            loss = step_loss(rng)
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
