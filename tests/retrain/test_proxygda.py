"""ProxyGDA on problems with a known solution (SPEC §7)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from faro_audit.errors import FaroUsageError
from faro_audit.retrain.proxygda import (
    Checkpoint,
    GDASettings,
    augmented_penalty,
    perron_vector,
    run_proxygda,
    selection_key,
    solve_mixture,
)


class QuadraticParityGame:
    """Ridge regression with one anchored parity constraint on a linear reward r = θ·x.

    J(θ) = ½ mean_i (θ·x_i − y_i)² + ½ρ‖θ‖² = ½ θᵀHθ − bᵀθ + const with H = XᵀX/n + ρI,
    b = Xᵀy/n. Group A's mean reward minus the pooled mean is a·θ with a = x̄_A − x̄, and the
    anchored constraint |a·θ| ≤ ε is the two one-sided constraints ±a·θ − ε ≤ 0.

    KKT (derived by hand): the unconstrained optimum is θ_u = H⁻¹b. If |a·θ_u| ≤ ε it is the
    answer. Otherwise the active side s = sign(a·θ_u) has multiplier
    ν = (s·a·θ_u − ε) / (aᵀH⁻¹a) > 0 and θ* = θ_u − ν s H⁻¹a, so that s·a·θ* = ε.
    """

    def __init__(self, seed: int = 0, n: int = 400, d: int = 5, rho: float = 0.1,
                 eps: float = 0.05, batch: int | None = None) -> None:
        rng = np.random.default_rng(seed)
        g = rng.random(n) < 0.3
        X = rng.normal(size=(n, d)) + np.where(g[:, None], 0.8, 0.0)
        y = X @ rng.normal(size=d) + 2.0 * g + rng.normal(scale=0.3, size=n)
        self.X, self.y, self.g, self.rho, self.eps, self.batch = X, y, g, rho, eps, batch
        self.H = X.T @ X / n + rho * np.eye(d)
        self.b = X.T @ y / n
        self.a = X[g].mean(0) - X.mean(0)
        self.theta = torch.zeros(d, dtype=torch.float64, requires_grad=True)
        self.Xt = torch.as_tensor(X)
        self.yt = torch.as_tensor(y)
        self.at = torch.as_tensor(self.a)
        self.n_constraints = 2

    def solution(self) -> np.ndarray:
        Hinv = np.linalg.inv(self.H)
        tu = Hinv @ self.b
        v = self.a @ tu
        if abs(v) <= self.eps:
            return tu
        s = np.sign(v)
        nu = (s * v - self.eps) / (self.a @ Hinv @ self.a)
        return tu - nu * s * Hinv @ self.a

    def objective(self, theta: np.ndarray) -> float:
        r = self.X @ theta - self.y
        return 0.5 * float(np.mean(r**2)) + 0.5 * self.rho * float(theta @ theta)

    def parameters(self):
        return [self.theta]

    def minibatch(self, rng):
        if self.batch is None:
            rows = slice(None)
            Xb, yb = self.Xt, self.yt
            ab = self.at
        else:
            rows = rng.choice(self.X.shape[0], self.batch, replace=False)
            Xb, yb = self.Xt[rows], self.yt[rows]
            gb = torch.as_tensor(self.g[rows])
            ab = Xb[gb].mean(0) - Xb.mean(0)
        J = 0.5 * torch.mean((Xb @ self.theta - yb) ** 2) + 0.5 * self.rho * self.theta @ self.theta
        v = ab @ self.theta
        return J, torch.stack([v - self.eps, -v - self.eps])

    def evaluate(self):
        th = self.theta.detach().numpy()
        v = self.a @ th
        return self.objective(th), np.array([v - self.eps, -v - self.eps])

    def snapshot(self):
        return self.theta.detach().clone()

    def restore(self, state):
        with torch.no_grad():
            self.theta.copy_(state)


def test_known_solution_gda_full_batch():
    """GDA reaches the hand-derived KKT point to within 1e-3 (‖θ − θ*‖) and 1e-5 in J."""
    game = QuadraticParityGame(seed=0)
    theta_star = game.solution()
    assert abs(game.a @ np.linalg.solve(game.H, game.b)) > game.eps + 0.05  # constraint active
    res = run_proxygda(game, settings=GDASettings(steps=1500, eval_every=5, lr=0.05,
                                                   optimizer="sgd", eta_lambda=2.0))
    th = game.theta.detach().numpy()
    sel = res.selected_checkpoint
    assert sel.feasible and res.declared_slack == 0.0
    assert np.linalg.norm(th - theta_star) < 1e-3
    assert abs(sel.objective - game.objective(theta_star)) < 1e-5
    # the multiplier of the active side converges to ν (KKT)
    Hinv = np.linalg.inv(game.H)
    v = game.a @ Hinv @ game.b
    nu = (abs(v) - game.eps) / (game.a @ Hinv @ game.a)
    active = 1 if v > 0 else 2
    assert sel.lambdas[active] == pytest.approx(nu, rel=0.02)


def test_known_solution_minibatch_adam():
    """Stochastic minibatches and Adam: within 0.05 of θ*, feasible, J within 5e-3."""
    game = QuadraticParityGame(seed=1, batch=100)
    theta_star = game.solution()
    res = run_proxygda(game, settings=GDASettings(steps=1500, eval_every=10, lr=0.02,
                                                   eta_lambda=1.0), random_state=3)
    th = game.theta.detach().numpy()
    assert res.selected_checkpoint.feasible
    assert np.linalg.norm(th - theta_star) < 0.05
    assert res.selected_checkpoint.objective - game.objective(theta_star) < 5e-3


@pytest.mark.parametrize("batch", [None, 400])
def test_known_solution_lbfgs_augmented(batch):
    """L-BFGS steps with augmented-Lagrangian multipliers reach the KKT point of the full-batch
    problem in a few steps (batch 400 of 400 rows: a permuted full batch, the same game), and
    the multiplier converges to ν (the method of multipliers' update λ ← (λ + ρc)₊)."""
    game = QuadraticParityGame(seed=0, batch=batch)
    theta_star = game.solution()
    res = run_proxygda(game, settings=GDASettings(steps=15, eval_every=1, lr=1.0,
                                                   optimizer="lbfgs", inner_iterations=50,
                                                   multiplier_update="augmented",
                                                   eta_lambda=10.0))
    sel = res.selected_checkpoint
    assert sel.max_violation <= 1e-6
    assert np.linalg.norm(game.theta.detach().numpy() - theta_star) < 1e-4
    assert abs(sel.objective - game.objective(theta_star)) < 1e-5
    Hinv = np.linalg.inv(game.H)
    v = game.a @ Hinv @ game.b
    nu = (abs(v) - game.eps) / (game.a @ Hinv @ game.a)
    active = 1 if v > 0 else 2
    assert res.history[-1].lambdas[active] == pytest.approx(nu, rel=1e-3)


def test_augmented_beats_plain_gda_with_the_same_steps():
    """The quadratic term damps the multiplier lag: with the same 15 L-BFGS steps, plain GDA
    (linear Lagrangian) is still far from θ*, the augmented Lagrangian is not."""
    errs = {}
    for update in ("gda", "augmented"):
        game = QuadraticParityGame(seed=0)
        run_proxygda(game, settings=GDASettings(steps=15, eval_every=1, lr=1.0,
                                                optimizer="lbfgs", inner_iterations=50,
                                                multiplier_update=update, eta_lambda=10.0))
        errs[update] = np.linalg.norm(game.theta.detach().numpy() - game.solution())
    assert errs["augmented"] < 1e-4
    assert errs["gda"] > 1e-2


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-2, 2), min_size=1, max_size=6), st.integers(0, 10_000),
       st.floats(0.1, 50))
