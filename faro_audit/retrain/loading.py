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

    def inputs(self, encoded: Any, idx: np.ndarray) -> dict[str, Any]:
        """Right-padded model inputs for texts ``idx``: exactly what the audit's scorer feeds."""
        return self.scorer.model_inputs(encoded, idx)

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
