"""What ProxyGDA trains: the score head on cached features, the whole model, or LoRA adapters.

Every mode is a *pair reward model* over the rows of one table: ``rewards(rows)`` gives the
differentiable rewards (r(x, chosen), r(x, rejected)) of those rows (float64 for the text
modes, the features' float32 for ``head``),
``rewards_eval(rows)`` the same without gradient (in chunks), ``snapshot``/``restore`` copy the
trainable state, and ``save(out_dir)`` writes a directory that loads with the same
``AutoModelForSequenceClassification.from_pretrained`` call as the input.

``head`` (SPEC §7)
    The backbone is frozen; the features φ entering the final linear layer are captured once
    (:mod:`faro_audit.retrain.features`) and r = w·φ + b is trained. The BT objective is then
    convex in (w, b) (a logistic loss of w·(φ_c − φ_r)), so the game is convex–concave up to the
    non-convex soft-outcome constraints. Fast on a CPU.
``full``
    Every parameter trains; texts are run through the model at every step.
``lora``
    Low-rank adapters (Hu et al. 2022, "LoRA", ICLR) via :mod:`peft`, on peft's default target
    modules for the architecture (all linear layers when peft has none), and the score head
    trained in full (peft's ``SEQ_CLS`` task keeps ``classifier``/``score`` trainable). Saved
    merged (``merge_and_unload``), so the output is a plain model directory.

In ``full`` and ``lora`` mode the model stays in eval mode (dropout off): the proxy constraints
and the objective are then deterministic functions of θ on a minibatch, as the game assumes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from faro_audit.models.batching import length_sorted_batches
from faro_audit.retrain.features import find_score_head
from faro_audit.retrain.loading import LoadedModel, PairTexts

__all__ = ["MODES", "FullModel", "HeadModel", "LoraModel", "PairRewardModel"]

MODES = ("head", "full", "lora")


class PairRewardModel(Protocol):
    """The interface the retraining game uses."""

    def trainable(self) -> list[torch.Tensor]: ...

    def rewards(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]: ...

    def rewards_eval(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def snapshot(self) -> Any: ...

    def restore(self, state: Any) -> None: ...

    def save(self, out_dir: Path) -> None: ...


class HeadModel:
    """A linear score head r = w·φ + b on cached features, in float32 like the model's own head
    (so head(φ) is the model's reward to float32 rounding, and no per-step conversions).

    Parameters
    ----------
    features_chosen, features_rejected : numpy.ndarray, shape (n_rows, h)
        φ of each row's chosen and rejected text (float32 storage).
    weight : numpy.ndarray, shape (h,)
    bias : float or None
        ``None`` for heads without a bias (decoder ``score`` layers).
    loaded : LoadedModel, optional
        The model the features came from; needed only by :meth:`save`.
    """

    def __init__(self, features_chosen: np.ndarray, features_rejected: np.ndarray, *,
                 weight: np.ndarray, bias: float | None, loaded: LoadedModel | None = None,
                 chunk: int = 65536) -> None:
        self.Xc = torch.from_numpy(np.ascontiguousarray(features_chosen, dtype=np.float32))
        self.Xr = torch.from_numpy(np.ascontiguousarray(features_rejected, dtype=np.float32))
        self._delta: torch.Tensor | None = None  # φ_c − φ_r, made on first use of margins()
        h = self.Xc.shape[1]
        self.head = torch.nn.Linear(h, 1, bias=bias is not None, dtype=torch.float32)
        with torch.no_grad():
            self.head.weight.copy_(torch.as_tensor(np.asarray(weight, float).reshape(1, h)))
            if bias is not None:
                self.head.bias.fill_(float(bias))
        self.loaded = loaded
        self.chunk = int(chunk)

    @classmethod
    def from_loaded(cls, loaded: LoadedModel, features_chosen: np.ndarray,
                    features_rejected: np.ndarray) -> HeadModel:
        """Start from the model's own head weights."""
        _, lin = find_score_head(loaded.model)
        w = lin.weight.detach().double().cpu().numpy().reshape(-1)
        b = None if lin.bias is None else float(lin.bias.detach().double().cpu())
        return cls(features_chosen, features_rejected, weight=w, bias=b, loaded=loaded)

    def trainable(self) -> list[torch.Tensor]:
        return list(self.head.parameters())

    def rewards(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.as_tensor(np.asarray(rows), dtype=torch.long)
        return (self.head(torch.index_select(self.Xc, 0, idx))[:, 0],
                self.head(torch.index_select(self.Xr, 0, idx))[:, 0])

    def margins(self, rows: np.ndarray) -> torch.Tensor:
        """d = w·(φ_c − φ_r) (the bias cancels), from the cached differences: half the work of
        :meth:`rewards` when only margins are needed."""
        if self._delta is None:
            self._delta = self.Xc - self.Xr
        idx = torch.as_tensor(np.asarray(rows), dtype=torch.long)
        return torch.index_select(self._delta, 0, idx) @ self.head.weight[0]

    def margins_eval(self, rows: np.ndarray) -> np.ndarray:
        """Margins without gradient, in the features' float32 (as the model computes them)."""
        if self._delta is None:
            self._delta = self.Xc - self.Xr
        rows = np.asarray(rows, dtype=np.int64)
        w = self.head.weight[0].detach()
        out = np.empty(rows.size)
        with torch.no_grad():
            for s in range(0, rows.size, self.chunk):
                idx = torch.as_tensor(rows[s:s + self.chunk])
                out[s:s + self.chunk] = (torch.index_select(self._delta, 0, idx) @ w).double().numpy()
        return out

    def rewards_eval(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.asarray(rows, dtype=np.int64)
        rc, rr = np.empty(rows.size), np.empty(rows.size)
        with torch.no_grad():
            for s in range(0, rows.size, self.chunk):
                a, b = self.rewards(rows[s:s + self.chunk])
                rc[s:s + self.chunk], rr[s:s + self.chunk] = a.numpy(), b.numpy()
        return rc, rr

    def snapshot(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in self.head.state_dict().items()}

    def restore(self, state: dict[str, torch.Tensor]) -> None:
        self.head.load_state_dict(state)

    def save(self, out_dir: Path) -> None:
        """Write the input model with this head into ``out_dir`` (``save_pretrained``)."""
        if self.loaded is None:
            raise ValueError("HeadModel.save needs the model the features came from")
        _, lin = find_score_head(self.loaded.model)
        with torch.no_grad():
            lin.weight.copy_(self.head.weight.to(lin.weight.dtype))
            if lin.bias is not None:
                lin.bias.copy_(self.head.bias.to(lin.bias.dtype))
        _save(self.loaded, self.loaded.model, out_dir)


def _save(loaded: LoadedModel, model: Any, out_dir: Path) -> None:
    loaded.restore_config()
    model.save_pretrained(str(out_dir))
    loaded.tokenizer.save_pretrained(str(out_dir))


class _TextModel:
    """Shared forward pass of ``full`` and ``lora``: run the texts of the rows."""

    def __init__(self, loaded: LoadedModel, texts: PairTexts, *, eval_batch_size: int = 32) -> None:
        self.loaded = loaded
        self.texts = texts
        self.eval_batch_size = int(eval_batch_size)
        self.net: Any = loaded.model

    def _forward(self, text_idx: np.ndarray) -> torch.Tensor:
        inputs = self.loaded.inputs(self.texts.encoded, text_idx)
        return self.net(**inputs).logits[:, 0].double().cpu()

    def rewards(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        r = self._forward(self.texts.text_index(rows))
        n = len(rows)
        return r[:n], r[n:]

    def rewards_eval(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        idx = self.texts.text_index(rows)
        out = np.empty(idx.size)
        lengths = [len(self.texts.encoded.input_ids[i]) for i in idx]
        with torch.no_grad():
            for b in length_sorted_batches(lengths, self.eval_batch_size):
                out[b] = self._forward(idx[b]).numpy()
        n = len(rows)
        return out[:n], out[n:]


class FullModel(_TextModel):
    """Every parameter of the model trains; snapshots copy the full state dict."""

    def __init__(self, loaded: LoadedModel, texts: PairTexts, *, eval_batch_size: int = 32) -> None:
        super().__init__(loaded, texts, eval_batch_size=eval_batch_size)
        self.net.eval()
        for p in self.net.parameters():
            p.requires_grad_(True)

    def trainable(self) -> list[torch.Tensor]:
        return [p for p in self.net.parameters() if p.requires_grad]

    def snapshot(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in self.net.state_dict().items()}

    def restore(self, state: dict[str, torch.Tensor]) -> None:
        self.net.load_state_dict(state)

    def save(self, out_dir: Path) -> None:
        _save(self.loaded, self.net, out_dir)


class LoraModel(_TextModel):
    """LoRA adapters plus the score head (peft ``SEQ_CLS``); saved merged."""

    def __init__(self, loaded: LoadedModel, texts: PairTexts, *, rank: int = 8,
                 alpha: float = 16.0, eval_batch_size: int = 32) -> None:
        from peft import LoraConfig, TaskType, get_peft_model

        super().__init__(loaded, texts, eval_batch_size=eval_batch_size)
        kwargs = {"task_type": TaskType.SEQ_CLS, "r": int(rank), "lora_alpha": float(alpha),
                  "lora_dropout": 0.0}
        try:
            net = get_peft_model(loaded.model, LoraConfig(**kwargs))
        except ValueError:  # peft knows no default target modules for this architecture
            net = get_peft_model(loaded.model, LoraConfig(target_modules="all-linear", **kwargs))
        net.eval()
        self.net = net

    def trainable(self) -> list[torch.Tensor]:
        return [p for p in self.net.parameters() if p.requires_grad]

    def snapshot(self) -> dict[str, torch.Tensor]:
        return {n: p.detach().clone() for n, p in self.net.named_parameters() if p.requires_grad}

    def restore(self, state: dict[str, torch.Tensor]) -> None:
        params = dict(self.net.named_parameters())
        with torch.no_grad():
            for n, v in state.items():
                params[n].copy_(v)

    def save(self, out_dir: Path) -> None:
        merged = self.net.merge_and_unload()
        _save(self.loaded, merged, out_dir)
