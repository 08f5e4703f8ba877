"""``load_scorer``: turn a TARGET into a :class:`~faro_audit.models.base.Scorer` (SPEC §9).

TARGET is

- a Hugging Face model directory: a reward model (``*ForSequenceClassification`` with
  ``num_labels == 1``) or a policy (``*ForCausalLM``), told apart by ``config.json``'s
  ``architectures`` unless ``mode`` says; a policy gives the DPO implicit reward
  β·(log π(y|x) − log π_ref(y|x)) with ``ref_model``, its own log-likelihood without;
- ``module:function`` or ``path/file.py:function``: a Python callable.

Checks that need no model (path, weights format, custom code, tokenizer files) run before
torch is imported; :func:`check_target` runs them alone.
"""

from __future__ import annotations

import os
from typing import Any

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.models.safety import ModelDir, inspect_model_dir

MODES = ("auto", "reward", "policy")


def _kind(md: ModelDir, mode: str) -> str:
    if mode not in MODES:
        raise FaroUsageError(f"--mode {mode}: unknown; use one of {', '.join(MODES)}")
    if mode != "auto":
        return mode
    kind = md.guess_kind()
    if kind is None:
        raise FaroInputError(
            f"TARGET {md.path}: cannot tell a reward model from a policy (architectures="
            f"{list(md.architectures)}); pass --mode reward or --mode policy"
        )
    return kind


def check_target(target: str, *, ref_model: str | None = None, mode: str = "auto",
                 allow_pickle: bool = False, trust_remote_code: bool = False) -> str:
    """Check TARGET (and ``ref_model``) without loading anything; return its kind.

    Returns
    -------
    str
        ``"reward"``, ``"policy"`` or ``"callable"``.

    Raises
    ------
    FaroInputError
        See :func:`~faro_audit.models.safety.inspect_model_dir`; also a TARGET that is a file
        (a scores file is not scored again) or does not exist.
    """
    from faro_audit.models.callable import looks_like_callable

    if os.path.isdir(os.path.expanduser(target)):
        md = inspect_model_dir(target, allow_pickle=allow_pickle, trust_remote_code=trust_remote_code)
        kind = _kind(md, mode)
    elif os.path.isfile(os.path.expanduser(target)):
        raise FaroInputError(f"TARGET {target}: is a file, not a model directory or "
                             "module:function; a scores file needs no scoring (give it to "
                             "faro-audit report)")
    elif looks_like_callable(target):
        kind = "callable"
    else:
        raise FaroInputError(f"TARGET {target}: no such directory, and not module:function; give "
                             "a model directory or a Python callable")
    if ref_model is not None:
        if kind != "policy":
            raise FaroUsageError(f"--ref-model {ref_model}: only a policy TARGET takes a reference "
                                 f"model, but TARGET is a {kind}; drop --ref-model")
        inspect_model_dir(ref_model, allow_pickle=allow_pickle, trust_remote_code=trust_remote_code,
                          option="--ref-model")
    return kind


def load_scorer(target: str, *, ref_model: str | None = None, beta: float = 0.1,
                mode: str = "auto", device: str = "auto", dtype: str | None = None,
                batch_size: int = 32, max_length: int | None = None, allow_pickle: bool = False,
                trust_remote_code: bool = False, policy_mode: str = "implicit",
                template: str = "auto") -> Any:
    """Load TARGET as a scorer.

    Parameters
    ----------
    target
        Model directory, ``module:function`` or ``file.py:function``.
    ref_model
        Reference policy directory for the DPO implicit reward (policies only).
    beta
        DPO β of the implicit reward r = β·(log π − log π_ref) (Rafailov et al. 2023, eq. 5).
    mode
        ``"auto"`` (from ``config.json``'s ``architectures``), ``"reward"`` or ``"policy"``.
    device
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
    dtype
        ``None`` (float32 on CPU/MPS, bfloat16 on CUDA), ``"float32"``, ``"bfloat16"``, ``"float16"``.
    batch_size
        Texts per forward pass (batches are length-sorted).
    max_length
        Tokens per text; longer texts are cut and counted. ``None``: the model's limit.
    allow_pickle, trust_remote_code
        Opt-ins for pickle-only weights and custom code in the directory.
    policy_mode
        ``"implicit"`` (implicit reward with ``ref_model``, log-likelihood without) or
        ``"loglik"`` (log-likelihood).
    template
        ``"auto"``, ``"chat"``, ``"pair"`` or ``"concat"`` (see :mod:`faro_audit.models.formatting`).

    Returns
    -------
    Scorer
        ``HFRewardScorer``, ``PolicyScorer`` or ``CallableScorer``.
    """
    if int(batch_size) < 1:
        raise FaroUsageError(f"--batch-size {batch_size}: must be at least 1")
    kind = check_target(target, ref_model=ref_model, mode=mode, allow_pickle=allow_pickle,
                        trust_remote_code=trust_remote_code)
    if kind == "callable":
        from faro_audit.models.callable import load_callable

        return load_callable(target, batch_size=batch_size)

    from faro_audit.models.device import resolve_device, resolve_dtype

    md = inspect_model_dir(target, allow_pickle=allow_pickle, trust_remote_code=trust_remote_code)
    dev = resolve_device(device)
    dt = resolve_dtype(dtype, dev)
    if kind == "reward":
        from faro_audit.models.hf_reward import load_reward_scorer

        return load_reward_scorer(md, device=dev, dtype=dt, batch_size=batch_size,
                                  max_length=max_length, template=template,
                                  trust_remote_code=trust_remote_code)
    from faro_audit.models.policy import load_policy_scorer

    ref = (inspect_model_dir(ref_model, allow_pickle=allow_pickle, trust_remote_code=trust_remote_code,
                             option="--ref-model") if ref_model is not None else None)
    return load_policy_scorer(md, ref=ref, beta=beta, policy_mode=policy_mode, device=dev, dtype=dt,
                              batch_size=batch_size, max_length=max_length, template=template,
                              trust_remote_code=trust_remote_code)
