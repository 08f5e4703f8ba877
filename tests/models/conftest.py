"""Tiny models for the loader tests, built from configs (hidden 32, 2 layers) in tmp dirs."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

from faro_audit.models import tiny

REWARD_MODELS = tiny.TEST_REWARD_MODELS


@pytest.fixture(scope="session")
def texts() -> tuple[list[str], list[str]]:
    """24 (prompt, response) pairs of lengths 3–45 tokens."""
    return tiny.sample_texts(24, seed=1)


@pytest.fixture(scope="session")
def model_root(tmp_path_factory: pytest.TempPathFactory, texts: tuple[list[str], list[str]]) -> Path:
    """Every tiny reward model and policy of the tests, each in its own directory."""
    root = tmp_path_factory.mktemp("models")
    corpus = tiny.corpus(texts[0] + texts[1])
    for i, (name, (arch, pad, side, chat)) in enumerate(REWARD_MODELS.items()):
        if arch == "bert":
            tok = tiny.train_wordpiece(corpus, vocab_size=200)
        else:
            tok = tiny.train_bpe(corpus, vocab_size=400, pad_token=pad, bos_token=arch == "llama",
                                 chat_template=tiny.CHAT_TEMPLATE if chat else None)
        tiny.build_model(root / name, tok, arch=arch, task="reward", seed=i, pad_in_config=pad,
                         padding_side=side, initializer_range=0.2, max_positions=256)
    for name, chat in (("policy", False), ("policy_chat", True)):
        tok = tiny.train_bpe(corpus, vocab_size=400,
                             chat_template=tiny.CHAT_TEMPLATE if chat else None)
        tiny.build_model(root / name, tok, arch="gpt2", task="policy", seed=10,
                         initializer_range=0.2, max_positions=256)
        tiny.build_model(root / f"{name}_ref", tok, arch="gpt2", task="policy", seed=11,
                         initializer_range=0.2, max_positions=256)
    return root


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny models run fastest on one thread (and the CI machine's cores are shared)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
