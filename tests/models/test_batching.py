"""Length-sorted batching, padding, and the lazy package import."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from faro_audit.models.batching import fixed_batches, length_sorted_batches, pad_right, unused_id


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 50), max_size=40), st.integers(1, 9))
def test_length_sorted_batches_partition(lengths: list[int], batch_size: int) -> None:
    batches = length_sorted_batches(lengths, batch_size)
    flat = np.concatenate(batches) if batches else np.array([], dtype=int)
    assert sorted(flat.tolist()) == list(range(len(lengths)))
    assert all(len(b) <= batch_size for b in batches)
    assert all(len(b) == batch_size for b in batches[:-1])
    order = [lengths[i] for i in flat]
    assert order == sorted(lengths, reverse=True)
    assert [b.tolist() for b in fixed_batches(len(lengths), batch_size)] == \
        [list(range(i, min(len(lengths), i + batch_size))) for i in range(0, len(lengths), batch_size)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 20), min_size=1, max_size=8), min_size=1, max_size=6))
def test_pad_right_keeps_tokens(seqs: list[list[int]]) -> None:
    values, mask = pad_right(seqs, -1)
    for row, m, s in zip(values, mask, seqs):
        assert row[:len(s)].tolist() == s and m.sum() == len(s)
        assert (row[len(s):] == -1).all() and (m[len(s):] == 0).all()
    free = unused_id(seqs, 22)
    used = {t for s in seqs for t in s}
    assert (free is None) == (used >= set(range(22)))
    if free is not None:
        assert free not in used and all(t in used for t in range(free))


def test_import_is_lazy() -> None:
    code = ("import sys, faro_audit.models as m; assert callable(m.is_model_dir); "
            "import faro_audit.models.scoring, faro_audit.models.resolve; "
            "bad = [k for k in ('torch', 'transformers') if k in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
