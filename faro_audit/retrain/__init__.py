"""Faro retraining (SPEC §7): fix a flagged reward model under DP / EO / CF constraints.

Public API (imported lazily, so ``import faro_audit.retrain`` loads neither torch nor
transformers):

retrain
    End to end: split, ProxyGDA, save the model with ``faro_manifest.json``, compare with the
    baselines, audit with the Faro slack check (:mod:`faro_audit.retrain.api`).
RetrainSettings, RetrainResult
    Its settings and result.
run_proxygda, GDASettings, GDAResult
    The descent–ascent game on tensors (:mod:`faro_audit.retrain.proxygda`).
TrainingConstraint, ConstraintSet
    Differentiable anchored gap constraints (:mod:`faro_audit.retrain.constraints`).
"""

from __future__ import annotations

from faro_audit._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "retrain": "faro_audit.retrain.api",
    "RetrainSettings": "faro_audit.retrain.settings",
    "HEAD_QUASI_NEWTON": "faro_audit.retrain.settings",
    "RetrainResult": "faro_audit.retrain.api",
    "run_proxygda": "faro_audit.retrain.proxygda",
    "GDASettings": "faro_audit.retrain.proxygda",
    "GDAResult": "faro_audit.retrain.proxygda",
    "TrainingConstraint": "faro_audit.retrain.constraints",
    "ConstraintSet": "faro_audit.retrain.constraints",
}

__all__ = [
    "HEAD_QUASI_NEWTON", "ConstraintSet", "GDAResult", "GDASettings", "RetrainResult", "RetrainSettings",
    "TrainingConstraint", "retrain", "run_proxygda",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
