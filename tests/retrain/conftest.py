"""Tiny config-built reward models and synthetic preference pairs for the retraining tests.

Nothing is downloaded: tokenizers are written from a word list (``vocab.txt`` +
``tokenizer_config.json``, loaded with ``AutoTokenizer.from_pretrained``), models are built from
configs with fixed seeds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

GOOD = ["good", "great", "helpful", "clear", "correct", "kind", "useful", "polite"]
BAD = ["bad", "poor", "useless", "vague", "wrong", "rude", "confusing", "lazy"]
FILLER = ["the", "a", "answer", "is", "about", "this", "that", "it", "was", "and", "of", "to", "reply", "text"]
PEOPLE = {"woman": "she", "man": "he", "nonbinary": "they"}
WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "question", "indeed",
         *GOOD, *BAD, *FILLER, *PEOPLE.values()]


def write_tokenizer(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "vocab.txt").write_text("\n".join(WORDS) + "\n")
    (path / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": 64}))


def make_pairs(n: int, *, seed: int, groups: tuple[str, ...] = ("woman", "man"),
               shares: tuple[float, ...] = (0.6, 0.4), noise: float | dict[str, float] = 0.15,
               twins: bool = False) -> pd.DataFrame:
    """Preference pairs: ``chosen`` holds more GOOD words than ``rejected`` (a share ``noise``
    of pairs is swapped: label noise, optionally per group); the prompt names the person of the row's group, and one
    of the two responses (at random, so with no preference signal) starts with their pronoun.
    With ``twins``, each content appears once per group with the same ``cf_id``."""
    rng = np.random.default_rng(seed)
    # the word lists as arrays once: Generator.choice draws the same indices for a list or an
    # array, so the pairs are the same as drawing from the lists, without a conversion per call
    good_w, bad_w, filler_w = np.asarray(GOOD), np.asarray(BAD), np.asarray(FILLER)
    group_p = np.asarray(shares) / sum(shares)
    rows = []
    n_items = n // len(groups) if twins else n

    def resp(good: int) -> str:
        words = list(rng.choice(good_w, good)) + list(rng.choice(bad_w, 3 - good)) + list(
            rng.choice(filler_w, 3))
        rng.shuffle(words)
        return " ".join(words)

    for k in range(n_items):
        g_c = int(rng.integers(2, 4))
        g_r = int(rng.integers(0, 2))
        c0, r0 = resp(g_c), resp(g_r)
        flip = rng.random()
        filler = " ".join(rng.choice(filler_w, 3))
        side = rng.random() < 0.5  # which response names the person (no preference signal)
        members = groups if twins else [rng.choice(groups, p=group_p)]
        for g in members:
            p_flip = noise[str(g)] if isinstance(noise, dict) else noise
            c, r = (r0, c0) if flip < p_flip else (c0, r0)
            who = PEOPLE[str(g)]
            cc, rr = (f"{who} {c}", r) if side else (c, f"{who} {r}")
            rows.append({"prompt": f"question about {who} {filler}", "chosen": cc,
                         "rejected": rr, "gender": str(g), **({"cf_id": f"t{k}"} if twins else {})})
    return pd.DataFrame(rows)


def build_model(path: Path, *, arch: str = "bert", seed: int = 0) -> Path:
    """Save a tiny randomly initialised reward model (num_labels=1) and its tokenizer.

    The BERT's attention queries and keys are zero, so attention is uniform and the pooled
    feature is a smooth function of the bag of words: a linear head on it can learn the
    GOOD/BAD word counts (test accuracy ≈ 0.8 at 15% label noise), unlike a fully random
    BERT whose [CLS] feature is nearly uninformative."""
    import torch
    from transformers import AutoModelForSequenceClassification, BertConfig, LlamaConfig

    torch.manual_seed(seed)
    write_tokenizer(path)
    if arch == "bert":
        cfg = BertConfig(vocab_size=len(WORDS), hidden_size=64, num_hidden_layers=1,
                         num_attention_heads=4, intermediate_size=128, max_position_embeddings=64,
                         num_labels=1, pad_token_id=0, initializer_range=0.2)
    else:
        cfg = LlamaConfig(vocab_size=len(WORDS), hidden_size=32, num_hidden_layers=2,
                          num_attention_heads=4, num_key_value_heads=2, intermediate_size=64,
                          max_position_embeddings=64, num_labels=1, pad_token_id=0,
                          bos_token_id=2, eos_token_id=3, initializer_range=0.5)
    model = AutoModelForSequenceClassification.from_config(cfg)
    if arch == "bert":
        with torch.no_grad():
            for layer in model.bert.encoder.layer:
                for lin in (layer.attention.self.query, layer.attention.self.key):
                    lin.weight.zero_()
                    lin.bias.zero_()
    model.save_pretrained(str(path))
    return path


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models run fastest on one thread; on a shared 2-core machine two threads contend
    (an order of magnitude slower). Restored after each test."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model(tmp_path_factory.mktemp("models") / "bert", arch="bert")


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model(tmp_path_factory.mktemp("models") / "llama", arch="llama")


def fit_biased_head(path: Path, frame: pd.DataFrame, *, bias: float, seed: int = 0) -> None:
    """Give the model at ``path`` a BT-fitted head plus an injected group bias, in place.

    The head is the logistic regression of "chosen wins" on φ(chosen) − φ(rejected) (both
    orientations, no intercept). The bias adds ``bias`` · u, u the least-squares head that
    lowers by 1 the reward of a response opening with "she" (and leaves the man group's
    margins at 0): the model dislikes responses that name a woman. In the data the pronoun is on either side at random, so this adds noise to the
    margins of the woman group only: lower accuracy and a lower mean soft outcome there
    (a DP/EO gap) that no preference signal justifies.
    """
    import torch
    from sklearn.linear_model import LogisticRegression
    from transformers import AutoModelForSequenceClassification

    from faro_audit.models.batching import length_sorted_batches
    from faro_audit.retrain.features import capture_features, find_score_head
    from faro_audit.retrain.loading import PairTexts, load_reward_model

    lm = load_reward_model(str(path), device="cpu")
    texts = PairTexts.encode(lm, frame.prompt.tolist(), frame.chosen.tolist(), frame.rejected.tolist())
    lengths = [len(x) for x in texts.encoded.input_ids]
    feats, _ = capture_features(lm.model, ((b, lm.inputs(texts.encoded, b))
                                           for b in length_sorted_batches(lengths, 256)), len(lengths))
    n = len(frame)
    X = (feats[:n] - feats[n:]).astype(np.float64)
    lr = LogisticRegression(fit_intercept=False, C=1.0, max_iter=5000).fit(
        np.r_[X, -X], np.r_[np.ones(n), np.zeros(n)])
    # the bias direction: least-squares head u with u·(φ_c − φ_r) ≈ −1 on the woman group's
    # pairs and 0 on the man group's
    target = np.where(frame["gender"].to_numpy() == "woman", -1.0, 0.0)
    u = np.linalg.lstsq(X, target, rcond=None)[0]
    w = lr.coef_[0] + bias * u
    model = AutoModelForSequenceClassification.from_pretrained(str(path), local_files_only=True)
    _, lin = find_score_head(model)
    with torch.no_grad():
        lin.weight.copy_(torch.as_tensor(w, dtype=lin.weight.dtype).reshape(1, -1))
        lin.bias.zero_()
    model.save_pretrained(str(path))


@pytest.fixture(scope="session")
def biased_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = build_model(tmp_path_factory.mktemp("models") / "biased", arch="bert", seed=1)
    fit_biased_head(path, make_pairs(1000, seed=99), bias=4.0)
    return path


NOISY = {"woman": 0.3, "man": 0.05}


@pytest.fixture(scope="session")
def noisy_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A BT-fitted model on data whose woman group has more label noise (no injection): the
    unconstrained optimum itself has a soft-DP gap."""
    path = build_model(tmp_path_factory.mktemp("models") / "noisy", arch="bert", seed=1)
    fit_biased_head(path, make_pairs(1000, seed=98, noise=NOISY, shares=(0.5, 0.5)), bias=0.0)
    return path
