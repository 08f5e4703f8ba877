"""Tiny models built from configs, for tests, benchmarks and the sample models.

Nothing is downloaded: tokenizers are trained on the given texts with the ``tokenizers``
library (WordPiece for BERT-like encoders, byte-level BPE for decoders), wrapped as a
transformers fast tokenizer and saved, so ``AutoTokenizer.from_pretrained(dir)`` loads them
(do not build a BERT tokenizer from ``vocab_file`` alone: transformers 5 then silently gives a
five-token vocabulary). Models have random weights from a seed unless trained by the caller.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

#: A minimal chat template: "<|user|>\n{prompt}<|end|>\n<|assistant|>\n{response}<|end|>\n".
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
CHAT_TOKENS = ("<|user|>", "<|assistant|>", "<|system|>")


def _word_vocab(texts: Iterable[str], normalizer: Any, pre_tokenizer: Any,
                specials: Sequence[str], vocab_size: int) -> dict[str, int]:
    """A deterministic WordPiece vocabulary: the special tokens, every character ``c`` of the
    texts and of printable ASCII and its continuation ``##c``, then whole words by decreasing count (ties in string order), up to
    ``vocab_size`` entries. (The ``tokenizers`` trainers break ties between equally frequent
    merges in hash-map order, which changes from process to process.)"""
    from collections import Counter

    counts: Counter[str] = Counter()
    for text in texts:
        norm = normalizer.normalize_str(text) if normalizer is not None else text
        counts.update(w for w, _ in pre_tokenizer.pre_tokenize_str(norm))
    printable = {chr(i) for i in range(33, 127)}  # so unseen words split into known characters
    chars = sorted({c for w in counts for c in w} | printable)
    words = sorted((w for w in counts if len(w) > 1), key=lambda w: (-counts[w], w))
    entries = list(dict.fromkeys([*specials, *chars, *(f"##{c}" for c in chars), *words]))
    return {tok: i for i, tok in enumerate(entries[:max(vocab_size, len(specials) + 2 * len(chars))])}


def train_wordpiece(texts: Iterable[str], *, vocab_size: int = 1000, lowercase: bool = True,
                    token_type_ids: bool = True, word_vocab: bool = False) -> Any:
    """A BERT-style WordPiece fast tokenizer trained on ``texts``.

    Special tokens ``[PAD] [UNK] [CLS] [SEP] [MASK]`` (ids 0–4); single texts are encoded as
    ``[CLS] a [SEP]`` and pairs as ``[CLS] a [SEP] b [SEP]`` with segment ids 0/1.
    ``word_vocab=True`` builds the vocabulary deterministically from whole words and single
    characters (:func:`_word_vocab`) instead of running the (tie-breaking, hence
    process-dependent) WordPiece trainer.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    texts = list(texts)
    normalizer = normalizers.BertNormalizer(lowercase=lowercase)
    pre = pre_tokenizers.BertPreTokenizer()
    if word_vocab:
        tok = Tokenizer(models.WordPiece(_word_vocab(texts, normalizer, pre, specials, vocab_size),
                                         unk_token="[UNK]"))
    else:
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    if not word_vocab:
        tok.train_from_iterator(texts, trainers.WordPieceTrainer(
            vocab_size=vocab_size, special_tokens=specials, show_progress=False))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tok.decoder = decoders.WordPiece()
    names = ["input_ids", "token_type_ids", "attention_mask"] if token_type_ids else None
    kwargs: dict[str, Any] = {"model_input_names": names} if names else {}
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
                                   **kwargs)


