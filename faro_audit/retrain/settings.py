"""Settings of a retraining run (SPEC §7), recorded in the manifest."""

from __future__ import annotations

from dataclasses import dataclass, field

from faro_audit.retrain.proxygda import GDASettings
from faro_audit.retrain.session import ModelOptions

__all__ = ["HEAD_QUASI_NEWTON", "RetrainSettings"]

#: Game settings for ``head`` mode on ill-conditioned features (use with ``batch_size=0``):
#: 20 full-batch L-BFGS steps of ≤ 50 iterations, augmented-Lagrangian multipliers with
#: ρ = η_λ = 10 updated after every step. A frozen backbone's pooled features can have a
#: second-moment matrix with condition number ≈ 10⁹ (the sample reward model's do), along
#: whose weak directions Adam steps crawl while plain GDA's multipliers oscillate; see
#: :mod:`faro_audit.retrain.proxygda` and ``bench/RESULTS.md``.
HEAD_QUASI_NEWTON = GDASettings(steps=20, eval_every=1, lr=1.0, optimizer="lbfgs",
                                inner_iterations=50, multiplier_update="augmented",
                                eta_lambda=10.0)


@dataclass(frozen=True)
class RetrainSettings:
    """Settings of a retraining run (recorded in the manifest).

    ``gda`` holds the game's settings (steps, eval_every, lr, optimiser, η_λ, Λ, multiplier
    update, mixture); ``model`` how the input is loaded. ``batch_size`` is the number of pairs
    per step (split equally over the joint groups; 0: the whole train split every step);
    ``cf_sets_per_batch`` twin sets per step.
    ``margin`` m trains every constraint at ε − m while the model claims ε: the held-out
    certificate needs UCB ≤ ε + s, and a model trained exactly to ε on the dual split has a
    held-out estimate near ε, so its upper bound lands above ε by about the interval's
    half-width; a margin of that size leaves room for it.
    """

    mode: str = "head"
    gda: GDASettings = field(default_factory=lambda: GDASettings(steps=500, eval_every=10,
                                                                   lr=0.01))
    model: ModelOptions = field(default_factory=ModelOptions)
    batch_size: int = 256
    cf_sets_per_batch: int = 32
    reward_penalty: float = 0.0
    temperature: float = 1.0
    margin: float = 0.0
    dual_fraction: float = 0.2
    audit_fraction: float = 0.2
    objective_rows: int | None = None
    seed: int = 0
    delta: float = 0.05
    bound: str = "betting"
    n_boot: int = 1000
    baselines: bool = True
