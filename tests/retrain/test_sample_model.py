"""Faro on the shipped sample reward model (slow: real tokenizer, 648 suite pairs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from faro_audit.io.readers import validate_table
from faro_audit.retrain.api import RetrainSettings, retrain
from faro_audit.retrain.proxygda import GDASettings

SAMPLE_RM = Path(__file__).resolve().parents[2] / "sample_data" / "reward_model"


@pytest.mark.slow
def test_sample_reward_model_religion_accuracy_gap(tmp_path):
    """The sample RM was trained on pairs whose raters tolerated stereotypes about Muslims, so
    on the built-in suite (acceptable answer = chosen) it is less accurate for that group.
    Head-mode Faro with eo_anchored:hard@religion=0.1 on the suite's religion axis (twin sets
    kept whole in the splits) must shrink the held-out accuracy gap of the input model at least
    by half and raise the Muslim group's accuracy, and its declared slack must be what the dual
    split shows. (The dual split has 27 twin sets, so accuracies move in steps of 1/27 there:
    the selected checkpoint need not be feasible, and then the slack says by how much.)"""
    if not (SAMPLE_RM / "config.json").is_file():
        pytest.skip(f"sample reward model {SAMPLE_RM} is absent")
    from faro_audit.suites.default import default_suite

    frame = default_suite("pairs")
    frame = frame[frame["religion"].notna()][["prompt", "chosen", "rejected", "pair_id", "cf_id",
                                              "religion"]].reset_index(drop=True)
    table = validate_table(frame, group=["religion"])
    s = RetrainSettings(gda=GDASettings(steps=400, eval_every=10, lr=0.05, eta_lambda=0.5),
                        batch_size=192, dual_fraction=0.25, audit_fraction=0.3, n_boot=0)
    res = retrain(SAMPLE_RM, table, constraints=["eo_anchored:hard@religion=0.1"],
                  out=tmp_path / "rm", settings=s, progress=False)
    key = "eo_anchored:hard@religion=0.1"
    orig, faro = res.comparison.method("original"), res.comparison.method("faro")
    assert orig.gaps[key] > 0.1, "the sample model should show its planted religion bias"
    assert faro.gaps[key] < orig.gaps[key] / 2
    assert faro.accuracy_by_group["religion"]["Muslim"] > orig.accuracy_by_group["religion"]["Muslim"] + 0.3
    (con,) = res.manifest["constraints"]
    assert res.manifest["declared_slack"] == pytest.approx(max(0.0, con["dual_gap"] - 0.1))
