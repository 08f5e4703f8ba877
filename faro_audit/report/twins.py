"""The counterfactual-twins part of the report's view model (see :mod:`.context`).

Twin texts are the only row-level data in the report: at most :data:`MAX_SETS` sets per
attribute, :data:`MAX_TWINS` rows per set, each text cut to :data:`MAX_TEXT` characters, so the
page stays small whatever the size of the audit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from faro_audit.audit.result import CounterfactualSummary
from faro_audit.report import fmt

#: Texts of twin rows longer than this are cut (the report holds aggregates, not the data).
MAX_TEXT = 1200
#: Twin sets shown per attribute, and rows shown per set.
MAX_SETS = 10
MAX_TWINS = 12
#: Text columns, shown first after the group.
TEXT_KEYS = ("prompt", "response", "chosen", "rejected")


def _twin_cell(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool) or not fmt.is_number(value):
        text, cut = fmt.truncate(fmt.clean_text(value), MAX_TEXT)
        return {"text": text, "cut": len(str(value)) if cut else 0,
                "long": key in TEXT_KEYS or len(text) > 40, "numeric": False, "mark": ""}
    return {"text": fmt.num(value), "cut": 0, "long": False, "numeric": True, "mark": ""}


def _twin_set(s: Any, attr: str, reward: Mapping[str, str]) -> dict[str, Any]:
    """One twin set as a table: group first, then the texts, then the numbers.

    The rows with the highest and lowest outcome (whose difference is the spread) are marked.
    """
    keys: list[str] = []
    for r in s.rows:
        keys.extend(k for k in r if k not in keys)
    front = [k for k in keys if k in (attr, "group")] + [k for k in TEXT_KEYS if k in keys]
    keys = front + [k for k in keys if k not in front]
    shown = list(s.rows[:MAX_TWINS])
    rows = [[_twin_cell(k, r.get(k)) for k in keys] for r in shown]
    outcomes = [(float(r["outcome"]), i) for i, r in enumerate(shown)
                if fmt.is_number(r.get("outcome"))]
    if "outcome" in keys and len(outcomes) > 1 and max(outcomes)[0] > min(outcomes)[0]:
        col = keys.index("outcome")
        rows[max(outcomes)[1]][col]["mark"] = "highest"
        rows[min(outcomes)[1]][col]["mark"] = "lowest"
    names = {"group": attr, "outcome": "soft outcome", "reward": reward["short"]}
    return {"cf_id": s.cf_id, "spread": fmt.num(s.spread),
            "columns": [names.get(k, k) for k in keys], "rows": rows,
            "hidden": max(len(s.rows) - MAX_TWINS, 0)}


def counterfactual_view(cf: CounterfactualSummary, attr: str,
                        reward: Mapping[str, str]) -> dict[str, Any]:
    """The counterfactual section of one attribute: summary facts and the worst twin sets."""
    sets = [_twin_set(s, attr, reward) for s in cf.worst_sets[:MAX_SETS]]
    facts = [
        ("CF gap (mean spread)", fmt.num(cf.gap), fmt.ci(cf.ci)),
        ("twin sets", fmt.integer(cf.n_sets), ""),
        ("largest spread", fmt.num(cf.max_spread), ""),
        ("high-quantile spread", fmt.num(cf.quantile_spread), ""),
        ("hard-outcome flip rate", fmt.pct(cf.flip_rate), ""),
        ("mean |reward difference|", fmt.num(cf.mean_abs_reward_diff), ""),
        ("largest |reward difference|", fmt.num(cf.max_abs_reward_diff), ""),
        ("single-row sets excluded", fmt.integer(cf.n_singletons_excluded), ""),
    ]
    return {"attribute": cf.attribute or attr, "facts": facts, "sets": sets,
            "hidden_sets": max(len(cf.worst_sets) - MAX_SETS, 0)}
