"""Head-mode features reproduce the model; head, full and lora retraining run and save a
directory that loads with the input's from_pretrained call; the input is never written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.io.readers import validate_table
from faro_audit.metrics.calibration import bt_nll
from faro_audit.models.batching import length_sorted_batches
from faro_audit.retrain import runs
from faro_audit.retrain.api import RetrainSettings, retrain
from faro_audit.retrain.features import capture_features, find_score_head
from faro_audit.retrain.loading import PairTexts, dir_sha256, load_reward_model
from faro_audit.retrain.modes import HeadModel
from faro_audit.retrain.proxygda import GDASettings

from .conftest import make_pairs


@pytest.mark.parametrize("arch", ["tiny_bert", "tiny_llama"])
def test_head_features_reproduce_model_scores(arch, request):
    """head(φ) equals the audit scorer's reward to 1e-5 (encoder [CLS] pooling and decoder
    last-non-pad pooling)."""
    path = request.getfixturevalue(arch)
    lm = load_reward_model(str(path), device="cpu")
    df = make_pairs(40, seed=3)
    texts = PairTexts.encode(lm, df.prompt, df.chosen, df.rejected)
    lengths = [len(x) for x in texts.encoded.input_ids]
    feats, rewards = capture_features(
        lm.model, ((b, lm.inputs(texts.encoded, b)) for b in length_sorted_batches(lengths, 7)),
        len(lengths))
    head = HeadModel.from_loaded(lm, feats[:40], feats[40:])
    rc, rr = head.rewards_eval(np.arange(40))
    fresh = load_reward_model(str(path), device="cpu").scorer
    np.testing.assert_allclose(rc, fresh.score(list(df.prompt), list(df.chosen)), atol=1e-5)
    np.testing.assert_allclose(rr, fresh.score(list(df.prompt), list(df.rejected)), atol=1e-5)
    np.testing.assert_allclose(np.r_[rc, rr], rewards, atol=1e-5)


def test_find_score_head_rejects_multi_output(tmp_path):
    from transformers import BertConfig, BertForSequenceClassification

    m = BertForSequenceClassification(BertConfig(vocab_size=10, hidden_size=8, num_hidden_layers=1,
                                                 num_attention_heads=2, intermediate_size=8,
                                                 num_labels=2))
    with pytest.raises(FaroInputError, match="num_labels=1"):
        find_score_head(m)


def _small_settings(mode: str, **kw) -> RetrainSettings:
    lr = {"head": 0.05, "full": 1e-3, "lora": 1e-2}[mode]
    return RetrainSettings(mode=mode, gda=GDASettings(steps=kw.pop("steps", 12), eval_every=4, lr=lr),
                           batch_size=32, n_boot=0, baselines=False, audit_fraction=0.3, **kw)


@pytest.mark.parametrize("mode", ["head", "full", "lora"])
def test_modes_run_and_save_loadable_model(mode, tiny_bert, tmp_path):
    from transformers import AutoModelForSequenceClassification

    if mode == "lora":
        pytest.importorskip("peft", reason="LoRA mode needs the optional dependency peft")
    df = make_pairs(160, seed=4)
    table = validate_table(df, group=["gender"])
    before = dir_sha256(tiny_bert)
    mtimes = {p: p.stat().st_mtime_ns for p in Path(tiny_bert).iterdir()}
    out = tmp_path / f"out_{mode}"
    res = retrain(tiny_bert, table, constraints=["dp_anchored:hard@gender=0.2"], out=out,
                  settings=_small_settings(mode), progress=False)
    assert dir_sha256(tiny_bert) == before  # the input directory is never written to
    assert {p: p.stat().st_mtime_ns for p in Path(tiny_bert).iterdir()} == mtimes
    # loads with the same call as the input (a plain model, LoRA merged)
    m = AutoModelForSequenceClassification.from_pretrained(str(out), local_files_only=True)
    assert type(m).__name__ == "BertForSequenceClassification"
    assert not any("lora" in k for k in m.state_dict())
    # the saved model's held-out NLL equals the one reported for Faro (same rewards)
    scorer = load_reward_model(str(out), device="cpu").scorer
    rows = np.array(json.loads((out / "faro_splits.json").read_text())["audit"])
    d = (scorer.score(list(df.prompt.iloc[rows]), list(df.chosen.iloc[rows]))
         - scorer.score(list(df.prompt.iloc[rows]), list(df.rejected.iloc[rows])))
    faro = res.comparison.method("faro")
    assert bt_nll(d) == pytest.approx(faro.bt_nll, abs=1e-5)
    man = json.loads((out / "faro_manifest.json").read_text())
    assert man["input_model"]["sha256"] == before
    assert man["settings"]["mode"] == mode
    assert [h["step"] for h in man["history"]] == [0, 4, 8, 12]
    if mode != "head":  # the weights moved
        assert not np.allclose(faro.bt_nll, res.comparison.method("original").bt_nll)


def test_interrupt_leaves_nothing(tiny_bert, tmp_path, monkeypatch):
    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(runs, "run_proxygda", boom)
    table = validate_table(make_pairs(80, seed=5), group=["gender"])
    out = tmp_path / "sub" / "out"
    with pytest.raises(KeyboardInterrupt):
        retrain(tiny_bert, table, constraints=["dp_anchored@gender=0.1"], out=out,
                settings=_small_settings("head"), progress=False)
    assert not out.exists()
    assert list((tmp_path / "sub").iterdir()) == []  # no temporary directory left behind


def test_out_must_be_new_and_not_the_input(tiny_bert, tmp_path):
    table = validate_table(make_pairs(80, seed=5), group=["gender"])
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep me")
    with pytest.raises(FaroUsageError, match="not empty"):
        retrain(tiny_bert, table, constraints=["dp@gender=0.1"], out=tmp_path / "full",
                settings=_small_settings("head"), progress=False)
    with pytest.raises(FaroUsageError, match="same path as the input model"):
        retrain(tiny_bert, table, constraints=["dp@gender=0.1"], out=tiny_bert,
                settings=_small_settings("head"), progress=False)
    assert (tmp_path / "full" / "x").read_text() == "keep me"


def test_responses_table_is_refused(tiny_bert, tmp_path):
    import pandas as pd

    t = validate_table(pd.DataFrame({"prompt": list("abcd"), "response": list("wxyz"),
                                     "gender": ["m", "w"] * 2}), group=["gender"])
    with pytest.raises(FaroInputError, match="preference pairs"):
        retrain(tiny_bert, t, constraints=["dp@gender=0.1"], out=tmp_path / "o",
                settings=_small_settings("head"), progress=False)
