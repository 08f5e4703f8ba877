"""SPEC §6: reward gap → bounds on the exact KL-regularised optimum, checked numerically."""

from __future__ import annotations

import math

import numpy as np
import pytest

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.stats.policy_bound import PolicyBound, policy_bound


def kl_optimal_policy(pi_ref: np.ndarray, reward: np.ndarray, *, beta: float) -> np.ndarray:
    """The exact optimum π_r(y) = π_ref(y) exp(r(y)/β) / Z over a finite response set (the oracle).

    A softmax of log π_ref + r/β along the last axis (stable; zeros of π_ref stay zero).
    """
    from scipy.special import log_softmax

    with np.errstate(divide="ignore"):
        logits = np.log(np.asarray(pi_ref, dtype=np.float64)) + np.asarray(reward, dtype=np.float64) / float(beta)
    return np.exp(log_softmax(logits, axis=-1))


def divergences(p: np.ndarray, q: np.ndarray) -> tuple[float, float, float]:
    """(max |log p − log q|, KL(p ‖ q), TV(p, q)) for strictly positive p, q."""
    log_ratio = np.log(p) - np.log(q)
    return float(np.abs(log_ratio).max()), float(np.sum(p * log_ratio)), 0.5 * float(np.abs(p - q).sum())


def test_known_values() -> None:
    b = policy_bound(0.5, beta=0.1)
    assert isinstance(b, PolicyBound)
    assert (b.reward_gap, b.beta) == (0.5, 0.1)
    assert b.log_ratio == pytest.approx(10.0) and b.kl == pytest.approx(10.0)
    assert b.tv == pytest.approx(math.tanh(5.0))
    assert b.tv_sharp == pytest.approx(math.tanh(2.5))
    assert b.kl_sharp == pytest.approx(10.0 * math.tanh(2.5))
    assert "KL-regularised optimum" in b.statement and "\n" not in b.statement
    zero = policy_bound(0.0, beta=1.0)
    assert (zero.log_ratio, zero.kl, zero.tv, zero.kl_sharp, zero.tv_sharp) == (0.0, 0.0, 0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    "gap,beta,error",
    [(-0.1, 1.0, FaroInputError), (float("nan"), 1.0, FaroInputError), (0.1, 0.0, FaroUsageError), (0.1, -1.0, FaroUsageError)],
)
def test_bad_arguments(gap: float, beta: float, error: type) -> None:
    with pytest.raises(error):
        policy_bound(gap, beta=beta)


def test_optimal_policy_is_the_gibbs_maximiser() -> None:
    rng = np.random.default_rng(0)
    pi_ref = rng.dirichlet(np.ones(6))
    r = rng.normal(size=6)
    beta = 0.7
    pi = kl_optimal_policy(pi_ref, r, beta=beta)
    direct = pi_ref * np.exp(r / beta)
    assert pi == pytest.approx(direct / direct.sum(), rel=1e-12)

    def objective(q: np.ndarray) -> float:
        return float(q @ r - beta * np.sum(q * np.log(q / pi_ref)))

    best = objective(pi)
    assert best == pytest.approx(beta * math.log(direct.sum()))  # Gibbs variational principle
    for _ in range(200):
        assert objective(rng.dirichlet(np.ones(6))) <= best + 1e-12


def test_bounds_hold_for_random_rewards_and_references() -> None:
    rng = np.random.default_rng(1)
    worst = {"log_ratio": 0.0, "kl": 0.0, "tv": 0.0}
    for _ in range(1500):
        k = int(rng.integers(2, 9))
        pi_ref = rng.dirichlet(np.full(k, rng.choice([0.2, 1.0, 5.0])))
        pi_ref = np.maximum(pi_ref, 1e-300)
        beta = float(rng.choice([0.05, 0.3, 1.0, 3.0]))
        gap = float(rng.choice([0.01, 0.2, 1.0, 4.0]))
        r_x = rng.normal(scale=2.0, size=k)
        # Differences in [−Δ, Δ], often at the extremes (the worst case).
        diff = gap * np.where(rng.random(k) < 0.5, rng.choice([-1.0, 1.0], size=k), rng.uniform(-1, 1, size=k))
        p = kl_optimal_policy(pi_ref, r_x, beta=beta)
        q = kl_optimal_policy(pi_ref, r_x - diff, beta=beta)
        lr, kl, tv = divergences(p, q)
        b = policy_bound(gap, beta=beta)
        assert lr <= b.log_ratio * (1 + 1e-9) + 1e-12
        assert kl <= b.kl_sharp * (1 + 1e-9) + 1e-12 and b.kl_sharp <= b.kl
        assert tv <= b.tv_sharp * (1 + 1e-9) + 1e-12 and b.tv_sharp <= b.tv
        worst["log_ratio"] = max(worst["log_ratio"], lr / b.log_ratio)
        worst["kl"] = max(worst["kl"], kl / b.kl)
        worst["tv"] = max(worst["tv"], tv / b.tv_sharp)
    print(f"\nlargest measured/bound ratios over random instances: {worst}")
    assert worst["tv"] > 0.9  # random instances come close to the tight TV bound


def two_point(a: float, eta: float) -> tuple[np.ndarray, np.ndarray]:
    """Twins whose rewards differ by +Δ on y1 and −Δ on y2 (a = Δ/β), π_ref = (η, 1 − η)."""
    pi_ref = np.array([eta, 1 - eta])
    return kl_optimal_policy(pi_ref, np.array([a, -a]), beta=1.0), kl_optimal_policy(pi_ref, np.zeros(2), beta=1.0)


@pytest.mark.parametrize("a", [0.1, 1.0, 5.0])
def test_log_ratio_bound_is_approached(a: float) -> None:
    p, q = two_point(a, 1e-12)
    lr, _, _ = divergences(p, q)
    assert lr == pytest.approx(2 * a, rel=1e-6)
    assert lr <= policy_bound(a, beta=1.0).log_ratio


@pytest.mark.parametrize("a", [0.05, 0.5, 2.0, 8.0])
def test_tight_tv_bound_is_attained(a: float) -> None:
    p, q = two_point(a, 1 / (math.exp(a) + 1))
    _, _, tv = divergences(p, q)
    b = policy_bound(a, beta=1.0)
    assert tv == pytest.approx(b.tv_sharp, rel=1e-10)
    assert tv < b.tv  # SPEC's tanh(Δ/β) is valid but not attained


def test_kl_bound_is_approached_for_large_gaps() -> None:
    ratios = []
    for a in (1.0, 5.0, 25.0):
        eta = np.exp(np.linspace(-3 * a - 5, 0, 4000))[:-1, None]
        pi_ref = np.hstack((eta, 1 - eta))  # all two-point references at once (last axis)
        p = kl_optimal_policy(pi_ref, np.array([a, -a]), beta=1.0)
        q = kl_optimal_policy(pi_ref, np.zeros(2), beta=1.0)
        kl = float(np.max(np.sum(p * (np.log(p) - np.log(q)), axis=-1)))
        b = policy_bound(a, beta=1.0)
        assert kl <= b.kl_sharp <= b.kl
        ratios.append(kl / b.kl)
    print(f"\nbest two-point KL / (2Δ/β) at Δ/β = 1, 5, 25: {ratios}")
    assert ratios[0] < ratios[1] < ratios[2] and ratios[2] > 0.85
