"""Generation mode: audit a policy by what it says.

For each audit row, sample ``k`` responses from the policy to the row's prompt, score them
with a reward model, and return a ``responses`` table (one row per sample) that keeps the
row's group columns and twin id (``cf_id``), so that the usual metrics apply to the policy's
own outputs (SPEC §6: the measured policy gap beside the KL bound).

Reproducibility: the sampling seed of a row is ``sha256(seed, key)`` where ``key`` is the
row's ``cf_id`` when present (twins share random draws — common random numbers, so their
responses differ only through the prompt) and else its prompt. Each prompt is generated on its
own (no padding), so the samples do not depend on row order or batch composition on a given
device, dtype and library version.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from faro_audit.errors import FaroUsageError
from faro_audit.io.table import AuditTable
from faro_audit.models.formatting import policy_prompt_ids, quiet_transformers, resolve_template

if TYPE_CHECKING:
    from faro_audit.models.base import Scorer

_DROP = ("chosen", "rejected", "response", "reward", "reward_chosen", "reward_rejected",
         "p_human", "label", "pair_id")


def _row_seed(seed: int, key: object) -> int:
    digest = hashlib.sha256(f"{seed}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & 0x7FFF_FFFF_FFFF_FFFF


def generate_policy_table(policy_dir: str, table: AuditTable, *, reward_scorer: Scorer,
                          k: int = 4, seed: int = 0, max_new_tokens: int = 64,
                          temperature: float = 1.0, top_p: float = 1.0, device: str = "auto",
                          dtype: str | None = None, template: str = "auto",
                          allow_pickle: bool = False, trust_remote_code: bool = False,
                          cache_dir: str | None = None, cache: bool = True,
                          progress: bool | None = None) -> AuditTable:
    """Sample ``k`` responses per audit row from a policy and score them.

    Parameters
    ----------
    policy_dir
        Causal-LM directory.
    table
        Audit table (``pairs`` or ``responses``); its prompts, group columns, ``cf_id``,
        ``weight`` and ``subset`` are used.
    reward_scorer
        Scores the samples (a scorer from :func:`~faro_audit.models.load_scorer`).
    k, seed, max_new_tokens, temperature, top_p
        Sampling settings (nucleus sampling with ``top_p``).

    Returns
    -------
    AuditTable
        Shape ``responses``: columns ``prompt``, ``response``, ``reward``, ``sample`` (0..k-1),
        ``source_row`` (0-based row of the audit table), and the kept columns.
    """
    import pandas as pd
    import torch

    from faro_audit.models.device import resolve_device, resolve_dtype
    from faro_audit.models.hf_loading import load_model, load_tokenizer
    from faro_audit.models.safety import inspect_model_dir
    from faro_audit.models.scoring import score_table

    if k < 1 or max_new_tokens < 1:
        raise FaroUsageError(f"k={k}, max_new_tokens={max_new_tokens}: both must be at least 1")
    if not temperature > 0 or not 0 < top_p <= 1:
        raise FaroUsageError(f"temperature={temperature}, top_p={top_p}: need temperature > 0 "
                             "and 0 < top_p <= 1")
    md = inspect_model_dir(policy_dir, allow_pickle=allow_pickle,
                           trust_remote_code=trust_remote_code, option="policy")
    dev = resolve_device(device)
    tok = load_tokenizer(md, trust_remote_code=trust_remote_code, option="policy")
    model = load_model(md, task="policy", device=dev, dtype=resolve_dtype(dtype, dev),
                       trust_remote_code=trust_remote_code, option="policy")
    fmt = resolve_template(tok, template, encoder=False)
    if fmt == "pair":
        raise FaroUsageError("--template pair: a policy generates from chat or concat prompts")
    frame = table.frame.reset_index(drop=True)
    keep = [c for c in frame.columns if c not in _DROP and c != "prompt"]
    has_cf = "cf_id" in frame.columns
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    done: dict[tuple[str, int], list[str]] = {}
    rows: list[dict[str, Any]] = []
    with quiet_transformers():
        for i, rec in enumerate(frame.to_dict("records")):
            prompt = rec["prompt"]
            row_seed = _row_seed(seed, rec["cf_id"] if has_cf and pd.notna(rec["cf_id"]) else prompt)
            cache_key = (prompt, row_seed)
            if cache_key not in done:
                ids = torch.tensor([policy_prompt_ids(tok, prompt, template=fmt)], device=model.device)
                torch.manual_seed(row_seed)
                with torch.inference_mode():
                    out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids),
                                         do_sample=True, temperature=temperature, top_p=top_p,
                                         top_k=0, max_new_tokens=max_new_tokens,
                                         num_return_sequences=k, pad_token_id=pad)
                done[cache_key] = tok.batch_decode(out[:, ids.shape[1]:], skip_special_tokens=True)
            for j, text in enumerate(done[cache_key]):
                rows.append({"prompt": prompt, "response": text, "sample": j, "source_row": i,
                             **{c: rec[c] for c in keep}})
    out_frame = pd.DataFrame(rows, columns=["prompt", "response", "sample", "source_row", *keep])
    for col in table.group_columns:
        out_frame[col] = out_frame[col].astype(frame[col].dtype)
    generated = AuditTable(frame=out_frame, shape="responses", group_columns=table.group_columns,
                           path=None, sha256=None, scoped_groups=table.scoped_groups,
                           notes=(*table.notes, (f"generated: k={k} samples per row from {md.path}, "
                                   f"seed={seed}, max_new_tokens={max_new_tokens}, "
                                   f"temperature={temperature}, top_p={top_p}")))
    scored, _info = score_table(generated, reward_scorer, cache_dir=cache_dir, cache=cache,
                                progress=progress, check_batch_invariance=0)
    return scored
