"""Reward models: ``AutoModelForSequenceClassification`` with one output (``num_labels == 1``).

Where the score is read
-----------------------
transformers' sequence-classification heads for decoders (GPT-2, Llama, Qwen, ...) read the
logit of the *rightmost token that is not ``config.pad_token_id``* (transformers 5.x,
``modeling_layers.GenericForSequenceClassification``: ``(arange(T) * (input_ids != pad)).argmax``),
and use position ids ``0..T-1`` unless given others. faro-audit therefore pads on the right,
whatever the tokenizer's ``padding_side``: real tokens keep the positions and the read
position they have in an unbatched forward pass, so batched scores equal unbatched ones up to
float rounding. When the config has no ``pad_token_id`` (an unbatched forward pass then reads
the last token), the in-memory config gets a pad id that no text in the batch uses, so the
read position is again the last real token. Encoders (BERT, RoBERTa, DeBERTa) read the first
token ([CLS]) and are padded on the right with the tokenizer's pad id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from faro_audit.errors import FaroInputError
from faro_audit.models.base import ScoreSettings
from faro_audit.models.batching import pad_right, unused_id
from faro_audit.models.fingerprint import files_sha256, fingerprint
from faro_audit.models.formatting import Encoded, encode_reward, is_encoder, resolve_template
from faro_audit.models.hf_base import HFScorerBase, model_max_positions, resolve_max_length
from faro_audit.models.hf_loading import check_vocab, load_model, load_tokenizer
from faro_audit.models.safety import ModelDir


class HFRewardScorer(HFScorerBase):
    """A sequence-classification reward model; the score is its single logit.

    Build with :func:`load_reward_scorer` (or :func:`faro_audit.models.load_scorer`).
    """

    kind = "reward_model"

    def __init__(self, *, encoder: bool, config_pad_id: int | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.encoder = encoder
        self._config_pad_id = config_pad_id
        self._pad_id: int | None = config_pad_id

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["read_position"] = ("first token ([CLS])" if self.encoder else
                                "last token that is not the pad token" if self._config_pad_id is not None
                                else "last token")
        return out

    def encode(self, prompts: Sequence[str], responses: Sequence[str]) -> Encoded:
        enc = encode_reward(self.tokenizer, prompts, responses, template=self.settings.template,
                            max_length=self.settings.max_length)
        if not self.encoder and self._config_pad_id is None:
            # Unbatched, a model without pad_token_id reads the last token; give the in-memory
            # config a pad id that none of these texts uses, so batches read the same position.
            vocab = int(getattr(self.model.config.get_text_config(), "vocab_size", 0) or 0)
            self._pad_id = unused_id(enc.input_ids, vocab)
            self.model.config.get_text_config().pad_token_id = self._pad_id
        return enc

    def pad_value(self) -> int:
        """The id batches are padded with: the in-memory pad id, else the tokenizer's, else 0."""
        if self._pad_id is not None:
            return self._pad_id
        tok_pad = self.tokenizer.pad_token_id
        return int(tok_pad) if tok_pad is not None else 0

    def model_inputs(self, enc: Encoded, idx: np.ndarray) -> dict[str, Any]:
        """Right-padded model inputs (on the model's device) for texts ``idx`` of ``enc``.

        Public so that retraining feeds the model exactly what scoring feeds it.
        """
        import torch

        device = self.model.device
        ids, mask = pad_right([enc.input_ids[i] for i in idx], self.pad_value())
        inputs = {"input_ids": torch.from_numpy(ids).to(device),
                  "attention_mask": torch.from_numpy(mask).to(device)}
        if enc.token_type_ids is not None:
            tt, _ = pad_right([enc.token_type_ids[i] for i in idx], 0)
            inputs["token_type_ids"] = torch.from_numpy(tt).to(device)
        return inputs

    def _forward(self, idx: np.ndarray, enc: Encoded) -> np.ndarray:
        import torch

        if not self.encoder and self._pad_id is None and len(idx) > 1:
            # every token id occurs somewhere: no safe pad id, score one text at a time
            return np.concatenate([self._forward(idx[i:i + 1], enc) for i in range(len(idx))])
        inputs = self.model_inputs(enc, idx)
        if not self.encoder and self._pad_id is None:  # single text, config without pad id
            self.model.config.get_text_config().pad_token_id = None
        with torch.inference_mode():
            logits = self.model(**inputs).logits
        return logits[:, 0].float().cpu().numpy().astype(np.float64)


def load_reward_scorer(md: ModelDir, *, device: str, dtype: str, batch_size: int,
                       max_length: int | None, template: str, trust_remote_code: bool,
                       option: str = "TARGET") -> HFRewardScorer:
    """Load a one-output sequence-classification model and its tokenizer as a scorer."""
    tokenizer = load_tokenizer(md, trust_remote_code=trust_remote_code, option=option)
    model = load_model(md, task="reward", device=device, dtype=dtype,
                       trust_remote_code=trust_remote_code, option=option)
    num_labels = int(getattr(model.config, "num_labels", 0))
    if num_labels != 1:
        raise FaroInputError(
            f"{option} {md.path}: the model has {num_labels} outputs (num_labels={num_labels}), "
            "but a reward model has one; give a reward model (num_labels=1), or a scores file"
        )
    check_vocab(md, tokenizer, model, option=option)
    text_cfg = model.config.get_text_config()
    encoder = is_encoder(text_cfg)
    resolved = resolve_template(tokenizer, template, encoder=encoder, path=md.path)
    settings = ScoreSettings(
        template=resolved,
        max_length=resolve_max_length(max_length, model_max_positions(model, tokenizer)),
        dtype=dtype, device=str(device), batch_size=int(batch_size),
    )
    weights = files_sha256(md.path, md.weight_files)
    fp = fingerprint(kind=HFRewardScorer.kind, weights=weights, config=md.config,
                     tokenizer=files_sha256(md.path, md.tokenizer_files),
                     settings=settings.fingerprint_part())
    return HFRewardScorer(encoder=encoder, config_pad_id=getattr(text_cfg, "pad_token_id", None),
                          path=md.path, model=model, tokenizer=tokenizer, settings=settings,
                          weights_sha256=weights, fingerprint=fp)
