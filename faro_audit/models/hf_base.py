"""Shared machinery of the Hugging Face scorers: length-sorted batches under
``torch.inference_mode``, results in input order, and batch splitting on GPU out-of-memory."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.models.base import BatchResult, ScoreSettings, check_texts
from faro_audit.models.batching import length_sorted_batches
from faro_audit.models.formatting import Encoded


def model_max_positions(model: Any, tokenizer: Any) -> int:
    """The longest input the model takes: ``max_position_embeddings`` (or ``n_positions``),
    capped by a finite ``tokenizer.model_max_length``; 2**20 when neither says."""
    cfg = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    limits = [getattr(cfg, name, None) for name in ("max_position_embeddings", "n_positions")]
    tok_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(tok_max, int) and 0 < tok_max < 10**7:
        limits.append(tok_max)
    finite = [int(x) for x in limits if isinstance(x, int) and x > 0]
    if getattr(cfg, "model_type", None) in ("roberta", "xlm-roberta", "camembert") and finite:
        # RoBERTa's position ids start at padding_idx + 1: two fewer usable positions.
        finite = [min(finite) - 2 if x == getattr(cfg, "max_position_embeddings", None) else x
                  for x in finite]
    return min(finite) if finite else 2**20


def resolve_max_length(max_length: int | None, limit: int) -> int:
    """``None`` → ``limit``; a larger request than the model takes is a usage error."""
    if max_length is None:
        return limit
    if max_length < 1:
        raise FaroUsageError(f"--max-length {max_length}: must be a positive number of tokens")
    if max_length > limit:
        raise FaroUsageError(f"--max-length {max_length}: the model takes at most {limit} tokens; "
                             f"use --max-length {limit} or less")
    return int(max_length)


class HFScorerBase:
    """Base of :class:`HFRewardScorer` and :class:`PolicyScorer`.

    Subclasses implement :meth:`encode` (texts → :class:`Encoded`) and :meth:`_forward`
    (a batch of positions → float64 scores).
    """

    kind: str = "hf"

    def __init__(self, *, path: str, model: Any, tokenizer: Any, settings: ScoreSettings,
                 weights_sha256: str, fingerprint: str) -> None:
        self.path = path
        self.model = model
        self.tokenizer = tokenizer
        self.settings = settings
        self.weights_sha256 = weights_sha256
        self.fingerprint = fingerprint

    @property
    def batch_size(self) -> int:
        return self.settings.batch_size

    def describe(self) -> dict[str, Any]:
        """Kind, path, SHA-256 of the weights, settings, and the fingerprint."""
        return {"kind": self.kind, "path": self.path, "sha256": self.weights_sha256,
                "fingerprint": self.fingerprint, "settings": self.settings.as_dict()}

    # -- subclass hooks -------------------------------------------------------------------
    def encode(self, prompts: Sequence[str], responses: Sequence[str]) -> Encoded:
        raise NotImplementedError

    def _forward(self, idx: np.ndarray, enc: Encoded) -> np.ndarray:
        raise NotImplementedError

    # -- batching --------------------------------------------------------------------------
    def _forward_safe(self, idx: np.ndarray, enc: Encoded) -> np.ndarray:
        """Forward a batch; on CUDA out-of-memory, split it in halves and retry."""
        import torch

        try:
            return self._forward(idx, enc)
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            if len(idx) == 1:
                raise FaroUsageError(
                    f"out of GPU memory on a single text of {len(enc.input_ids[idx[0]])} tokens; "
                    "lower --max-length or use --dtype bfloat16"
                ) from None
            half = len(idx) // 2
            return np.concatenate([self._forward_safe(idx[:half], enc),
                                   self._forward_safe(idx[half:], enc)])

    def score_batches(self, prompts: Sequence[str], responses: Sequence[str]) -> Iterator[BatchResult]:
        """Yield :class:`BatchResult` per length-sorted batch, longest texts first."""
        check_texts(prompts, responses)
        enc = self.encode(prompts, responses)
        empty = [i for i, ids in enumerate(enc.input_ids) if len(ids) == 0]
        if empty:
            raise FaroInputError(f"text #{empty[0]} encodes to zero tokens (prompt and response "
                                 "empty?); give non-empty texts")
        lengths = [len(ids) for ids in enc.input_ids]
        for idx in length_sorted_batches(lengths, self.batch_size):
            scores = np.asarray(self._forward_safe(idx, enc), dtype=np.float64)
            yield BatchResult(idx, scores, enc.truncated[idx])

    def score(self, prompts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
        """float64 scores in input order."""
        out = np.empty(len(prompts), dtype=np.float64)
        for batch in self.score_batches(prompts, responses):
            out[batch.indices] = batch.scores
        return out
