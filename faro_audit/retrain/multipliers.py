"""The multiplier player's pieces of ProxyGDA (:mod:`faro_audit.retrain.proxygda`).

* :func:`augmented_penalty` — the Powell–Hestenes–Rockafellar term of the ``"augmented"``
  multiplier update (the method of multipliers);
* :func:`perron_vector` — the stationary distribution played by the ``"swap-regret"`` update
  (Cotter, Jiang & Sridharan 2019, ALT);
* :func:`solve_mixture` — Cotter et al.'s "shrinking" linear program for a mixture of at most
  m + 1 recorded checkpoints.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linprog

__all__ = ["augmented_penalty", "perron_vector", "solve_mixture"]


def augmented_penalty(values: torch.Tensor, lambdas: np.ndarray, rho: float) -> torch.Tensor:
    """Powell–Hestenes–Rockafellar augmented-Lagrangian term for constraints c ≤ 0.

    P_ρ(c; λ) = (1 / (2ρ)) Σ_i [ (λ_i + ρ c_i)₊² − λ_i² ]   (Rockafellar 1973; Bertsekas 1982,
    *Constrained Optimization and Lagrange Multiplier Methods*, §3.1). Its gradient in c_i is
    (λ_i + ρ c_i)₊, the multiplier the next update would give: the force on a violated
    constraint grows with the violation at once instead of only through λ (which lags by k
    steps), and it vanishes, together with the term itself, when c_i ≤ −λ_i/ρ.
    """
    lam = torch.as_tensor(np.asarray(lambdas, dtype=np.float64), dtype=values.dtype)
    return (torch.clamp(lam + rho * values, min=0.0).pow(2) - lam.pow(2)).sum() / (2.0 * rho)


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
