"""Known answers for the held-out comparison metrics and the stacked retraining data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from faro_audit.io.readers import validate_table
from faro_audit.retrain.compare import evaluate_margins
from faro_audit.retrain.constraints import TrainingConstraint
from faro_audit.retrain.data import prepare_data


def _data(p_human: bool, scoped: bool):
    f = pd.DataFrame({
        "prompt": [f"p{i}" for i in range(8)], "chosen": "c", "rejected": "r",
        "g": ["a", "a", "b", "b", "a", "a", "b", "b"],
        "h": [None, None, None, None, "x", "y", "x", "y"] if scoped else ["x", "y"] * 4,
    })
    if scoped:
        f.loc[4:, "g"] = None
        f.loc[:3, "g"] = ["a", "a", "b", "b"]
    if p_human:
        f["p_human"] = [1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.5, 1.0]
    table = validate_table(f, group=["g", "h"], scoped_groups=scoped)
    return prepare_data(table, audit_data=None, attributes=["g"], dual_fraction=0.25,
                        audit_fraction=0.25, random_state=0)


def test_agreement_with_the_votes_known_answer():
    """a = p·h + (1 − p)(1 − h), h = 1[d > 0] (ties ½): by hand for eight rows."""
    rd = _data(p_human=True, scoped=False)
    d = np.array([1.0, 2.0, -1.0, 0.0, 3.0, -2.0, 1.0, 1.0])
    rows = np.arange(8)
    m = evaluate_margins(d, rd, rows, [TrainingConstraint("dp", "between_groups", "hard", "g", 0.1)],
                         method="x", description="x")
    # per row: h = 1,1,0,½,1,0,1,1; p = 1,0,1,1,0,1,½,1 → a = 1,0,0,½,0,0,½,1
    assert m.human_agreement == pytest.approx(3.0 / 8.0)
    assert m.pairwise_accuracy == pytest.approx(5.5 / 8.0)  # prefers chosen, votes ignored
    assert m.agreement_by_group["g"] == pytest.approx({"a": 0.25, "b": 0.5})
    assert m.agreement_by_group["h"] == pytest.approx({"x": 0.375, "y": 0.375})


def test_no_votes_no_agreement():
    rd = _data(p_human=False, scoped=False)
    m = evaluate_margins(np.ones(8), rd, np.arange(8), [], method="x", description="x")
    assert m.human_agreement is None and m.agreement_by_group == {}


def test_scoped_groups_reach_the_audit_tables():
    """A table whose group columns cover different rows keeps ``scoped_groups`` in the tables
    built for the held-out audit (else the audit would reject the missing values)."""
    rd = _data(p_human=False, scoped=True)
    assert rd.scoped_groups
    t = rd.table(np.arange(8), reward_chosen=np.ones(8), reward_rejected=np.zeros(8))
    assert t.scoped_groups and t.frame["g"].isna().sum() == 4
    assert not _data(p_human=False, scoped=False).table(np.arange(2)).scoped_groups
