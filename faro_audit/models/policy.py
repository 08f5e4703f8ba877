"""Policies (causal LMs) as scorers: the DPO implicit reward, or the log-likelihood.

With a reference model (Rafailov et al. 2023, "Direct Preference Optimization", eq. 5),

    r(x, y) = β · ( log π(y | x) − log π_ref(y | x) ),   log π(y | x) = Σ_t log π(y_t | x, y_<t),

summed over the response tokens (prompt tokens are context only). Without a reference model
the score is the policy's own log-likelihood log π(y | x) (no β). Texts are formatted by
:func:`~faro_audit.models.formatting.encode_policy` (chat template or concatenation + EOS),
right-padded, so each token keeps its unbatched position.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.models.base import ScoreSettings
from faro_audit.models.batching import pad_right
from faro_audit.models.fingerprint import files_sha256, fingerprint
from faro_audit.models.formatting import Encoded, encode_policy, resolve_template
from faro_audit.models.hf_base import HFScorerBase, model_max_positions, resolve_max_length
from faro_audit.models.hf_loading import check_vocab, load_model, load_tokenizer
from faro_audit.models.safety import ModelDir

POLICY_MODES = ("implicit", "loglik")


def response_logprobs(model: Any, input_ids: Any, attention_mask: Any, starts: Sequence[int],
                      lengths: Sequence[int]) -> np.ndarray:
    """Σ_t log π(y_t | x, y_<t) over positions ``starts[b] .. lengths[b]-1`` of each row.

    Token ``t`` is predicted by the logits at ``t − 1``; position 0 has no prediction and is
    skipped. The log-softmax runs in float32 one row at a time (bounded extra memory).
    """
    import torch

    with torch.inference_mode():
        logits = model(input_ids=input_ids, attention_mask=attention_mask).logits
        out = np.zeros(len(starts), dtype=np.float64)
        for b, (s, n) in enumerate(zip(starts, lengths)):
            s = max(int(s), 1)
            if n <= s:
                continue
            row = torch.log_softmax(logits[b, s - 1:n - 1].float(), dim=-1)
            out[b] = float(row.gather(-1, input_ids[b, s:n, None]).sum())
    return out


class PolicyScorer(HFScorerBase):
    """DPO implicit reward (with ``ref_model``) or log-likelihood (without) of a causal LM."""

    def __init__(self, *, ref_model: Any | None, beta: float, ref_path: str | None,
                 ref_sha256: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ref_model = ref_model
        self.beta = float(beta)
        self.ref_path = ref_path
        self.ref_sha256 = ref_sha256
        self.kind = "implicit_reward" if ref_model is not None else "log_likelihood"

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["formula"] = ("beta * (log pi(y|x) - log pi_ref(y|x))" if self.ref_model is not None
                          else "log pi(y|x)")
        if self.ref_model is not None:
            out["ref_model"] = {"path": self.ref_path, "sha256": self.ref_sha256}
        return out

    def encode(self, prompts: Sequence[str], responses: Sequence[str]) -> Encoded:
        return encode_policy(self.tokenizer, prompts, responses, template=self.settings.template,
                             max_length=self.settings.max_length)

    def _forward(self, idx: np.ndarray, enc: Encoded) -> np.ndarray:
        import torch

        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        seqs = [enc.input_ids[i] for i in idx]
        ids, mask = pad_right(seqs, int(pad))
        starts = [int(enc.response_start[i]) for i in idx]  # type: ignore[index]
        lengths = [len(s) for s in seqs]
        ids_t = torch.from_numpy(ids).to(self.model.device)
        mask_t = torch.from_numpy(mask).to(self.model.device)
        logp = response_logprobs(self.model, ids_t, mask_t, starts, lengths)
        if self.ref_model is None:
            return logp
        ref = response_logprobs(self.ref_model, ids_t.to(self.ref_model.device),
                                mask_t.to(self.ref_model.device), starts, lengths)
        return self.beta * (logp - ref)


def load_policy_scorer(md: ModelDir, *, ref: ModelDir | None, beta: float, policy_mode: str,
                       device: str, dtype: str, batch_size: int, max_length: int | None,
                       template: str, trust_remote_code: bool) -> PolicyScorer:
    """Load a causal LM (and its reference) as a :class:`PolicyScorer`."""
    if policy_mode not in POLICY_MODES:
        raise FaroUsageError(f"policy_mode {policy_mode!r}: unknown; use one of {', '.join(POLICY_MODES)} "
                             "(generation: faro_audit.models.generate_policy_table)")
    if policy_mode == "loglik" and ref is not None:
        raise FaroUsageError("--ref-model: a reference model is used only by the implicit reward; "
                             "drop --ref-model or use policy_mode implicit")
    if not np.isfinite(beta) or beta <= 0:
        raise FaroUsageError(f"--beta {beta}: must be a positive number (the DPO β)")
    tokenizer = load_tokenizer(md, trust_remote_code=trust_remote_code)
    model = load_model(md, task="policy", device=device, dtype=dtype,
                       trust_remote_code=trust_remote_code)
    ref_model = ref_sha = None
    if ref is not None:
        ref_tok = load_tokenizer(ref, trust_remote_code=trust_remote_code, option="--ref-model")
        if ref_tok.get_vocab() != tokenizer.get_vocab():
            raise FaroInputError(f"--ref-model {ref.path}: its tokenizer differs from the policy's "
                                 f"({md.path}); the implicit reward needs the same tokenizer")
        ref_model = load_model(ref, task="policy", device=device, dtype=dtype,
                               trust_remote_code=trust_remote_code, option="--ref-model")
        ref_sha = files_sha256(ref.path, ref.weight_files)
    check_vocab(md, tokenizer, model)
    if ref is not None:
        check_vocab(ref, tokenizer, ref_model, option="--ref-model")
    resolved = resolve_template(tokenizer, template, encoder=False, path=md.path)
    if resolved == "pair":
        raise FaroUsageError("--template pair: policies are scored with chat or concat")
    limit = model_max_positions(model, tokenizer)
    if ref_model is not None:
        limit = min(limit, model_max_positions(ref_model, tokenizer))
    extra: dict[str, Any] = {"policy_mode": "implicit" if ref is not None else "loglik"}
    if ref is not None:
        extra.update(beta=float(beta), ref_sha256=ref_sha,
                     ref_config_sha256=fingerprint(kind="ref", weights="", config=ref.config,
                                                   tokenizer="", settings={}))
    settings = ScoreSettings(template=resolved, max_length=resolve_max_length(max_length, limit),
                             dtype=dtype, device=str(device), batch_size=int(batch_size), extra=extra)
    weights = files_sha256(md.path, md.weight_files)
    kind = "implicit_reward" if ref is not None else "log_likelihood"
    fp = fingerprint(kind=kind, weights=weights, config=md.config,
                     tokenizer=files_sha256(md.path, md.tokenizer_files),
                     settings=settings.fingerprint_part())
    return PolicyScorer(ref_model=ref_model, beta=beta, ref_path=ref.path if ref else None,
                        ref_sha256=ref_sha, path=md.path, model=model, tokenizer=tokenizer,
                        settings=settings, weights_sha256=weights, fingerprint=fp)
