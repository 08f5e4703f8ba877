"""Parity with fairlearn to 1e-12 for hard 0/1 outcomes (SPEC §3, issue "audit core").

``dp_gap`` on hard outcomes is fairlearn's ``demographic_parity_difference`` (selection rate)
and ``eo_gap`` on labelled responses is its ``equalized_odds_difference`` (worst of the TPR and
FPR differences), for both gap methods, with sample weights and for intersections.
Data have no ties (d = 0), since fairlearn needs 0/1 predictions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

from faro_audit.metrics import (
    combine_groups,
    dp_gap,
    encode_groups,
    eo_gap,
    hard_outcome,
    response_margin,
)

TOL = 1e-12


def _data(seed: int, n: int = 2000) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    gender = rng.choice(["female", "male", "nonbinary"], n, p=[0.45, 0.45, 0.1])
    race = rng.choice(["asian", "black", "white"], n)
    label = rng.integers(0, 2, n)
    shift = {"female": 0.0, "male": 0.3, "nonbinary": -0.4}
    reward = rng.normal(size=n) + np.vectorize(shift.get)(gender) + 0.8 * label
    margin = response_margin(reward, reference=float(np.median(reward)) + 1e-9)
    assert np.all(margin != 0)
    weight = rng.gamma(2.0, 1.0, n)
    return {"gender": gender, "race": race, "label": label, "hard": hard_outcome(margin),
            "weight": weight}


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("method", ["between_groups", "to_overall"])
@pytest.mark.parametrize("weighted", [False, True])
def test_dp_gap_equals_fairlearn(seed: int, method: str, weighted: bool) -> None:
    d = _data(seed)
    w = d["weight"] if weighted else None
    ours = dp_gap(d["hard"], sensitive_features=d["gender"], sample_weight=w, method=method)
    theirs = demographic_parity_difference(
        d["label"], d["hard"].astype(int), sensitive_features=d["gender"], sample_weight=w,
        method=method,
    )
    assert ours > 0
    assert abs(ours - theirs) <= TOL


@pytest.mark.parametrize("method", ["between_groups", "to_overall"])
@pytest.mark.parametrize("weighted", [False, True])
def test_dp_gap_intersections_equal_fairlearn(method: str, weighted: bool) -> None:
    d = _data(7)
    w = d["weight"] if weighted else None
    frame = pd.DataFrame({"gender": d["gender"], "race": d["race"]})
    theirs = demographic_parity_difference(
        d["label"], d["hard"].astype(int), sensitive_features=frame, sample_weight=w,
        method=method,
    )
    two_d = np.column_stack([d["gender"], d["race"]])
    combined = combine_groups(d["gender"], d["race"])
    for sf in (two_d, combined, combined.values()):
        ours = dp_gap(d["hard"], sensitive_features=sf, sample_weight=w, method=method)
        assert abs(ours - theirs) <= TOL


@pytest.mark.parametrize("seed", [3, 4])
@pytest.mark.parametrize("method", ["between_groups", "to_overall"])
@pytest.mark.parametrize("weighted", [False, True])
def test_eo_gap_equals_fairlearn(seed: int, method: str, weighted: bool) -> None:
    d = _data(seed)
    w = d["weight"] if weighted else None
    ours = eo_gap(d["hard"], d["label"], sensitive_features=encode_groups(d["gender"]),
                  sample_weight=w, method=method)
    theirs = equalized_odds_difference(
        d["label"], d["hard"].astype(int), sensitive_features=d["gender"], sample_weight=w,
        method=method,
    )
    assert ours > 0
    assert abs(ours - theirs) <= TOL


def test_eo_gap_intersections_equal_fairlearn() -> None:
    d = _data(11)
    frame = pd.DataFrame({"gender": d["gender"], "race": d["race"]})
    theirs = equalized_odds_difference(
        d["label"], d["hard"].astype(int), sensitive_features=frame, sample_weight=d["weight"]
    )
    ours = eo_gap(d["hard"], d["label"], sensitive_features=combine_groups(d["gender"], d["race"]),
                  sample_weight=d["weight"])
    assert abs(ours - theirs) <= TOL
