"""Head-mode feature capture: the inputs of a reward model's final linear layer (SPEC §7).

A sequence-classification reward model computes r = w·φ + b, where φ is the input of its last
``nn.Linear`` (the *score head*) at the pooled position:

* BERT-like encoders: ``model.classifier`` is a Linear on the pooled output (``[CLS]`` through
  the pooler); RoBERTa-like: ``model.classifier.out_proj`` after a dense+tanh layer; DistilBERT:
  ``model.classifier`` after ``pre_classifier``. The input is already pooled, shape (B, h).
* Decoders (``GenericForSequenceClassification`` in transformers 5.x, e.g. Llama, Qwen,
  GPT-2): ``model.score`` is applied to every position, shape (B, L, h), and the logits are
  read at the rightmost token that is not ``pad_token_id`` (position −1 without a pad token).
  The same rule picks φ here.

A forward pre-hook on the head records its input; nothing in the model changes. Because the
head is linear, r = head(φ) reproduces the model's own reward, which :func:`capture_features`
checks on every batch (max |head(φ) − logit| ≤ ``atol`` + ``rtol``·|logit|), so that head-mode
training optimises exactly the model that is saved.

Texts are tokenised by the audit's scorer (:mod:`faro_audit.retrain.loading`), so the features
are those of the texts the audit scores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from faro_audit.errors import FaroInputError

__all__ = ["HeadInfo", "capture_features", "find_score_head", "pooled_positions"]


@dataclass(frozen=True)
class HeadInfo:
    """Where the score head is: dotted module path and its input/output sizes."""

    name: str
    in_features: int
    bias: bool


def find_score_head(model: Any) -> tuple[HeadInfo, Any]:
    """The final ``nn.Linear`` of the model's ``score`` or ``classifier`` module.

    Returns
    -------
    (HeadInfo, torch.nn.Linear)

    Raises
    ------
    FaroInputError
        No such module, or a head with more than one output (a reward model has one).
    """
    from torch import nn

    for attr in ("score", "classifier"):
        mod = getattr(model, attr, None)
        if mod is None:
            continue
        if isinstance(mod, nn.Linear):
            name, lin = attr, mod
        else:
            linears = [(n, m) for n, m in mod.named_modules() if isinstance(m, nn.Linear)]
            if not linears:
                continue
            name, lin = f"{attr}.{linears[-1][0]}", linears[-1][1]
        if lin.out_features != 1:
            raise FaroInputError(
                f"model head {name!r} has {lin.out_features} outputs; a reward model has one "
                "(num_labels=1); load a reward model or set num_labels=1"
            )
        return HeadInfo(name, int(lin.in_features), lin.bias is not None), lin
    raise FaroInputError(
        f"{type(model).__name__} has no 'score' or 'classifier' module with a Linear layer; "
        "head mode needs a sequence-classification reward model (use --mode full or lora)"
    )


def pooled_positions(input_ids: Any, pad_token_id: int | None) -> Any:
    """Index of the pooled token per row: the rightmost non-pad token (transformers 5.x
    ``GenericForSequenceClassification``), or −1 without a pad token."""
    import torch

    if pad_token_id is None:
        return torch.full((input_ids.shape[0],), input_ids.shape[-1] - 1, dtype=torch.long)
    non_pad = (input_ids != pad_token_id).to(torch.int32)
    idx = torch.arange(input_ids.shape[-1], dtype=torch.int32)
    return (idx * non_pad).argmax(-1).to(torch.long)


def _pad_token_id(model: Any) -> int | None:
    cfg = model.config
    text_cfg = cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg
    return getattr(text_cfg, "pad_token_id", None)


def capture_features(
    model: Any,
    batches: Iterable[tuple[np.ndarray, Mapping[str, Any]]],
    n_texts: int,
    *,
    atol: float = 1e-4,
    rtol: float = 1e-4,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Features φ entering the score head, and the model's rewards, for each text.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A sequence-classification reward model (put in eval mode here).
    batches : iterable of (indices, inputs)
        Text positions and the model inputs of those texts (``model(**inputs)``).
    n_texts : int
        Number of texts; every position must come in exactly one batch.
    atol, rtol : float
        Tolerance of the per-batch check that head(φ) reproduces the reward.
    progress : callable, optional
        Called with the number of texts in each finished batch.

    Returns
    -------
    (features, rewards) : (numpy.ndarray float32 (n_texts, h), numpy.ndarray float64 (n_texts,))

    Raises
    ------
    FaroInputError
        When head(φ) does not reproduce the model's reward (an architecture whose pooling is
        not the one described in the module docstring): use ``--mode full`` or ``lora``.
    """
    import torch

    info, head = find_score_head(model)
    pad_id = _pad_token_id(model)
    store: dict[str, Any] = {}
    handle = head.register_forward_pre_hook(lambda _m, args: store.__setitem__("x", args[0]))
    feats = np.zeros((n_texts, info.in_features), dtype=np.float32)
    rewards = np.full(n_texts, np.nan)
    model.eval()
    try:
        with torch.no_grad():
            for idx, inputs in batches:
                out = model(**inputs)
                x = store.pop("x")
                if x.dim() == 3:
                    pos = pooled_positions(inputs["input_ids"], pad_id).to(x.device)
                    x = x[torch.arange(x.shape[0], device=x.device), pos]
                logit = out.logits[:, 0]
                err = (head(x)[:, 0] - logit).abs()
                if bool((err > atol + rtol * logit.abs()).any()):
                    raise FaroInputError(
                        f"head mode: the input of {info.name!r} does not reproduce the model's "
                        f"reward (max difference {float(err.max()):.2e}); this architecture pools "
                        "differently, so use --mode full or --mode lora"
                    )
                feats[idx] = x.float().cpu().numpy()
                rewards[idx] = logit.double().cpu().numpy()
                if progress is not None:
                    progress(len(idx))
    finally:
        handle.remove()
    if np.isnan(rewards).any():
        raise ValueError("capture_features: some texts were in no batch")  # programming error
    return feats, rewards
