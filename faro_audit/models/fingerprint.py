"""Hashes that identify a model, its settings, and each scored text.

- ``files_sha256``: SHA-256 over the listed files, in name order, of ``name ␀ sha256(bytes) ␀``
  — one digest for a sharded checkpoint; memoised per process by (path, size, mtime).
- ``json_sha256``: SHA-256 of canonical JSON (sorted keys, no spaces).
- ``fingerprint``: ``json_sha256`` of ``{kind, weights, config, tokenizer, settings}``.
- ``text_key``: SHA-256 of ``len(prompt) ␀ prompt ␀ response`` (UTF-8), so that no two
  different (prompt, response) pairs share a key.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from typing import Any

_MEMO: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 hex digest of a file's bytes (1 MiB blocks), memoised by (path, size, mtime)."""
    st = os.stat(path)
    key = (os.path.abspath(path), st.st_size, st.st_mtime_ns)
    if key in _MEMO:
        return _MEMO[key]
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    _MEMO[key] = digest.hexdigest()
    return _MEMO[key]


def files_sha256(directory: str | os.PathLike[str], names: Iterable[str]) -> str:
    """One SHA-256 over several files of ``directory``: hash of ``name␀sha256␀`` in name order."""
    digest = hashlib.sha256()
    for name in sorted(names):
        digest.update(f"{name}\0{file_sha256(os.path.join(directory, name))}\0".encode())
    return digest.hexdigest()


def json_sha256(obj: Any) -> str:
    """SHA-256 of ``obj`` as canonical JSON (sorted keys, compact separators)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprint(*, kind: str, weights: str, config: Any, tokenizer: str,
                settings: dict[str, Any]) -> str:
    """The scorer fingerprint: ``json_sha256({kind, weights, config, tokenizer, settings})``."""
    return json_sha256({"kind": kind, "weights": weights, "config": config,
                        "tokenizer": tokenizer, "settings": settings})


def text_key(prompt: str, response: str) -> str:
    """Cache key of one scored text: SHA-256 of ``len(prompt)␀prompt␀response`` in UTF-8."""
    data = f"{len(prompt)}\0{prompt}\0{response}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()
