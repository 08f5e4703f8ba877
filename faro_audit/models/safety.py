"""Checks on a model directory before anything is loaded (no torch needed).

Refused unless the user opts in, because loading them runs code from the directory:

- pickle-only weights (``pytorch_model.bin``, ``*.pt``, ``*.ckpt`` without ``*.safetensors``):
  ``torch.load`` unpickles, which can execute code → ``allow_pickle=True`` / ``--allow-pickle``;
- custom model or tokenizer code (``auto_map`` in ``config.json`` or
  ``tokenizer_config.json``) → ``trust_remote_code=True`` / ``--trust-remote-code``.

Every refusal is a one-line :class:`~faro_audit.errors.FaroInputError` that names the path,
what was found and the fix.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faro_audit.errors import FaroInputError

#: Files that hold a tokenizer (any one suffices).
TOKENIZER_FILES: tuple[str, ...] = (
    "tokenizer.json", "tokenizer.model", "vocab.txt", "vocab.json", "spiece.model",
    "sentencepiece.bpe.model", "spm.model",
)
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
_REWARD_SUFFIXES = ("ForSequenceClassification", "ForRewardModel", "RewardModel")
_POLICY_SUFFIXES = ("ForCausalLM", "LMHeadModel", "ForConditionalGeneration")


@dataclass(frozen=True)
class ModelDir:
    """What :func:`inspect_model_dir` learnt about a model directory.

    Attributes
    ----------
    path
        Absolute path of the directory.
    config
        ``config.json`` as a dict.
    weight_files
        Weight files to hash (sorted names relative to ``path``).
    safetensors
        True when the weights are safetensors (else pickle, allowed by the caller).
    tokenizer_files
        Tokenizer files present (sorted names), hashed into the fingerprint.
    """

    path: str
    config: dict[str, Any]
    weight_files: tuple[str, ...]
    safetensors: bool
    tokenizer_files: tuple[str, ...]

    @property
    def architectures(self) -> tuple[str, ...]:
        return tuple(self.config.get("architectures") or ())

    def guess_kind(self) -> str | None:
        """``"reward"``, ``"policy"`` or ``None`` from ``config.json``'s ``architectures``."""
        archs = self.architectures
        if any(a.endswith(_REWARD_SUFFIXES) for a in archs):
            return "reward"
        if any(a.endswith(_POLICY_SUFFIXES) for a in archs):
            return "policy"
        return None


def is_model_dir(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a directory holding ``config.json`` (a saved Hugging Face model)."""
    p = Path(path)
    return p.is_dir() and (p / "config.json").is_file()


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise FaroInputError(f"{path}: cannot read the {what} ({err}); re-save the model with "
                             "save_pretrained") from None
    if not isinstance(data, dict):
        raise FaroInputError(f"{path}: the {what} is {type(data).__name__}, not a JSON object; "
                             "re-save the model with save_pretrained")
    return data


def _json_kind(value: Any) -> str:
    """The JSON name of a parsed value's type (``list`` → ``array``)."""
    return {list: "array", str: "string", bool: "boolean", int: "number", float: "number",
            dict: "object"}.get(type(value), type(value).__name__)


def inspect_model_dir(path: str | os.PathLike[str], *, allow_pickle: bool = False,
                      trust_remote_code: bool = False, option: str = "TARGET",
                      need_tokenizer: bool = True) -> ModelDir:
    """Check a model directory and describe it, without importing torch.

    Parameters
    ----------
    path
        The directory.
    allow_pickle, trust_remote_code
        Opt-ins for pickle-only weights and custom code (refused otherwise).
    option
        The command-line name of the argument, for messages (``TARGET``, ``--ref-model``).
    need_tokenizer
        Demand tokenizer files in the directory.

    Raises
    ------
    FaroInputError
        Not a directory, no ``config.json``, no weights, pickle-only weights without
        ``allow_pickle``, ``auto_map`` without ``trust_remote_code``, no tokenizer.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise FaroInputError(f"{option} {p}: no such file or directory; check the path")
    if not p.is_dir():
        raise FaroInputError(f"{option} {p}: is a file, not a model directory; give the directory "
                             "that save_pretrained wrote")
    if not (p / "config.json").is_file():
        hint = ("it holds a PEFT adapter (adapter_config.json): merge it into its base model "
                "with merge_and_unload() and save_pretrained the result"
                if (p / "adapter_config.json").is_file()
                else "give a directory written by save_pretrained, a scores file, or module:function")
        raise FaroInputError(f"{option} {p}: not a model directory (no config.json); {hint}")
    config = _read_json(p / "config.json", "model config")
    names = sorted(f.name for f in p.iterdir() if f.is_file())
    safe = [n for n in names if n.endswith(".safetensors")]
    pickled = [n for n in names if n.endswith(_PICKLE_SUFFIXES) and n != "training_args.bin"]
    if safe:
        weights, is_safe = safe, True
    elif pickled:
        if not allow_pickle:
            raise FaroInputError(
                f"{option} {p}: weights are pickle files only ({', '.join(pickled[:3])}), and "
                "unpickling can run code; convert them to safetensors, or pass --allow-pickle "
                "(allow_pickle=True) if you trust the source"
            )
        weights, is_safe = pickled, False
    else:
        raise FaroInputError(f"{option} {p}: no weights (*.safetensors or pytorch_model.bin) in "
                             "the directory; save the model with save_pretrained")
    auto_map = config.get("auto_map")
    if auto_map is not None and not isinstance(auto_map, dict):
        raise FaroInputError(
            f"{option} {p}: config.json's auto_map is a JSON {_json_kind(auto_map)}, not an object "
            "mapping Auto classes to code (e.g. {\"AutoModel\": \"modeling.MyModel\"}); fix or "
            "remove auto_map and re-save the model with save_pretrained")
    archs = config.get("architectures")
    if archs is not None and not (isinstance(archs, list) and all(isinstance(a, str) for a in archs)):
        raise FaroInputError(
            f"{option} {p}: config.json's architectures is a JSON {_json_kind(archs)}, not a list "
            "of class names; fix it and re-save the model with save_pretrained")
    remote = [f"config.json auto_map {sorted(map(str, auto_map))}"] if auto_map else []
    tok_cfg_path = p / "tokenizer_config.json"
    if tok_cfg_path.is_file():
        tok_cfg = _read_json(tok_cfg_path, "tokenizer config")
        if tok_cfg.get("auto_map"):
            remote.append("tokenizer_config.json auto_map")
    if remote and not trust_remote_code:
        raise FaroInputError(
            f"{option} {p}: needs custom code from the directory ({'; '.join(remote)}), which is "
            "refused by default; pass --trust-remote-code (trust_remote_code=True) if you trust "
            "the source"
        )
    tok_files = tuple(n for n in names if n in TOKENIZER_FILES)
    if need_tokenizer and not tok_files:
        raise FaroInputError(
            f"{option} {p}: no tokenizer files (one of {', '.join(TOKENIZER_FILES[:4])}, ...); "
            "save the tokenizer into the model directory with tokenizer.save_pretrained(path)"
        )
    extra_tok = tuple(n for n in names if n in ("tokenizer_config.json", "special_tokens_map.json",
                                               "merges.txt", "chat_template.jinja",
                                               "chat_template.json", "added_tokens.json"))
    return ModelDir(path=str(p.resolve()), config=config, weight_files=tuple(weights),
                    safetensors=is_safe, tokenizer_files=tuple(sorted(tok_files + extra_tok)))