def test_augmented_penalty_value_and_gradient(values, seed, rho):
    """P = (1/2ρ) Σ [(λ + ρc)₊² − λ²] and ∂P/∂c = (λ + ρc)₊ (the updated multiplier)."""
    c = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    lam = np.random.default_rng(seed).random(len(values)) * 3
    p = augmented_penalty(c, lam, rho)
    plus = np.maximum(lam + rho * np.asarray(values), 0.0)
    assert float(p.detach()) == pytest.approx(float(np.sum(plus**2 - lam**2) / (2 * rho)), abs=1e-9)
    p.backward()
    np.testing.assert_allclose(c.grad.numpy(), plus, atol=1e-9)


def test_inactive_constraint_gives_unconstrained_optimum():
    game = QuadraticParityGame(seed=0, eps=1.0)
    tu = np.linalg.solve(game.H, game.b)
    res = run_proxygda(game, settings=GDASettings(steps=1000, eval_every=5, lr=0.05,
                                                   optimizer="sgd"))
    assert np.linalg.norm(game.theta.detach().numpy() - tu) < 1e-3
    assert all(lam == 0.0 for lam in res.selected_checkpoint.lambdas[1:])


def test_swap_regret_mixture_is_near_optimal():
    """Cotter et al.'s swap-regret λ with the LP mixture: ≤ m+1 = 3 checkpoints, expected
    constraint satisfied, expected J within 1e-3 of the optimum (convex problem)."""
    game = QuadraticParityGame(seed=0)
    theta_star = game.solution()
    res = run_proxygda(game, settings=GDASettings(steps=1500, eval_every=5, lr=0.05,
                                                   optimizer="sgd", eta_lambda=5.0,
                                                   multiplier_update="swap-regret",
                                                   mixture=True))
    mix = res.mixture
    assert mix is not None and mix.feasible
    assert 1 <= len(mix.indices) <= game.n_constraints + 1
    assert sum(mix.weights) == pytest.approx(1.0)
    assert max(mix.values) <= 1e-9
    assert mix.objective - game.objective(theta_star) < 1e-3
    for lam in (res.history[i].lambdas for i in mix.indices):
        assert sum(lam) == pytest.approx(1.0) and min(lam) >= 0
    # the deterministic model is the support point selected by the SPEC §7 rule
    sup = [res.history[i] for i in mix.indices]
    assert res.selected_checkpoint == min(sup, key=selection_key)


