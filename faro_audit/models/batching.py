"""Length-sorted batching and right padding (numpy only).

Sorting texts by token length before batching means each batch pads to a length close to its
own texts' lengths, so little compute is spent on padding; batches go longest first, so an
out-of-memory error shows up in the first batch rather than at the end. Callers put each
batch's scores back at the batch's ``indices``, which returns them in input order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Split ``range(len(lengths))`` into batches of texts of similar length, longest first.

    The sort is stable (ties keep input order), so the batching is deterministic.

    Examples
    --------
    >>> [b.tolist() for b in length_sorted_batches([3, 9, 1, 7], 2)]
    [[1, 3], [0, 2]]
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def fixed_batches(n: int, batch_size: int) -> list[np.ndarray]:
    """Consecutive batches in input order (no sorting)."""
    return [np.arange(i, min(n, i + batch_size)) for i in range(0, n, batch_size)]


def pad_right(seqs: Sequence[Sequence[int]], pad_value: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad integer sequences to the longest one.

    Returns
    -------
    values, mask
        ``int64`` arrays of shape ``(len(seqs), max_len)``; ``mask`` is 1 on real tokens.

    Examples
    --------
    >>> v, m = pad_right([[5, 6, 7], [8]], 0)
    >>> v.tolist(), m.tolist()
    ([[5, 6, 7], [8, 0, 0]], [[1, 1, 1], [1, 0, 0]])
    """
    width = max((len(s) for s in seqs), default=0)
    values = np.full((len(seqs), width), pad_value, dtype=np.int64)
    mask = np.zeros((len(seqs), width), dtype=np.int64)
    for i, s in enumerate(seqs):
        values[i, :len(s)] = s
        mask[i, :len(s)] = 1
    return values, mask


def unused_id(seqs: Sequence[Sequence[int]], vocab_size: int) -> int | None:
    """The smallest token id in ``[0, vocab_size)`` that no sequence uses, or ``None``."""
    seen = np.zeros(max(vocab_size, 1), dtype=bool)
    for s in seqs:
        arr = np.asarray(s, dtype=np.int64)
        seen[arr[(arr >= 0) & (arr < vocab_size)]] = True
    free = np.flatnonzero(~seen)
    return int(free[0]) if free.size else None
