"""Load a tokenizer and a model from a local directory, safely and without the network.

Every ``from_pretrained`` call passes ``local_files_only=True``; ``use_safetensors`` follows
what :func:`~faro_audit.models.safety.inspect_model_dir` found (pickle weights are loaded
only when the user allowed them); ``trust_remote_code`` is passed through as given.
"""

from __future__ import annotations

import copy
from typing import Any

from faro_audit.errors import FaroInputError
from faro_audit.models.formatting import quiet_transformers
from faro_audit.models.safety import ModelDir


def load_tokenizer(md: ModelDir, *, trust_remote_code: bool = False, option: str = "TARGET") -> Any:
    """Load the directory's tokenizer; if it has no pad token, return a copy with pad = EOS.

    The user's files are never modified: the pad token is set on an in-memory copy.
    """
    from transformers import AutoTokenizer

    try:
        with quiet_transformers():
            tok = AutoTokenizer.from_pretrained(md.path, local_files_only=True,
                                                trust_remote_code=trust_remote_code)
    except Exception as err:  # noqa: BLE001 - any loader failure is an input problem here
        raise FaroInputError(f"{option} {md.path}: cannot load the tokenizer "
                             f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}); "
                             "re-save it with tokenizer.save_pretrained(path)") from None
    if isinstance(tok, bool) or not callable(tok):
        raise FaroInputError(f"{option} {md.path}: the tokenizer files did not give a tokenizer; "
                             "re-save it with tokenizer.save_pretrained(path)")
    if tok.pad_token is None and tok.eos_token is not None:
        tok = copy.deepcopy(tok)
        tok.pad_token = tok.eos_token
    return tok


def load_model(md: ModelDir, *, task: str, device: str, dtype: str,
               trust_remote_code: bool = False, option: str = "TARGET") -> Any:
    """Load a model for ``task`` (``"reward"``: sequence classification; ``"policy"``: causal LM)
    on ``device`` in ``dtype``, in eval mode.

    Raises
    ------
    FaroInputError
        The weights do not load, or the checkpoint lacks weights the model needs (e.g. a
        causal LM loaded as a reward model would get a randomly initialised score head).
    """
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    from faro_audit.models.device import torch_dtype

    cls = AutoModelForSequenceClassification if task == "reward" else AutoModelForCausalLM
    try:
        with quiet_transformers():
            model, info = cls.from_pretrained(
                md.path, local_files_only=True, trust_remote_code=trust_remote_code,
                use_safetensors=md.safetensors, dtype=torch_dtype(dtype), output_loading_info=True,
            )
    except Exception as err:  # noqa: BLE001
        first = str(err).splitlines()[0] if str(err) else ""
        raise FaroInputError(f"{option} {md.path}: cannot load the model as "
                             f"{cls.__name__} ({type(err).__name__}: {first[:200]}); check that "
                             "it is a complete save_pretrained directory") from None
    missing = sorted(info.get("missing_keys") or ())
    if missing:
        raise FaroInputError(
            f"{option} {md.path}: the checkpoint lacks {len(missing)} weight(s) the "
            f"{type(model).__name__} needs ({', '.join(missing[:3])}), which would be random; "
            "is it the right kind of model (reward model vs policy)? pass --mode to choose"
        )
    model.eval()
    return model.to(device)


def check_vocab(md: ModelDir, tokenizer: Any, model: Any, *, option: str = "TARGET") -> None:
    """Refuse a tokenizer that gives ids the model's input embedding table does not have.

    Such an id indexes past the table: an ``IndexError`` on CPU, a device-side assert on CUDA.
    """
    emb = model.get_input_embeddings() if hasattr(model, "get_input_embeddings") else None
    rows = getattr(emb, "num_embeddings", None)
    if not isinstance(rows, int):
        return
    try:
        vocab = tokenizer.get_vocab()
        max_id = max(vocab.values()) if vocab else -1
        size = max(len(tokenizer), max_id + 1)
    except Exception:  # noqa: BLE001 - a tokenizer without a vocabulary to inspect
        return
    if size > rows:
        raise FaroInputError(
            f"{option} {md.path}: the tokenizer has {size} token ids (largest {max_id}) but the "
            f"model's input embedding table has {rows} rows; ids from {rows} on would index past "
            "it: resize the embeddings (model.resize_token_embeddings(len(tokenizer))) and re-save, "
            "or give the tokenizer the model was trained with")
