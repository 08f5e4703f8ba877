"""Reward-model scores equal a direct unbatched transformers forward pass, in input order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.io.table import AuditTable
from faro_audit.models import load_scorer, score_table, tiny

REWARD_MODELS = tiny.TEST_REWARD_MODELS


def direct_scores(path: Path, prompts: list[str], responses: list[str]) -> np.ndarray:
    """One unbatched forward pass per text with a freshly loaded, unmodified model."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True).eval()
    out = []
    for p, r in zip(prompts, responses):
        if tok.chat_template:
            text = tok.apply_chat_template([{"role": "user", "content": p},
                                            {"role": "assistant", "content": r}], tokenize=False)
            enc = tok(text, add_special_tokens=False, return_tensors="pt")
        elif model.config.model_type == "bert":
            enc = tok(p, r, return_tensors="pt")
        else:
            enc = tok(p + r, return_tensors="pt")
        with torch.no_grad():
            out.append(model(**enc).logits[0, 0].item())
    return np.array(out)


@pytest.mark.parametrize("name", list(REWARD_MODELS))
def test_scores_equal_unbatched_forward(model_root: Path, texts, name: str) -> None:
    prompts, responses = texts
    scorer = load_scorer(str(model_root / name), batch_size=5, device="cpu")
    got = scorer.score(prompts, responses)
    want = direct_scores(model_root / name, prompts, responses)
    assert got.dtype == np.float64
    assert np.std(want) > 1e-3  # the texts get different scores, so order matters
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", ["bert", "gpt2_nopad_chat_leftpad", "llama_pad_concat_leftpad"])
def test_input_order_and_batch_size_do_not_matter(model_root: Path, texts, name: str) -> None:
    prompts, responses = texts
    base = load_scorer(str(model_root / name), batch_size=1, device="cpu").score(prompts, responses)
    perm = np.random.default_rng(3).permutation(len(prompts))
    scorer = load_scorer(str(model_root / name), batch_size=7, device="cpu")
    shuffled = scorer.score([prompts[i] for i in perm], [responses[i] for i in perm])
    np.testing.assert_allclose(shuffled, base[perm], atol=1e-5, rtol=0)


def test_describe_and_tokenizer_copy(model_root: Path) -> None:
    path = model_root / "gpt2_nopad_concat"
    scorer = load_scorer(str(path), device="cpu")
    d = scorer.describe()
    assert d["kind"] == "reward_model" and d["path"] == str(path.resolve())
    assert len(d["sha256"]) == 64 and d["settings"]["template"] == "concat"
    assert scorer.tokenizer.pad_token == scorer.tokenizer.eos_token  # set on a copy ...
    assert "pad_token" not in (path / "tokenizer_config.json").read_text()  # ... files untouched
    assert d["read_position"] == "last token"


def test_fingerprint_tracks_settings(model_root: Path) -> None:
    path = str(model_root / "bert")
    a = load_scorer(path, device="cpu", batch_size=4).fingerprint
    assert load_scorer(path, device="cpu", batch_size=16).fingerprint == a
    assert load_scorer(path, device="cpu", max_length=20).fingerprint != a
    assert load_scorer(path, device="cpu", template="concat").fingerprint != a
    bf16 = load_scorer(path, device="cpu", dtype="bf16")
    assert bf16.fingerprint != a and bf16.describe()["settings"]["dtype"] == "bfloat16"
    with pytest.raises(FaroUsageError, match="--dtype"):
        load_scorer(path, device="cpu", dtype="int8")


def _pairs_table(prompts: list[str], responses: list[str]) -> AuditTable:
    n = len(prompts) // 2
    frame = pd.DataFrame({
        "prompt": prompts[:n], "chosen": responses[:n], "rejected": responses[n:2 * n],
        "g": ["a" if i % 3 else "b" for i in range(n)],
    })
    return AuditTable(frame=frame, shape="pairs", group_columns=("g",))


