"""From a counterfactual reward gap to bounds on the KL-regularised policy (SPEC §6).

Derivation
----------
Let π_ref(·) be shared by twins x and x′, β > 0, and π_r(y|x) = π_ref(y) e^{r(x,y)/β} / Z(x)
with Z(x) = Σ_y π_ref(y) e^{r(x,y)/β} (the exact maximiser of
E_π[r] − β KL(π ‖ π_ref); e.g. Rafailov et al. 2023, eq. 4). Write
f(y) = (r(x,y) − r(x′,y)) / β with |f(y)| ≤ a := Δ/β, and π = π_r(·|x), π′ = π_r(·|x′).

1. Log-ratio. Z(x) = Σ_y π_ref(y) e^{r(x′,y)/β} e^{f(y)} = Z(x′) E_{π′}[e^f], and
   e^{−a} ≤ E_{π′}[e^f] ≤ e^{a}. Hence log π(y) − log π′(y) = f(y) − log E_{π′}[e^f] lies in
   [−2a, 2a]: |log π_r(y|x) − log π_r(y|x′)| ≤ 2Δ/β. The supremum is approached (not attained)
   with f = +a on a response of vanishing π_ref-mass and f = −a elsewhere.

2. KL. KL(π ‖ π′) = E_π[log π/π′] ≤ 2Δ/β by 1. Sharper: KL(π‖π′) ≤ KL(π‖π′) + KL(π′‖π)
   = E_π[f] − E_{π′}[f] (the log E_{π′}[e^f] terms cancel) = Σ_y (π − π′)(y) f(y)
   ≤ a Σ_y |π − π′| = 2a·TV ≤ (2Δ/β)·tanh(Δ/(2β)). The bound 2Δ/β is approached only as
   Δ/β → ∞ (KL/(2Δ/β) → 1 for the two-point construction below); for small Δ/β the KL is
   at most ≈ (Δ/β)²/2.

3. TV. The density ratio ρ = π/π′ = e^f / E_{π′}[e^f] ranges in [μ, e^{2a} μ] for some μ > 0
   and has E_{π′}[ρ] = 1. TV = E_{π′}[(ρ − 1)⁺] is convex in ρ, so for fixed range and mean it
   is largest when ρ takes only its two extreme values: with k = e^{2a}, ρ ∈ {μ, kμ},
   TV = (1 − μ)(kμ − 1) / (μ(k − 1)), maximised at μ = 1/√k:
   TV ≤ (√k − 1)/(√k + 1) = tanh(a/2) = tanh(Δ/(2β)). It is attained by two responses with
   f = (+a, −a) and π_ref = (1/(e^{a} + 1), e^{a}/(e^{a} + 1)). SPEC §6's tanh(Δ/β) is
   therefore valid but not tight; both are reported (``tv`` per SPEC, ``tv_sharp``).

These are statements about the exact optimum π_r, not about a policy trained by a finite
number of (PPO/DPO) steps; ``tests/stats/test_policy_bound.py`` checks them numerically.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from faro_audit.errors import FaroInputError, FaroUsageError

__all__ = ["PolicyBound", "policy_bound"]


@dataclass(frozen=True)
class PolicyBound:
    """Bounds on how differently the KL-regularised optimum treats two twins (SPEC §6).

    Attributes
    ----------
    reward_gap : float
        Δ = max_y |r(x, y) − r(x′, y)| (a measured counterfactual reward gap).
    beta : float
        KL-regularisation strength β > 0.
    log_ratio : float
        Bound on |log π_r(y|x) − log π_r(y|x′)|: 2Δ/β.
    kl : float
        Bound on KL(π_r(·|x) ‖ π_r(·|x′)): 2Δ/β (SPEC §6).
    tv : float
        Bound on the total variation distance: tanh(Δ/β) (SPEC §6).
    kl_sharp : float
        Sharper KL bound (2Δ/β)·tanh(Δ/(2β)).
    tv_sharp : float
        Tight TV bound tanh(Δ/(2β)) (attained).
    statement : str
        One-line statement of what the bounds are about.
    """

    reward_gap: float
    beta: float
    log_ratio: float
    kl: float
    tv: float
    kl_sharp: float
    tv_sharp: float
    statement: str


def policy_bound(reward_gap: float, *, beta: float) -> PolicyBound:
    """Bounds for the exact KL-regularised optimum π_r ∝ π_ref · exp(r/β) (SPEC §6).

    Parameters
    ----------
    reward_gap : float
        Δ ≥ 0, the largest |r(x, y) − r(x′, y)| over responses y for twin prompts x, x′
        (in reward units).
    beta : float
        β > 0, the KL coefficient of the fine-tuning objective E[r] − β KL(π ‖ π_ref).

    Returns
    -------
    PolicyBound
        log_ratio = kl = 2Δ/β, tv = tanh(Δ/β), kl_sharp = (2Δ/β) tanh(Δ/(2β)),
        tv_sharp = tanh(Δ/(2β)). See the module docstring for the derivation.
    """
    try:
        gap = float(reward_gap)
        b = float(beta)
    except (TypeError, ValueError):
        raise FaroUsageError(f"reward_gap={reward_gap!r}, beta={beta!r}: both must be numbers") from None
    if not (math.isfinite(gap) and gap >= 0.0):
        raise FaroInputError(f"reward_gap={gap!r}: a reward gap is a finite number >= 0")
    if not (math.isfinite(b) and b > 0.0):
        raise FaroUsageError(f"beta={b!r}: the KL coefficient must be a finite number > 0, e.g. --beta 0.1")
    a = gap / b
    log_ratio = 2.0 * a
    tv_sharp = math.tanh(a / 2.0)
    statement = (
        f"For the exact KL-regularised optimum pi_r ∝ pi_ref·exp(r/beta) with beta={b:g} and a shared pi_ref, "
        f"a counterfactual reward gap of {gap:.4g} implies |log-ratio| <= {log_ratio:.4g}, "
        f"KL <= {log_ratio:.4g} (sharper {log_ratio * tv_sharp:.4g}) and TV <= {math.tanh(a):.4g} "
        f"(tight {tv_sharp:.4g}) between twins; bounds for the optimum, not for a trained policy."
    )
    return PolicyBound(
        reward_gap=gap,
        beta=b,
        log_ratio=log_ratio,
        kl=log_ratio,
        tv=math.tanh(a),
        kl_sharp=log_ratio * tv_sharp,
        tv_sharp=tv_sharp,
        statement=statement,
    )