def test_solve_mixture_known_lp():
    # Two checkpoints: one feasible (J=2, c=-1), one infeasible but better (J=0, c=1):
    # the optimal mixture puts ½ on each (c = 0 active), J = 1.
    p, ok = solve_mixture(np.array([2.0, 0.0, 3.0]), np.array([[-1.0], [1.0], [-2.0]]))
    assert ok
    np.testing.assert_allclose(p, [0.5, 0.5, 0.0], atol=1e-9)


def test_solve_mixture_infeasible_minimises_violation():
    p, ok = solve_mixture(np.array([0.0, 1.0]), np.array([[2.0], [0.5]]))
    assert not ok
    np.testing.assert_allclose(p, [0.0, 1.0], atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 6), st.integers(0, 10_000))
def test_perron_vector_is_stationary(k, seed):
    M = np.random.default_rng(seed).random((k, k)) + 1e-3
    M /= M.sum(0, keepdims=True)
    lam = perron_vector(M)
    assert lam.min() >= 0 and lam.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(M @ lam, lam, atol=1e-9)


def test_selection_rule_order():
    feas_hi = Checkpoint(1, 2.0, (-0.1,), (0.0,))
    feas_lo = Checkpoint(2, 1.0, (0.0,), (0.0,))
    infeas_small = Checkpoint(3, 0.1, (0.01,), (0.0,))
    infeas_big = Checkpoint(4, 0.0, (0.5,), (0.0,))
    order = sorted([infeas_big, feas_hi, infeas_small, feas_lo], key=selection_key)
    assert [c.step for c in order] == [2, 1, 3, 4]


def test_selected_state_is_restored_and_history_recorded():
    game = QuadraticParityGame(seed=2)
    res = run_proxygda(game, settings=GDASettings(steps=40, eval_every=7, lr=0.05,
                                                   optimizer="sgd"))
    assert [h.step for h in res.history] == [0, 7, 14, 21, 28, 35, 40]
    J, c = game.evaluate()
    sel = res.selected_checkpoint
    assert J == pytest.approx(sel.objective) and np.allclose(c, sel.values)
    assert res.declared_slack == pytest.approx(max(0.0, max(sel.values)))


def test_settings_validation():
    with pytest.raises(FaroUsageError, match="steps"):
        GDASettings(steps=0)
    with pytest.raises(FaroUsageError, match="multiplier_update"):
        GDASettings(multiplier_update="adam")  # type: ignore[arg-type]
    with pytest.raises(FaroUsageError, match="optimizer"):
        GDASettings(optimizer="newton")
    with pytest.raises(FaroUsageError, match="inner_iterations"):
        GDASettings(optimizer="lbfgs", inner_iterations=0)
