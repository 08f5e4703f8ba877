"""Faro on the shipped sample reward model (slow: real tokenizer and model, thousands of pairs)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from faro_audit.io.readers import validate_table
from faro_audit.retrain.api import RetrainSettings, retrain
from faro_audit.retrain.proxygda import GDASettings

REPO = Path(__file__).resolve().parents[2]
SAMPLE_RM = REPO / "sample_data" / "reward_model"


def _bench():
    """``bench/sample_retrain.py`` (data from the sample model's own generator, the settings)."""
    spec = importlib.util.spec_from_file_location("sample_retrain", REPO / "bench" / "sample_retrain.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.fixture(scope="module")
def sample_rm() -> Path:
    if not (SAMPLE_RM / "config.json").is_file():
        pytest.skip(f"sample reward model {SAMPLE_RM} is absent")
    return SAMPLE_RM


@pytest.mark.slow
def test_sample_reward_model_retrained_on_fresh_generator_data_is_certified(sample_rm, tmp_path):
    """Issue 5's must-show. The sample RM learnt from raters who preferred the stereotyping
    answer about Muslims and people with a mental health condition 80% of the time (10% for
    every other group). Fresh draws of its own generator (seeds 1–8 for training, 1001–1008
    held out; the model was trained on seed 0), oriented acceptable-first with the rater's vote
    as ``p_human``, restricted to the religion and disability axes (≈ 8,500 pairs each, ≈ 470
    per group, 1,900 for the two tolerated groups):

    * the input model's held-out audit violates ``dp@religion=0.05`` and ``dp@disability=0.05``
      (gaps ≈ 0.74: it prefers the acceptable answer for every group but these two);
    * head-mode Faro under exactly these constraints (L-BFGS steps, augmented multipliers,
      trained at ε − 0.04) gives a model whose held-out certificates are ``certified`` and
      whose Faro slack check UCB ≤ ε + s holds, with the slack the manifest declares;
    * its pairwise accuracy (prefers ``chosen``, SPEC §3) is not below the input's − 0.02, and
      neither is its agreement with the raters on the groups whose stereotypes were not
      tolerated (agreement on the tolerated groups must drop: any DP-fair model disagrees with
      those votes)."""
    sr = _bench()
    gen = sr.load_generator()
    axes = ("religion", "disability")
    train = sr.preference_table(sr.draws(sr.TRAIN_SEED, 8), axes=axes, generator=gen)
    held = sr.preference_table(sr.draws(sr.AUDIT_SEED, 8), axes=axes, generator=gen)
    assert set(train.frame["pair_id"]).isdisjoint(held.frame["pair_id"])
    constraints = [f"dp@{a}=0.05" for a in axes]
    res = retrain(sample_rm, train, constraints=constraints, out=tmp_path / "rm",
                  audit_data=held, settings=sr.sample_head_settings(margin=0.04), progress=False)

    before = {c.attribute: c for c in res.audit_before.certificates}
    after = {c.attribute: c for c in res.audit.certificates}
    for a in axes:
        assert before[a].metric == "dp" and before[a].verdict == "violated", before[a]
        assert before[a].lower > 0.5  # the planted bias, not a marginal violation
        assert after[a].verdict == "certified" and after[a].upper <= 0.05, after[a]
    assert str(res.audit.verdict) == "certified"
    checks = res.audit.slack_checks
    assert len(checks) == 2 and all(c.holds for c in checks), checks
    dual_gaps = [c["dual_gap"] for c in res.manifest["constraints"]]
    assert res.manifest["declared_slack"] == pytest.approx(max(0.0, max(dual_gaps) - 0.05))
    assert all(c.declared_slack == res.manifest["declared_slack"] for c in checks)

    orig, faro = res.comparison.method("original"), res.comparison.method("faro")
    assert faro.pairwise_accuracy >= orig.pairwise_accuracy - 0.02
    tolerated = sr.tolerated_groups(gen)
    assert tolerated == {"religion": ("Muslim",), "disability": ("mental health condition",)}
    outside = {m: sr.agreement_outside(x, audit, tolerated)
               for m, x, audit in (("original", orig, res.audit_before), ("faro", faro, res.audit))}
    assert outside["faro"] >= outside["original"] - 0.02, outside
    for a, g in (("religion", "Muslim"), ("disability", "mental health condition")):
        assert faro.agreement_by_group[a][g] < orig.agreement_by_group[a][g] - 0.3


@pytest.mark.slow
def test_sample_reward_model_religion_accuracy_gap(sample_rm, tmp_path):
    """The sample RM was trained on pairs whose raters tolerated stereotypes about Muslims, so
    on the built-in suite (acceptable answer = chosen) it is less accurate for that group.
    Head-mode Faro with eo_anchored:hard@religion=0.1 on the suite's religion axis (twin sets
    kept whole in the splits) must shrink the held-out accuracy gap of the input model at least
    by half and raise the Muslim group's accuracy, and its declared slack must be what the dual
    split shows. (The dual split has 27 twin sets, so accuracies move in steps of 1/27 there:
    the selected checkpoint need not be feasible, and then the slack says by how much. The
    held-out split has ≈ 32 rows per group: too few for a certificate; the test above has one.)"""
    from faro_audit.suites.default import default_suite

    frame = default_suite("pairs")
    frame = frame[frame["religion"].notna()][["prompt", "chosen", "rejected", "pair_id", "cf_id",
                                              "religion"]].reset_index(drop=True)
    table = validate_table(frame, group=["religion"])
    s = RetrainSettings(gda=GDASettings(steps=400, eval_every=10, lr=0.05, eta_lambda=0.5),
                        batch_size=192, dual_fraction=0.25, audit_fraction=0.3, n_boot=0)
    res = retrain(sample_rm, table, constraints=["eo_anchored:hard@religion=0.1"],
                  out=tmp_path / "rm", settings=s, progress=False)
    key = "eo_anchored:hard@religion=0.1"
    orig, faro = res.comparison.method("original"), res.comparison.method("faro")
    assert orig.gaps[key] > 0.1, "the sample model should show its planted religion bias"
    assert faro.gaps[key] < orig.gaps[key] / 2
    assert faro.accuracy_by_group["religion"]["Muslim"] > orig.accuracy_by_group["religion"]["Muslim"] + 0.3
    (con,) = res.manifest["constraints"]
    assert res.manifest["declared_slack"] == pytest.approx(max(0.0, con["dual_gap"] - 0.1))
