"""``faro_manifest.json``: what a retrained model claims and how it was made (SPEC §5.5, §7).

The certifier (:func:`faro_audit.audit.run.audit_table` with ``manifest=``; ``faro-audit
certify`` finds the file in a model directory by itself) reads
``constraints`` (metric, method, outcome, attribute, epsilon) and ``declared_slack`` and checks
UCB ≤ ε + s on held-out audit data. Everything else is provenance: the input model's hash, the
data and split hashes (row positions in ``faro_splits.json``), the settings, the recorded
history (step, J, gaps, multipliers) and the selected checkpoint.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from faro_audit._version import __version__
from faro_audit.retrain.constraints import ConstraintSet, TrainingConstraint
from faro_audit.retrain.proxygda import GDAResult

__all__ = [
    "MANIFEST_NAME",
    "MANIFEST_SCHEMA",
    "SPLITS_NAME",
    "build_manifest",
    "declared_slack",
    "history_records",
    "write_json",
]

MANIFEST_NAME = "faro_manifest.json"
SPLITS_NAME = "faro_splits.json"
MANIFEST_SCHEMA = "faro-manifest/1"


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def history_records(result: GDAResult, cset: ConstraintSet) -> list[dict[str, Any]]:
    """One record per checkpoint: step, J, per-constraint gaps on the dual split, λ."""
    names = [c.text for c in cset.constraints]
    out = []
    for cp in result.history:
        gaps = cset.gaps(cp.values) if cset.n_one_sided else []
        out.append({
            "step": cp.step,
            "objective": _finite(cp.objective),
            "gaps": {n: float(g) for n, g in zip(names, gaps)},
            "max_violation": _finite(cp.max_violation) if cp.values else None,
            "feasible": cp.feasible,
            "lambdas": [float(x) for x in cp.lambdas],
        })
    return out


def declared_slack(result: GDAResult, cset: ConstraintSet,
                   claimed: Sequence[TrainingConstraint] | None = None) -> float:
    """s = max_j (g_j(selected) − ε_j)⁺ on the dual split, against the claimed tolerances
    (the training tolerances when no margin was used)."""
    if not cset.n_one_sided:
        return 0.0
    eps = [c.epsilon for c in (claimed if claimed is not None else cset.constraints)]
    gaps = cset.gaps(result.selected_checkpoint.values)
    return float(max(0.0, max(g - e for g, e in zip(gaps, eps))))


def build_manifest(
    *,
    result: GDAResult,
    cset: ConstraintSet,
    claimed: Sequence[TrainingConstraint] | None = None,
    delta: float,
    temperature: float,
    input_model: Mapping[str, Any],
    data_info: Mapping[str, Any],
    splits: Mapping[str, Any],
    settings: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest document (JSON-ready).

    ``claimed`` are the constraints with the tolerances the model claims (default: the
    training constraints of ``cset``); with a training margin the model trains at tighter
    tolerances (``training_epsilon``) than it claims, and the declared slack is measured
    against the claimed ones.
    """
    sel = result.selected_checkpoint
    gaps = cset.gaps(sel.values) if cset.n_one_sided else []
    claimed = list(claimed) if claimed is not None else list(cset.constraints)
    constraints = []
    for c, t, g in zip(claimed, cset.constraints, gaps):
        constraints.append({**c.as_dict(), "training_epsilon": float(t.epsilon),
                            "dual_gap": float(g), "dual_violation": max(0.0, float(g) - c.epsilon)})
    mix = None
    if result.mixture is not None:
        m = result.mixture
        mix = {"steps": [result.history[i].step for i in m.indices], "weights": list(m.weights),
               "objective": m.objective, "feasible": m.feasible,
               "gaps": {c.text: float(g) for c, g in zip(
                   cset.constraints, cset.gaps(m.values))} if cset.n_one_sided else {},
               "note": "randomised model of Cotter et al. (2019); the saved model is its "
                       "support point selected by the SPEC §7 rule"}
    return {
        "schema": MANIFEST_SCHEMA,
        "faro_audit_version": __version__,
        "method": "ProxyGDA",
        "constraints": constraints,
        "delta": float(delta),
        "temperature": float(temperature),
        "declared_slack": declared_slack(result, cset, claimed),
        "selected": {"step": sel.step, "objective": _finite(sel.objective),
                     "feasible": sel.feasible, "index": result.selected},
        "input_model": dict(input_model),
        "data": dict(data_info),
        "splits": dict(splits),
        "settings": dict(settings),
        "multipliers": ["objective"] + list(cset.descriptions),
        "history": history_records(result, cset),
        "mixture": mix,
        **dict(extra or {}),
    }


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write JSON (UTF-8, indented) via a temporary file and an atomic rename."""
    p = Path(path)
    tmp = p.with_name(f".{p.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=2, ensure_ascii=False, allow_nan=False)
        fh.write("\n")
    os.replace(tmp, p)
