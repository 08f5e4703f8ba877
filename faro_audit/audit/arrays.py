"""Turn a scored :class:`AuditTable` into the arrays the pure metric layer works on (SPEC §2).

| shape | margin d | soft outcome | hard outcome | "agrees with the human" outcome (EO, accuracy) |
|---|---|---|---|---|
| pairs | r(chosen) − r(rejected) | σ(d/T) | 1[d>0], ties ½ | p·o + (1−p)(1−o) with p = ``p_human`` (1 without it) |
| responses | r − b (b the reference reward) | σ(d/T) | 1[d>0], ties ½ | — (EO conditions on ``label``) |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from faro_audit.io.table import AuditTable
from faro_audit.metrics.outcomes import (
    hard_outcome,
    pair_margin,
    reference_reward,
    response_margin,
    soft_outcome,
)


@dataclass(frozen=True, eq=False)
class AuditArrays:
    """Row-aligned arrays of one scored audit table."""

    shape: str
    margin: np.ndarray
    soft: np.ndarray
    hard: np.ndarray
    #: pairs: soft/hard outcome of agreeing with the human; responses: None
    agree_soft: np.ndarray | None
    agree_hard: np.ndarray | None
    #: raw rewards per row (pairs: chosen), and the rejected side for pairs
    reward: np.ndarray
    reward_rejected: np.ndarray | None
    weight: np.ndarray
    weighted: bool
    #: cluster id per row (integer codes): ``cluster_id`` if the table has it, else the prompt
    clusters: np.ndarray
    prompt_ids: np.ndarray
    label: np.ndarray | None
    p_human: np.ndarray | None
    cf_id: np.ndarray | None
    reference: float | None

    @property
    def outcomes(self) -> dict[str, np.ndarray]:
        """The distinct bounded outcomes by name: ``soft``, ``hard``, and for pairs with
        ``p_human`` also ``agree_soft``, ``agree_hard`` (see :attr:`outcome_aliases`)."""
        out = {"soft": self.soft, "hard": self.hard}
        if self.agree_soft is not None and self.agree_hard is not None and self.p_human is not None:
            out["agree_soft"], out["agree_hard"] = self.agree_soft, self.agree_hard
        return out

    @property
    def outcome_aliases(self) -> Mapping[str, str]:
        """Names that are another outcome: pairs without ``p_human`` agree with the human
        exactly when they prefer chosen, so ``agree_soft`` is ``soft`` and ``agree_hard`` is
        ``hard`` (one column, one interval)."""
        if self.shape == "pairs" and self.p_human is None:
            return {"agree_soft": "soft", "agree_hard": "hard"}
        return {}

    def outcome(self, name: str) -> np.ndarray:
        """One outcome by name (aliases resolved)."""
        name = self.outcome_aliases.get(name, name)
        return self.outcomes[name]

    def outcome_key(self, name: str) -> str:
        """The canonical name of an outcome (what an alias stands for)."""
        return self.outcome_aliases.get(name, name)


def _codes(values: object, *, sort: bool = True) -> np.ndarray:
    import pandas as pd

    return pd.factorize(pd.Series(values).astype(str), sort=sort)[0].astype(np.int64)


def build_arrays(table: AuditTable, *, temperature: float = 1.0, reference: str = "median",
                 arrival_order: bool = False) -> AuditArrays:
    """Outcomes, weights, clusters and labels of a scored table.

    Parameters
    ----------
    table
        A table with the score columns of its shape (see :attr:`AuditTable.has_scores`).
    temperature
        T in σ(d/T) (SPEC §2; 1 keeps the model's own BT scale).
    reference
        Reference reward b for responses: ``"median"`` (pooled weighted median), ``"mean"``, a
        number, or ``"mean:GROUP"`` (the mean reward of a group, of any attribute).
    arrival_order
        Number clusters in order of first appearance (a sequential audit: the certificates'
        confidence sequences then run over clusters in the order they were scored) instead
        of sorted by name.
    """
    frame = table.frame
    n = len(frame)
    weighted = "weight" in frame.columns
    weight = frame["weight"].to_numpy(dtype=float) if weighted else np.ones(n)
    prompt_ids = _codes(frame["prompt"], sort=not arrival_order)
    clusters = _codes(frame["cluster_id"], sort=not arrival_order) if "cluster_id" in frame.columns else prompt_ids
    label = frame["label"].to_numpy(dtype=np.int64) if "label" in frame.columns else None
    p_human = frame["p_human"].to_numpy(dtype=float) if "p_human" in frame.columns else None
    cf_id = frame["cf_id"].astype(str).to_numpy() if "cf_id" in frame.columns else None
    if table.shape == "pairs":
        rc = frame["reward_chosen"].to_numpy(dtype=float)
        rr = frame["reward_rejected"].to_numpy(dtype=float)
        margin = pair_margin(rc, rr)
        soft = soft_outcome(margin, temperature=temperature)
        hard = hard_outcome(margin)
        p = np.ones(n) if p_human is None else p_human
        agree_soft = p * soft + (1 - p) * (1 - soft)  # = soft exactly without p_human
        agree_hard = p * hard + (1 - p) * (1 - hard)
        return AuditArrays(
            "pairs", margin, soft, hard, agree_soft, agree_hard, rc, rr, weight, weighted,
            clusters, prompt_ids, label, p_human, cf_id, None,
        )
    reward = frame["reward"].to_numpy(dtype=float)
    ref_arg: object = reference
    if isinstance(reference, str) and reference.startswith("mean:"):
        group = reference.split(":", 1)[1]
        col = next((c for c in table.group_columns if (frame[c] == group).any()), None)
        from faro_audit.errors import FaroUsageError

        if col is None:
            raise FaroUsageError(f"--reference {reference!r}: no group column has the value {group!r}")
        in_group = (frame[col] == group).to_numpy()
        b = float(np.average(reward[in_group], weights=weight[in_group]))
    else:
        try:
            ref_arg = float(reference)
        except (TypeError, ValueError):
            ref_arg = reference
        b = float(reference_reward(reward, reference=ref_arg, sample_weight=weight))  # type: ignore[arg-type]
    margin = response_margin(reward, reference=b)
    soft = soft_outcome(margin, temperature=temperature)
    hard = hard_outcome(margin)
    return AuditArrays(
        "responses", margin, soft, hard, None, None, reward, None, weight, weighted,
        clusters, prompt_ids, label, None, cf_id, b,
    )
