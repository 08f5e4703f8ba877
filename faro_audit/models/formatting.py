"""Turn (prompt, response) pairs into token ids, the same way every time.

Templates (``template=``):

``"chat"``
    The tokenizer's chat template with the prompt as the user turn and the response as the
    assistant turn, rendered to text and tokenized without adding special tokens (the
    template writes them), as TRL's reward and DPO trainers do.
``"pair"``
    The tokenizer's pair encoding ``tokenizer(prompt, response)`` — ``[CLS] p [SEP] r [SEP]``
    with segment ids for BERT-like encoders (the usual format of encoder reward models).
``"concat"``
    Reward models: ``tokenizer(prompt + response)`` (plain concatenation, as TRL does for
    non-conversational data; put any separator into the texts). Policies: prompt tokens
    (with the tokenizer's special tokens) followed by response tokens (without) and EOS.
``"auto"``
    ``"chat"`` when the tokenizer has a chat template, else ``"pair"`` for encoders (model
    types with a masked-LM head) and ``"concat"`` for decoders.

Truncation (``max_length``): reward texts are cut at the right (pairs: longest first), as
``tokenizer(..., truncation=True)`` does; policy texts keep the last tokens of the prompt and
the first of the response (at least half of ``max_length`` goes to the response when it
needs it). Every cut text is flagged in :attr:`Encoded.truncated` and counted by the caller.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from faro_audit.errors import FaroInputError, FaroUsageError

TEMPLATES = ("auto", "chat", "pair", "concat")


@dataclass(frozen=True)
class Encoded:
    """Token ids of a list of texts.

    Attributes
    ----------
    input_ids
        One list of ids per text (not padded).
    token_type_ids
        Segment ids when the tokenizer returns them (``pair`` encodings), else ``None``.
    truncated
        Boolean array: the text was cut to ``max_length``.
    response_start
        Policies only: index of the first response token in each ``input_ids``.
    """

    input_ids: list[list[int]]
    token_type_ids: list[list[int]] | None
    truncated: np.ndarray
    response_start: np.ndarray | None = None


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' warnings (e.g. "sequence longer than model_max_length", which we
    handle and count ourselves) and its progress bars, restoring both afterwards."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


def is_encoder(config: Any) -> bool:
    """True for model types that have a masked-LM head in transformers (BERT, RoBERTa, ...)."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING_NAMES

    return getattr(config, "model_type", None) in MODEL_FOR_MASKED_LM_MAPPING_NAMES


def check_chat_template(tokenizer: Any, path: str | None = None) -> None:
    """Render the chat template once on a probe conversation (user turn, assistant turn, and
    the generation prompt), so that a template that does not compile or raises is a one-line
    :class:`FaroInputError` before any scoring starts."""
    where = path or getattr(tokenizer, "name_or_path", "") or "the tokenizer"
    try:
        with quiet_transformers():
            for out in (_chat(tokenizer, "Hello?", "Hi."), _chat(tokenizer, "Hello?", None)):
                if not isinstance(out, str):
                    raise TypeError(f"rendered {type(out).__name__}, not text")
    except KeyboardInterrupt:
        raise
    except Exception as err:  # noqa: BLE001 - jinja syntax/render errors, raise_exception(), ...
        text = " ".join(str(err).split())[:200]
        text = "".join(ch if ch.isprintable() else "?" for ch in text)
        raise FaroInputError(f"TARGET {where}: its chat template (tokenizer_config.json "
                             f"chat_template or chat_template.jinja) fails on a probe conversation "
                             f"({type(err).__name__}: {text}); fix the template, or pass --template "
                             "pair/concat to score without it") from None


def resolve_template(tokenizer: Any, template: str, *, encoder: bool, option: str = "--template",
                     path: str | None = None) -> str:
    """``"auto"`` → ``"chat"`` | ``"pair"`` | ``"concat"``; check an explicit choice is possible.

    A chat template that is used is rendered once here (:func:`check_chat_template`).
    """
    if template not in TEMPLATES:
        raise FaroUsageError(f"{option} {template}: unknown template; use one of {', '.join(TEMPLATES)}")
    has_chat = bool(getattr(tokenizer, "chat_template", None))
    if template == "auto":
        template = "chat" if has_chat else ("pair" if encoder else "concat")
    elif template == "chat" and not has_chat:
        raise FaroUsageError(f"{option} chat: the tokenizer has no chat template; use "
                             "--template pair (encoders) or concat (decoders)")
    if template == "chat":
        check_chat_template(tokenizer, path)
    return template


def _chat(tokenizer: Any, prompt: str, response: str | None) -> str:
    messages = [{"role": "user", "content": prompt}]
    if response is None:
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    messages.append({"role": "assistant", "content": response})
    return tokenizer.apply_chat_template(messages, tokenize=False)


def _ids(tokenizer: Any, texts: list[str], *, special: bool) -> list[list[int]]:
    if not texts:
        return []
    return list(tokenizer(texts, add_special_tokens=special, return_attention_mask=False,
                          return_token_type_ids=False)["input_ids"])