def test_truncation_counted_per_group(model_root: Path, texts) -> None:
    from transformers import AutoTokenizer

    table = _pairs_table(*texts)
    scorer = load_scorer(str(model_root / "bert"), device="cpu", max_length=16)
    scored, info = score_table(table, scorer, cache=False, progress=False)
    tok = AutoTokenizer.from_pretrained(model_root / "bert")
    f = table.frame
    long = [max(len(tok(p, c)["input_ids"]), len(tok(p, r)["input_ids"])) > 16
            for p, c, r in zip(f.prompt, f.chosen, f.rejected)]
    want = {g: int(sum(t for t, gg in zip(long, f.g) if gg == g)) for g in ("a", "b")}
    assert 0 < sum(long) < len(long)
    assert info.truncated_by_group == {"g": want}
    assert info.n_truncated == sum(long)
    assert any("max_length=16" in note for note in scored.notes)
    # the truncated texts' scores equal a forward pass on the truncated encoding
    direct = direct_scores(model_root / "bert", list(f.prompt), list(f.chosen))
    short = ~np.array(long)
    np.testing.assert_allclose(scored.frame.reward_chosen.to_numpy()[short], direct[short], atol=1e-5)


def test_score_table_pairs_and_responses(model_root: Path, texts) -> None:
    prompts, responses = texts
    scorer = load_scorer(str(model_root / "llama_pad_chat"), device="cpu", batch_size=4)
    pairs = _pairs_table(prompts, responses)
    scored, info = score_table(pairs, scorer, cache=False, progress=False)
    n = pairs.n_rows
    want = scorer.score(prompts[:n] * 2, responses[:2 * n])
    np.testing.assert_allclose(scored.frame.reward_chosen, want[:n], atol=1e-6)
    np.testing.assert_allclose(scored.frame.reward_rejected, want[n:], atol=1e-6)
    assert info.n_texts == 2 * n and info.n_scored == 2 * n and info.n_from_cache == 0
    assert info.batch_invariance_max_abs_diff is not None
    assert info.batch_invariance_max_abs_diff < 1e-5
    resp = AuditTable(frame=pd.DataFrame({"prompt": prompts, "response": responses,
                                          "g": ["x"] * len(prompts)}),
                      shape="responses", group_columns=("g",))
    scored_r, _ = score_table(resp, scorer, cache=False, progress=False)
    np.testing.assert_allclose(scored_r.frame.reward, scorer.score(prompts, responses), atol=1e-6)
    assert list(scored_r.frame.columns) == ["prompt", "response", "g", "reward"]


def test_missing_text_is_an_error(model_root: Path, texts) -> None:
    table = _pairs_table(*texts)
    frame = table.frame.copy()
    frame.loc[2, "chosen"] = None
    scorer = load_scorer(str(model_root / "bert"), device="cpu")
    with pytest.raises(FaroInputError, match="'chosen'.*rows 3"):
        score_table(table.with_frame(frame), scorer, cache=False)


def test_wrong_model_kinds_are_refused(model_root: Path, tmp_path: Path, texts) -> None:
    corpus = tiny.corpus(texts[0])
    tok = tiny.train_wordpiece(corpus, vocab_size=120)
    model = tiny.build_model(tmp_path / "two", tok, arch="bert", task="reward")
    model.config.num_labels = 2
    model.config.save_pretrained(tmp_path / "two")
    from transformers import AutoModelForSequenceClassification

    AutoModelForSequenceClassification.from_config(model.config).save_pretrained(tmp_path / "two")
    with pytest.raises(FaroInputError, match=r"2 outputs \(num_labels=2\)"):
        load_scorer(str(tmp_path / "two"), device="cpu")
    # a causal LM forced into reward mode would get a random score head
    with pytest.raises(FaroInputError, match="lacks 1 weight"):
        load_scorer(str(model_root / "policy"), mode="reward", device="cpu")
    with pytest.raises(FaroUsageError, match="no chat template"):
        load_scorer(str(model_root / "bert"), template="chat", device="cpu")
    with pytest.raises(FaroUsageError, match="at most 256 tokens"):
        load_scorer(str(model_root / "llama_pad_chat"), max_length=1000, device="cpu")
