"""End-to-end Faro retraining on tiny models: bias removal with a passing slack check, a
binding constraint, EO/CF constraints, swap-regret, the sweep and the written files."""

from __future__ import annotations

import json

import pytest

from faro_audit.io.readers import validate_table
from faro_audit.retrain.api import RetrainSettings, retrain
from faro_audit.retrain.proxygda import GDASettings

from .conftest import NOISY, make_pairs


def test_head_mode_removes_injected_bias_and_certifies(biased_bert, tmp_path):
    """The input model (BT head + injected bias against the woman group) violates
    dp_anchored:soft@gender=0.05 on held-out data; Faro in head mode brings the held-out gap
    below ε with a passing slack check (UCB ≤ ε + s) and keeps pairwise accuracy within 2
    points of the input model and of unconstrained retraining with the same budget."""
    table = validate_table(make_pairs(3000, seed=5), group=["gender"])
    s = RetrainSettings(gda=GDASettings(steps=400, eval_every=10, lr=0.05, eta_lambda=2.0),
                        batch_size=256, audit_fraction=0.4, margin=0.03, n_boot=0)
    res = retrain(biased_bert, table, constraints=["dp_anchored@gender=0.05"],
                  out=tmp_path / "out", settings=s, progress=False)
    key = "dp_anchored:soft@gender=0.05"
    comp = res.comparison
    orig, unc, faro = comp.method("original"), comp.method("unconstrained"), comp.method("faro")
    assert orig.gaps[key] > 0.05  # the injected bias violates the constraint
    assert faro.gaps[key] < 0.05
    assert faro.pairwise_accuracy >= orig.pairwise_accuracy - 0.02
    assert faro.pairwise_accuracy >= unc.pairwise_accuracy - 0.02
    (check,) = res.audit.slack_checks
    assert check.holds is True and check.upper <= 0.05 + res.manifest["declared_slack"]
    assert res.audit.certificates[0].verdict == "certified"
    assert res.audit_before.certificates[0].estimate > 0.05
    assert {m.method for m in comp.methods} == {"original", "unconstrained", "reweighting",
                                                 "group_shift", "faro"}
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"config.json", "model.safetensors", "faro_manifest.json", "faro_splits.json",
            "comparison.json", "audit.json", "audit_before.json"} <= written
    saved = json.loads((tmp_path / "out" / "comparison.json").read_text())
    assert [m["method"] for m in saved["methods"]][-1] == "faro"


def test_binding_constraint_is_met_on_the_dual_split(noisy_bert, tmp_path):
    """With more label noise for one group the unconstrained optimum has a soft-DP gap;
    Faro meets the constraint on the dual split (slack 0) and its held-out gap is far below
    the unconstrained one."""
    table = validate_table(make_pairs(2000, seed=6, noise=NOISY, shares=(0.5, 0.5)),
                           group=["gender"])
    s = RetrainSettings(gda=GDASettings(steps=300, eval_every=10, lr=0.05, eta_lambda=10.0),
                        batch_size=256, audit_fraction=0.3, n_boot=0)
    res = retrain(noisy_bert, table, constraints=["dp_anchored@gender=0.02"],
                  out=tmp_path / "out", settings=s, progress=False)
    key = "dp_anchored:soft@gender=0.02"
    unc, faro = res.comparison.method("unconstrained"), res.comparison.method("faro")
    assert unc.gaps[key] > 0.04
    sel = res.gda.selected_checkpoint
    assert sel.feasible and res.manifest["declared_slack"] == 0.0
    assert sel.step > 0 and max(sel.lambdas[1:]) > 0  # the multipliers did work
    assert res.comparison.method("original").gaps[key] > 0.04
    assert faro.gaps[key] < 0.03 and faro.gaps[key] < unc.gaps[key] / 2


def test_eo_and_cf_constraints_with_swap_regret_mixture(tiny_bert, tmp_path):
    table = validate_table(make_pairs(600, seed=7, twins=True), group=["gender"])
    s = RetrainSettings(gda=GDASettings(steps=60, eval_every=5, lr=0.05, eta_lambda=1.0,
                                        multiplier_update="swap-regret", mixture=True),
                        batch_size=64, n_boot=0, baselines=False, cf_sets_per_batch=16)
    res = retrain(tiny_bert, table, constraints=["eo_anchored:hard@gender=0.05", "cf=0.05"],
                  out=tmp_path / "out", settings=s, progress=False)
    man = res.manifest
    assert [c["text"] for c in man["constraints"]] == ["eo_anchored:hard@gender=0.05",
                                                        "cf:soft@gender=0.05"]
    assert man["multipliers"][0] == "objective" and len(man["multipliers"]) == 1 + 4 + 1
    mix = man["mixture"]
    assert mix is not None and 1 <= len(mix["steps"]) <= 5 + 1
    assert sum(mix["weights"]) == pytest.approx(1.0)
    assert man["selected"]["step"] in mix["steps"]
    for h in man["history"]:
        assert sum(h["lambdas"]) == pytest.approx(1.0)  # swap-regret λ lives on the simplex
    # twin sets stay within one split
    rows = json.loads((tmp_path / "out" / "faro_splits.json").read_text())
    f = table.frame
    sets = [set(f.cf_id.iloc[r]) for r in rows.values()]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert res.audit.slack_checks and all(sc.upper is not None for sc in res.audit.slack_checks)


