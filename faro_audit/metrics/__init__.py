"""Pure metric functions of SPEC §2–§3: numpy arrays in, floats or frozen dataclasses out.

Only numpy and scipy are imported here (no pandas, no I/O). Factorise group labels once with
:func:`encode_groups` (or :func:`combine_groups` for intersections) and pass the
:class:`GroupCodes` wherever ``sensitive_features`` is accepted.
"""

from __future__ import annotations

from faro_audit.metrics.calibration import (
    GroupCalibration,
    ReliabilityCurve,
    brier,
    brier_by_group,
    bt_nll,
    bt_nll_by_group,
    confidence_correct,
    ece,
    ece_by_group,
    reliability_curve,
)
from faro_audit.metrics.counterfactual import CFResult, TwinSet, cf_gap
from faro_audit.metrics.describe import GroupRow, GroupTable, describe_groups
from faro_audit.metrics.groups import (
    GroupCodes,
    SensitiveFeatures,
    combine_groups,
    encode_groups,
)
from faro_audit.metrics.ordinal import (
    GroupAUC,
    PairwiseAccuracy,
    ResponsePairs,
    group_auc,
    pairwise_accuracy,
    response_pairs,
)
from faro_audit.metrics.outcomes import (
    hard_outcome,
    pair_margin,
    reference_reward,
    response_margin,
    soft_outcome,
)
from faro_audit.metrics.parity import (
    EOBreakdown,
    GapMethod,
    GroupStats,
    dp_gap,
    eo_breakdown,
    eo_gap,
    gap_from_means,
    group_means,
    pair_accuracy_outcome,
)

__all__ = [
    # groups
    "GroupCodes", "SensitiveFeatures", "encode_groups", "combine_groups",
    # outcomes (SPEC §2)
    "pair_margin", "response_margin", "reference_reward", "soft_outcome", "hard_outcome",
    # parity (SPEC §3 DP/EO)
    "GapMethod", "GroupStats", "EOBreakdown", "group_means", "gap_from_means", "dp_gap",
    "eo_gap", "eo_breakdown", "pair_accuracy_outcome",
    # counterfactual (SPEC §3 CF)
    "CFResult", "TwinSet", "cf_gap",
    # ordinal
    "PairwiseAccuracy", "ResponsePairs", "GroupAUC", "pairwise_accuracy", "response_pairs",
    "group_auc",
    # cardinal
    "ReliabilityCurve", "GroupCalibration", "confidence_correct", "reliability_curve", "ece",
    "brier", "bt_nll", "ece_by_group", "brier_by_group", "bt_nll_by_group",
    # description
    "GroupRow", "GroupTable", "describe_groups",
]
