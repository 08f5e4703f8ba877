"""One retraining session: the loaded input model, its features or encoded texts, and fresh
trainable copies of it for Faro and the baselines.

``head`` mode captures the features of every row once (train, dual and audit rows alike) and
gives each method its own :class:`~faro_audit.retrain.modes.HeadModel` over the shared features,
starting from the input head. ``full``/``lora`` reload the input directory for each method (so
that every method starts from the same weights) and encode the texts with that model's scorer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from faro_audit.errors import FaroUsageError
from faro_audit.models.batching import length_sorted_batches
from faro_audit.retrain.data import RetrainData
from faro_audit.retrain.features import capture_features
from faro_audit.retrain.loading import LoadedModel, PairTexts, load_reward_model
from faro_audit.retrain.modes import (
    MODES,
    FullModel,
    HeadModel,
    LoraModel,
    PairRewardModel,
)

__all__ = ["ModelOptions", "Session"]


@dataclass(frozen=True)
class ModelOptions:
    """How the input model is loaded and run (passed to :func:`faro_audit.models.load_scorer`)."""

    device: str = "auto"
    dtype: str | None = None
    max_length: int | None = None
    template: str = "auto"
    batch_size: int = 32
    allow_pickle: bool = False
    trust_remote_code: bool = False
    lora_rank: int = 8
    lora_alpha: float = 16.0


class Session:
    """Makes trainable copies of the input model over the rows of ``data``."""

    def __init__(self, path: str, data: RetrainData, *, mode: str, options: ModelOptions,
                 progress: Callable[[int, int], None] | None = None) -> None:
        if mode not in MODES:
            raise FaroUsageError(f"--mode {mode}: unknown mode; use one of {', '.join(MODES)}")
        self.path = str(path)
        self.data = data
        self.mode = mode
        self.options = options
        self.features: tuple[np.ndarray, np.ndarray] | None = None
        self.original_rewards: tuple[np.ndarray, np.ndarray] | None = None
        self.n_truncated = 0
        self._loaded: LoadedModel | None = self._load()
        if mode == "head":
            self._capture(progress)

    def _load(self) -> LoadedModel:
        o = self.options
        return load_reward_model(self.path, device=o.device, dtype=o.dtype,
                                 max_length=o.max_length, template=o.template,
                                 allow_pickle=o.allow_pickle,
                                 trust_remote_code=o.trust_remote_code)

    def _texts(self, loaded: LoadedModel) -> PairTexts:
        f = self.data.frame
        texts = PairTexts.encode(loaded, f["prompt"].tolist(), f["chosen"].tolist(),
                                 f["rejected"].tolist())
        self.n_truncated = texts.n_truncated
        return texts

    def _capture(self, progress: Callable[[int, int], None] | None) -> None:
        loaded = self._loaded
        assert loaded is not None
        texts = self._texts(loaded)
        enc = texts.encoded
        n_texts = len(enc.input_ids)
        lengths = [len(ids) for ids in enc.input_ids]
        batches = ((b, loaded.inputs(enc, b))
                   for b in length_sorted_batches(lengths, self.options.batch_size))
        done = [0]

        def step(k: int) -> None:
            done[0] += k
            if progress is not None:
                progress(done[0], n_texts)

        feats, rewards = capture_features(loaded.model, batches, n_texts, progress=step)
        n = self.data.n_rows
        self.features = (feats[:n], feats[n:])
        self.original_rewards = (rewards[:n], rewards[n:])
        start = HeadModel.from_loaded(loaded, *self.features)
        self._head_start = start.snapshot()

    def new_model(self) -> PairRewardModel:
        """A trainable copy starting from the input model's weights."""
        if self.mode == "head":
            assert self.features is not None and self._loaded is not None
            model = HeadModel.from_loaded(self._loaded, *self.features)
            model.restore(self._head_start)  # the input head, even after a save changed it
            return model
        loaded = self._loaded if self._loaded is not None else self._load()
        self._loaded = None  # each full/lora copy is loaded fresh from disk
        texts = self._texts(loaded)
        if self.mode == "full":
            return FullModel(loaded, texts, eval_batch_size=self.options.batch_size)
        return LoraModel(loaded, texts, rank=self.options.lora_rank,
                         alpha=self.options.lora_alpha, eval_batch_size=self.options.batch_size)

    def original_rewards_on(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rewards (chosen, rejected) of the unchanged input model on ``rows``."""
        rows = np.asarray(rows, dtype=np.int64)
        if self.original_rewards is None:
            n = self.data.n_rows
            self.original_rewards = (np.full(n, np.nan), np.full(n, np.nan))
        rc, rr = self.original_rewards
        todo = rows[np.isnan(rc[rows])]
        if todo.size:  # full/lora: score the dual and audit rows once with a fresh copy
            todo = np.union1d(todo, np.union1d(self.data.splits.dual.rows, self.data.audit_rows))
            rc[todo], rr[todo] = self.new_model().rewards_eval(todo)
        return rc[rows], rr[rows]

    def original_margins(self, rows: np.ndarray) -> np.ndarray:
        """Margins of the unchanged input model on ``rows``."""
        rc, rr = self.original_rewards_on(rows)
        return rc - rr

    def describe(self) -> dict[str, Any]:
        return {"mode": self.mode, "n_truncated_texts": int(self.n_truncated),
                "device": self.options.device, "dtype": self.options.dtype,
                "template": self.options.template, "max_length": self.options.max_length}