def encode_reward(tokenizer: Any, prompts: Sequence[str], responses: Sequence[str], *,
                  template: str, max_length: int) -> Encoded:
    """Encode texts for a sequence-classification reward model (see module docstring)."""
    n = len(prompts)
    truncated = np.zeros(n, dtype=bool)
    if n == 0:
        return Encoded([], None, truncated)
    with quiet_transformers():
        if template == "pair":
            enc = tokenizer(list(prompts), list(responses), return_attention_mask=False)
            ids = list(enc["input_ids"])
            tt = list(enc["token_type_ids"]) if "token_type_ids" in enc else None
            long = [i for i in range(n) if len(ids[i]) > max_length]
            if long:
                cut = tokenizer([prompts[i] for i in long], [responses[i] for i in long],
                                truncation="longest_first", max_length=max_length,
                                return_attention_mask=False)
                for j, i in enumerate(long):
                    ids[i] = cut["input_ids"][j]
                    if tt is not None:
                        tt[i] = cut["token_type_ids"][j]
                truncated[long] = True
            return Encoded(ids, tt, truncated)
        if template == "chat":
            texts = [_chat(tokenizer, p, r) for p, r in zip(prompts, responses)]
            special = False
        elif template == "concat":
            texts = [p + r for p, r in zip(prompts, responses)]
            special = True
        else:
            raise FaroUsageError(f"--template {template}: unknown template; use one of {', '.join(TEMPLATES)}")
        ids = _ids(tokenizer, texts, special=special)
        long = [i for i in range(n) if len(ids[i]) > max_length]
        if long:
            cut = tokenizer([texts[i] for i in long], add_special_tokens=special, truncation=True,
                            max_length=max_length, return_attention_mask=False,
                            return_token_type_ids=False)["input_ids"]
            for j, i in enumerate(long):
                ids[i] = list(cut[j])
            truncated[long] = True
    return Encoded(ids, None, truncated)


def _prefix_len(a: Sequence[int], b: Sequence[int]) -> int:
    k = 0
    for x, y in zip(a, b):
        if x != y:
            break
        k += 1
    return k


def policy_prompt_ids(tokenizer: Any, prompt: str, *, template: str) -> list[int]:
    """Token ids of a prompt as the policy sees it before its response (generation input)."""
    with quiet_transformers():
        if template == "chat":
            ids = _ids(tokenizer, [_chat(tokenizer, prompt, None)], special=False)[0]
        else:
            ids = _ids(tokenizer, [prompt], special=True)[0]
    if not ids:
        start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        ids = [start] if start is not None else []
    return list(ids)


def encode_policy(tokenizer: Any, prompts: Sequence[str], responses: Sequence[str], *,
                  template: str, max_length: int) -> Encoded:
    """Encode (prompt, response) for a causal LM, marking where the response starts.

    ``chat``: prompt = chat template with the user turn and the generation prompt; response =
    the rest of the full two-turn rendering; each tokenized without added special tokens (if
    the two renderings do not share the prompt as a prefix, the split is the longest common
    token prefix). ``concat``: prompt with special tokens, response without, then EOS. An
    empty prompt becomes BOS (or EOS), so that the first response token has a context.
    """
    if template not in ("chat", "concat"):
        raise FaroUsageError(f"--template {template}: policies are scored with chat or concat")
    n = len(prompts)
    eos = tokenizer.eos_token_id
    ids: list[list[int]] = []
    starts = np.zeros(n, dtype=np.int64)
    truncated = np.zeros(n, dtype=bool)
    with quiet_transformers():
        if template == "chat":
            p_texts = [_chat(tokenizer, p, None) for p in prompts]
            full = [_chat(tokenizer, p, r) for p, r in zip(prompts, responses)]
            p_ids = _ids(tokenizer, p_texts, special=False)
            tails = [f[len(pt):] if f.startswith(pt) else None for f, pt in zip(full, p_texts)]
            r_ids = _ids(tokenizer, [t if t is not None else "" for t in tails], special=False)
            for i, t in enumerate(tails):
                if t is None:  # template re-renders the prompt: split on common token prefix
                    f_ids = _ids(tokenizer, [full[i]], special=False)[0]
                    k = _prefix_len(p_ids[i], f_ids)
                    p_ids[i], r_ids[i] = f_ids[:k], f_ids[k:]
        else:
            p_ids = _ids(tokenizer, list(prompts), special=True)
            r_ids = [r + ([eos] if eos is not None else [])
                     for r in _ids(tokenizer, list(responses), special=False)]
    start_tok = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else eos
    for i in range(n):
        p, r = list(p_ids[i]), list(r_ids[i])
        if not p and start_tok is not None:
            p = [start_tok]
        if len(p) + len(r) > max_length:
            p_keep = min(len(p), max(max_length // 2, max_length - len(r)))
            r_keep = max_length - p_keep
            p, r = p[len(p) - p_keep:], r[:r_keep]
            truncated[i] = True
        starts[i] = len(p)
        ids.append(p + r)
    return Encoded(ids, None, truncated, starts)