def word_lm_tokenizer(texts: Iterable[str], *, vocab_size: int = 4000,
                      chat_template: str | None = CHAT_TEMPLATE) -> Any:
    """A deterministic, cased WordPiece tokenizer for a small causal LM (:func:`_word_vocab`).

    BOS ``<|endoftext|>`` (not added automatically), EOS ``<|end|>`` (closes each chat turn),
    pad ``<|pad|>``; words are split on whitespace and punctuation, and decoding joins
    ``##`` pieces and removes the space before punctuation.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|pad|>", "<|end|>", "[UNK]", *CHAT_TOKENS]
    normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    pre = pre_tokenizers.BertPreTokenizer()
    vocab = _word_vocab(list(texts), normalizer, pre, specials, vocab_size)
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    tok.decoder = decoders.WordPiece(cleanup=True)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>",
                                   eos_token="<|end|>", pad_token="<|pad|>", unk_token="[UNK]",
                                   additional_special_tokens=list(CHAT_TOKENS))
    if chat_template is not None:
        fast.chat_template = chat_template
    return fast


def train_bpe(texts: Iterable[str], *, vocab_size: int = 500, chat_template: str | None = None,
              pad_token: bool = False, bos_token: bool = False,
              eos_token: str = "<|endoftext|>") -> Any:
    """A GPT-2-style byte-level BPE fast tokenizer trained on ``texts``.

    ``<|endoftext|>`` is BOS (prepended to every text when ``bos_token``) and, unless
    ``eos_token`` says otherwise (e.g. ``"<|end|>"``), EOS; with a chat template, ``<|end|>``
    closes each turn and ``<|user|>``/``<|assistant|>`` open them.
    ``pad_token=False`` leaves the tokenizer without a pad token, as GPT-2 and Llama ship.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|pad|>", "<|end|>", *CHAT_TOKENS]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(list(texts), trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    if bos_token:
        bos = tok.token_to_id("<|endoftext|>")
        tok.post_processor = processors.TemplateProcessing(
            single="<|endoftext|> $A", pair="<|endoftext|> $A $B",
            special_tokens=[("<|endoftext|>", bos)])
    kwargs: dict[str, Any] = {"eos_token": eos_token, "bos_token": "<|endoftext|>",
                              "additional_special_tokens": [t for t in (*CHAT_TOKENS, "<|end|>")
                                                            if t != eos_token]}
    if pad_token:
        kwargs["pad_token"] = "<|pad|>"
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, **kwargs)
    if chat_template is not None:
        fast.chat_template = chat_template
    return fast


def save_tokenizer(tokenizer: Any, path: str | os.PathLike[str]) -> None:
    """``tokenizer.save_pretrained(path)``, naming the class ``PreTrainedTokenizerFast`` in
    ``tokenizer_config.json`` (transformers 5 writes ``TokenizersBackend``, which 4.x lacks;
    5.x reads either)."""
    import json

    tokenizer.save_pretrained(path)
    cfg_path = os.path.join(str(path), "tokenizer_config.json")
    with open(cfg_path, encoding="utf-8") as fh:
        cfg = json.load(fh)
    if cfg.get("tokenizer_class") == "TokenizersBackend":
        cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
        with open(cfg_path, "w", encoding="utf-8") as fh:
            json.dump(cfg, fh, indent=2, ensure_ascii=False)
            fh.write("\n")


