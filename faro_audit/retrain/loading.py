"""Load the reward model to retrain and tokenise its pair texts exactly as the audit does.

The model, tokenizer, template and truncation come from :func:`faro_audit.models.load_scorer`
(mode ``"reward"``), and texts are encoded with the scorer's own ``encode`` and padded on the
right like its forward pass, so rewards computed during retraining equal the rewards the audit
computes for the same texts. The input directory is only read.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from faro_audit.models.batching import pad_right

__all__ = ["LoadedModel", "PairTexts", "dir_sha256", "load_reward_model"]


def dir_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 over every file under ``path`` (relative names in order, each file's SHA-256)."""
    from faro_audit.models.fingerprint import files_sha256

    root = Path(path)
    names = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    return files_sha256(root, names)


@dataclass
class LoadedModel:
    """A reward model loaded for retraining (mutable: training changes its weights).

    Attributes
    ----------
    scorer : faro_audit.models.hf_reward.HFRewardScorer
        The audit's scorer for this directory (template, max_length, pad handling).
    path : str
    config_pad_token_id : int or None
        ``pad_token_id`` of the saved config (the scorer may set another in memory, which must
        not be written into the retrained model).
    """

    scorer: Any
    path: str
    config_pad_token_id: int | None

    @property
    def model(self) -> Any:
        return self.scorer.model

    @property
    def tokenizer(self) -> Any:
        return self.scorer.tokenizer

    def pad_value(self) -> int:
        """The id the scorer pads with (its in-memory pad id, else the tokenizer's, else 0)."""
        own = getattr(self.scorer, "_pad_value", None)
        if callable(own):
            return int(own())
        pad = self.tokenizer.pad_token_id
        return int(pad) if pad is not None else 0

    def inputs(self, encoded: Any, idx: np.ndarray) -> dict[str, Any]:
        """Right-padded model inputs for texts ``idx`` of an :class:`~faro_audit.models.formatting.Encoded`."""
        import torch

        device = self.model.device
        ids, mask = pad_right([encoded.input_ids[i] for i in idx], self.pad_value())
        out = {"input_ids": torch.from_numpy(ids).to(device),
               "attention_mask": torch.from_numpy(mask).to(device)}
        if encoded.token_type_ids is not None:
            tt, _ = pad_right([encoded.token_type_ids[i] for i in idx], 0)
            out["token_type_ids"] = torch.from_numpy(tt).to(device)
        return out

    def restore_config(self) -> None:
        """Put back the saved ``pad_token_id`` before ``save_pretrained``."""
        cfg = self.model.config.get_text_config()
        cfg.pad_token_id = self.config_pad_token_id


@dataclass
class PairTexts:
    """Encoded texts of every table row, encoded in one call (so that a decoder without a pad
    id gets one in-memory pad id that no text uses): text ``i`` is row i's ``chosen`` and text
    ``n + i`` its ``rejected``."""

    encoded: Any
    n_rows: int

    @classmethod
    def encode(cls, loaded: LoadedModel, prompts: Sequence[str], chosen: Sequence[str],
               rejected: Sequence[str]) -> PairTexts:
        p = list(prompts)
        return cls(loaded.scorer.encode(p + p, list(chosen) + list(rejected)), len(p))

    def text_index(self, rows: np.ndarray) -> np.ndarray:
        """Text positions of ``rows``: their chosen texts, then their rejected texts."""
        rows = np.asarray(rows, dtype=np.int64)
        return np.concatenate([rows, rows + self.n_rows])

    @property
    def n_truncated(self) -> int:
        return int(np.sum(self.encoded.truncated))


def load_reward_model(
    path: str,
    *,
    device: str = "cpu",
    dtype: str | None = None,
    max_length: int | None = None,
    template: str = "auto",
    allow_pickle: bool = False,
    trust_remote_code: bool = False,
) -> LoadedModel:
    """Load ``path`` with the audit's reward-model loader (no network, eval mode)."""
    from faro_audit.models import load_scorer

    scorer = load_scorer(str(path), mode="reward", device=device, dtype=dtype,
                         max_length=max_length, allow_pickle=allow_pickle,
                         trust_remote_code=trust_remote_code, template=template)
    cfg = scorer.model.config.get_text_config()
    return LoadedModel(scorer, str(path), getattr(cfg, "pad_token_id", None))
