"""The audit orchestration on in-memory tables: shapes, labels, intersections, slack checks."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from faro_audit.audit.result import AuditResult
from faro_audit.audit.run import audit_table
from faro_audit.audit.settings import AuditSettings
from faro_audit.io.readers import validate_table
from faro_audit.metrics.parity import dp_gap, eo_gap


def _responses(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.choice(["a", "b", "c"], n)
    r = rng.choice(["x", "y"], n)
    label = rng.integers(0, 2, n)
    reward = rng.normal(0, 1, n) + label + 0.5 * (g == "c")
    return pd.DataFrame({
        "prompt": [f"p{i // 2}" for i in range(n)], "response": [f"r{i}" for i in range(n)],
        "g": g, "r": r, "label": label, "reward": reward, "cf_id": [f"t{i // 2}" for i in range(n)],
    })


def _find(result, name, outcome, attribute, method, label=None):
    return next(m for m in result.metrics if (m.name, m.outcome, m.attribute, m.method, m.label)
                == (name, outcome, attribute, method, label))


def test_responses_gaps_match_pure_metrics_and_intersection_is_audited():
    df = _responses()
    table = validate_table(df, group=["g", "r"])
    res = audit_table(table, settings=AuditSettings(group=("g", "r")), n_boot=100)
    attrs = [a.attribute for a in res.attributes]
    assert attrs == ["g", "r", "g+r"]
    # the hard DP gap uses the pooled median as reference b
    b = np.median(df.reward)
    hard = np.where(df.reward > b, 1.0, np.where(df.reward == b, 0.5, 0.0))
    m = _find(res, "dp_gap", "hard", "g", "between_groups")
    assert m.estimate == pytest.approx(dp_gap(hard, sensitive_features=df.g.to_numpy()), abs=1e-12)
    m = _find(res, "eo_gap", "hard", "g", "between_groups")
    assert m.estimate == pytest.approx(eo_gap(hard, df.label.to_numpy(), sensitive_features=df.g.to_numpy()), abs=1e-12)
    assert m.ci[0] <= m.estimate <= m.ci[1]
    inter = _find(res, "dp_gap", "soft", "g+r", "between_groups")
    assert set(inter.by_group) == {f"{a}|{b}" for a in "abc" for b in "xy"}
    assert res.overall["auc"] is not None and res.overall["pairwise_accuracy"] > 0.5


def test_report_json_round_trips():
    table = validate_table(_responses(), group=["g"])
    res = audit_table(table, n_boot=50, beta=0.5)
    doc = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    again = AuditResult.from_dict(doc)
    assert again.to_dict() == res.to_dict()
    assert res.policy_bounds and res.policy_bounds[0].tv <= 1


def test_seed_reproducible_and_row_order_invariant_point_estimates():
    df = _responses()
    t1 = validate_table(df, group=["g"])
    t2 = validate_table(df.sample(frac=1.0, random_state=3).reset_index(drop=True), group=["g"])
    r1, r1b = audit_table(t1, n_boot=50, seed=4), audit_table(t1, n_boot=50, seed=4)
    r2 = audit_table(t2, n_boot=50, seed=4)
    assert r1.to_dict()["metrics"] == r1b.to_dict()["metrics"]
    for a, b in zip(r1.metrics, r2.metrics):
        assert a.estimate == pytest.approx(b.estimate, abs=1e-12)
    assert [c.upper for c in r1.certificates] == pytest.approx([c.upper for c in r2.certificates], abs=1e-9)


def test_slack_check_from_manifest():
    df = _responses(2000)
    table = validate_table(df, group=["g"])
    manifest = {"constraints": [{"metric": "dp", "outcome": "soft", "attribute": "g", "epsilon": 0.05}],
                "declared_slack": 0.5}
    res = audit_table(table, n_boot=0, manifest=manifest, max_gap=("dp@g=0.05",))
    (check,) = res.slack_checks
    assert check.holds is True and check.upper <= 0.55
    res = audit_table(table, n_boot=0, manifest={**manifest, "declared_slack": 0.0}, max_gap=("dp@g=0.05",))
    assert res.slack_checks[0].holds is False


def test_scoped_groups_analyse_each_axis_on_its_rows():
    df = _responses(300)
    df["h"] = np.where(np.arange(300) < 150, df.g, None)
    df["k"] = np.where(np.arange(300) >= 150, df.r, None)
    table = validate_table(df, group=["h", "k"], scoped_groups=True)
    res = audit_table(table, n_boot=0)
    assert [a.attribute for a in res.attributes] == ["h", "k"]
    assert [a.n_rows for a in res.attributes] == [150, 150]
    assert res.data["groups"]["h"] and sum(res.data["groups"]["k"].values()) == 150


def test_weighted_pairs_with_p_human():
    rng = np.random.default_rng(1)
    n = 600
    df = pd.DataFrame({
        "prompt": [f"p{i}" for i in range(n)], "chosen": "c", "rejected": "r",
        "g": rng.choice(["u", "v"], n), "reward_chosen": rng.normal(1, 1, n), "reward_rejected": 0.0,
        "p_human": rng.uniform(0.5, 1, n), "weight": rng.uniform(0.5, 2, n),
    })
    res = audit_table(validate_table(df, group=["g"]), n_boot=50)
    eo = _find(res, "eo_gap", "soft", "g", "between_groups", "human prefers chosen")
    soft = 1 / (1 + np.exp(-df.reward_chosen.to_numpy()))
    agree = df.p_human * soft + (1 - df.p_human) * (1 - soft)
    assert eo.estimate == pytest.approx(dp_gap(agree.to_numpy(), sensitive_features=df.g.to_numpy(),
                                               sample_weight=df.weight.to_numpy()), abs=1e-12)
    assert {"ece", "brier", "bt_nll", "pairwise_accuracy"} <= set(res.overall)