def test_sweep_and_audit_data(tiny_bert, tmp_path):
    train = validate_table(make_pairs(500, seed=8), group=["gender"])
    audit = validate_table(make_pairs(300, seed=9), group=["gender"])
    s = RetrainSettings(gda=GDASettings(steps=30, eval_every=10, lr=0.05), batch_size=64,
                        n_boot=0, baselines=False)
    res = retrain(tiny_bert, train, constraints=["dp_anchored:hard@gender=0.1"], audit_data=audit,
                  out=tmp_path / "out", settings=s, progress=False, sweep=(0.5, 1.0, 2.0))
    assert res.comparison.n_rows == 300 and res.comparison.data == "audit table"
    assert "audit" not in json.loads((tmp_path / "out" / "faro_splits.json").read_text())
    pts = res.sweep.points
    assert [p.factor for p in pts] == [0.5, 1.0, 2.0]
    assert [p.epsilons["dp_anchored:hard@gender"] for p in pts] == [0.05, 0.1, 0.2]
    assert any(p.non_dominated for p in pts)
    doc = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert len(doc["points"]) == 3 and "pairwise_accuracy (higher)" in doc["criteria"]
    man = res.manifest
    assert man["data"]["audit_sha256"] == audit.sha256 or audit.sha256 is None
    assert man["splits"]["audit_rows"] == "audit table"


def test_scoped_groups_votes_and_two_constraints_with_lbfgs(biased_bert):
    """Two group columns defined on different rows (scoped, as in the built-in suite), a 0/1
    rater vote per pair as ``p_human`` (float64 votes with float32 head features), one
    constraint per column, and the head-mode solver for ill-conditioned heads (full batches,
    L-BFGS, augmented multipliers), run through the session and the training runs of
    :func:`retrain` without the writing: the injected bias against the woman group is removed on
    the held-out rows, the held-out audit table keeps its scoped groups, and the comparison
    reports agreement with the votes."""
    from dataclasses import replace

    import numpy as np

    from faro_audit.audit.run import audit_table
    from faro_audit.retrain.api import resolve_constraints
    from faro_audit.retrain.data import prepare_data
    from faro_audit.retrain.runs import compare_methods, train_run
    from faro_audit.retrain.session import ModelOptions, Session
    from faro_audit.retrain.settings import HEAD_QUASI_NEWTON

    f = make_pairs(2400, seed=11)
    rng = np.random.default_rng(0)
    half = rng.random(len(f)) < 0.5  # rows of the second axis
    f["batch"] = np.where(half, np.where(rng.random(len(f)) < 0.5, "early", "late"), None)
    f["gender"] = f["gender"].where(~half, None)
    f["p_human"] = (rng.random(len(f)) < 0.9).astype(float)  # raters mostly agree with chosen
    table = validate_table(f, group=["gender", "batch"], scoped_groups=True)
    cons = resolve_constraints(["dp@gender=0.05", "dp_anchored@batch=0.05"], table)
    s = RetrainSettings(gda=replace(HEAD_QUASI_NEWTON, steps=8, inner_iterations=30),
                        batch_size=0, audit_fraction=0.4, n_boot=0, baselines=False)
    rd = prepare_data(table, audit_data=None, attributes=["gender", "batch"], dual_fraction=0.2,
                      audit_fraction=0.4, random_state=0)
    session = Session(str(biased_bert), rd, mode="head", options=ModelOptions())
    train_cons = [replace(c, epsilon=c.epsilon - 0.03) for c in cons]
    model, result, _ = train_run(session, rd, train_cons, s, row_weight=rd.weight, label="faro",
                                 progress=False)
    rewards = model.rewards_eval(rd.audit_rows)
    comp = compare_methods(session, rd, cons, s, rewards, result, 0.0, False)
    orig, faro = comp.method("original"), comp.method("faro")
    key = "dp:soft@gender=0.05"
    assert orig.gaps[key] > 0.05 and faro.gaps[key] < 0.05
    assert faro.gaps["dp_anchored:soft@batch=0.05"] < 0.05
    assert faro.pairwise_accuracy >= orig.pairwise_accuracy - 0.02
    assert orig.human_agreement is not None and faro.human_agreement is not None
    assert set(faro.agreement_by_group) == {"gender", "batch"}
    held = rd.table(rd.audit_rows, reward_chosen=rewards[0], reward_rejected=rewards[1])
    audit = audit_table(held, max_gap=tuple(c.text for c in cons), n_boot=0)
    groups = audit.data["groups"]
    assert sum(groups["gender"].values()) + sum(groups["batch"].values()) == len(rd.audit_rows)
    assert {c.attribute for c in audit.certificates} == {"gender", "batch"}