def _config(arch: str, vocab_size: int, *, hidden: int, layers: int, max_positions: int,
            task: str, pad_id: int | None, eos_id: int | None, bos_id: int | None,
            initializer_range: float) -> Any:
    from transformers import BertConfig, GPT2Config, LlamaConfig

    heads = max(1, hidden // 16)
    common: dict[str, Any] = {"pad_token_id": pad_id, "eos_token_id": eos_id, "bos_token_id": bos_id,
                              "initializer_range": initializer_range}
    if task == "reward":
        common["num_labels"] = 1
    if arch == "bert":
        return BertConfig(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers,
                          num_attention_heads=heads, intermediate_size=2 * hidden,
                          max_position_embeddings=max_positions, hidden_dropout_prob=0.0,
                          attention_probs_dropout_prob=0.0, **common)
    if arch == "gpt2":
        return GPT2Config(vocab_size=vocab_size, n_embd=hidden, n_layer=layers, n_head=heads,
                          n_positions=max_positions, resid_pdrop=0.0, embd_pdrop=0.0,
                          attn_pdrop=0.0, **common)
    if arch == "llama":
        return LlamaConfig(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers,
                           num_attention_heads=heads, num_key_value_heads=heads,
                           intermediate_size=2 * hidden, max_position_embeddings=max_positions,
                           **common)
    raise ValueError(f"arch must be bert, gpt2 or llama, got {arch!r}")


def build_model(path: str | os.PathLike[str], tokenizer: Any, *, arch: str, task: str,
                hidden: int = 32, layers: int = 2, max_positions: int = 128, seed: int = 0,
                pad_in_config: bool = True, safetensors: bool = True,
                padding_side: str | None = None, head_scale: float = 1.0,
                initializer_range: float = 0.02) -> Any:
    """Build a randomly initialised model for ``tokenizer`` and save both to ``path``.

    ``task``: ``"reward"`` (sequence classification, one output) or ``"policy"`` (causal LM).
    ``pad_in_config=False`` leaves ``config.pad_token_id`` unset (as many decoders ship);
    ``safetensors=False`` writes ``pytorch_model.bin`` (pickle) instead; ``head_scale``
    multiplies the score head's initial weights and ``initializer_range`` is the weights' initial
    standard deviation (random models with the default 0.02 give nearly constant scores).
    Returns the model (in memory).
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    torch.manual_seed(seed)
    pad = tokenizer.pad_token_id if (pad_in_config and tokenizer.pad_token_id is not None) else None
    cfg = _config(arch, len(tokenizer), hidden=hidden, layers=layers, max_positions=max_positions,
                  task=task, pad_id=pad, eos_id=tokenizer.eos_token_id,
                  bos_id=tokenizer.bos_token_id, initializer_range=initializer_range)
    cls = AutoModelForSequenceClassification if task == "reward" else AutoModelForCausalLM
    model = cls.from_config(cfg)
    if task == "reward" and head_scale != 1.0:
        with torch.no_grad():
            for name, param in model.named_parameters():
                if name.startswith(("score.", "classifier.")):
                    param.mul_(head_scale)
    model.eval()
    os.makedirs(path, exist_ok=True)
    if padding_side is not None:
        tokenizer.padding_side = padding_side
    save_tokenizer(tokenizer, path)
    if safetensors:
        model.save_pretrained(path)
    else:
        model.config.architectures = [type(model).__name__]
        model.config.save_pretrained(path)
        torch.save(model.state_dict(), os.path.join(str(path), "pytorch_model.bin"))
    return model


def sample_texts(n: int = 40, *, seed: int = 0) -> tuple[list[str], list[str]]:
    """``n`` (prompt, response) pairs of varied lengths from a fixed word list."""
    import numpy as np

    words = ["the", "a", "kind", "doctor", "nurse", "teacher", "said", "helped", "people", "city", "river", "book", "quickly", "slowly", "never", "always", "question", "answer", "thank", "you", "please", "why", "how", "what", "where", "when", "woman", "man", "neighbour", "friend", "Muslim", "Christian", "Jewish", "older", "younger"]
    rng = np.random.default_rng(seed)
    prompts, responses = [], []
    for _ in range(n):
        lp, lr = int(rng.integers(1, 12)), int(rng.integers(1, 30))
        prompts.append(" ".join(rng.choice(words, lp)) + "?")
        responses.append(" ".join(rng.choice(words, lr)) + ".")
    return prompts, responses


def corpus(texts: Sequence[str]) -> list[str]:
    """Training texts for a tokenizer: the texts and a few chat-format fragments."""
    return [*texts, "Hello! How can I help you today?", "Thank you, goodbye."]


#: Reward-model variants the tests cover: name → (arch, pad token in tokenizer and config,
#: tokenizer padding side, chat template).
TEST_REWARD_MODELS: dict[str, tuple[str, bool, str, bool]] = {
    "bert": ("bert", True, "right", False),
    "gpt2_nopad_concat": ("gpt2", False, "right", False),
    "gpt2_nopad_chat_leftpad": ("gpt2", False, "left", True),
    "llama_pad_concat_leftpad": ("llama", True, "left", False),
    "llama_pad_chat": ("llama", True, "right", True),
}
