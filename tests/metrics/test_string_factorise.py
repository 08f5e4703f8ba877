"""The fast string path of encode_groups equals np.unique(return_inverse=True) exactly."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from faro_audit.metrics.groups import _factorise_strings


def _check(arr: np.ndarray) -> None:
    ref_l, ref_c = np.unique(arr, return_inverse=True)
    enc = _factorise_strings(arr)
    assert enc.labels.dtype == ref_l.dtype
    assert enc.labels.tobytes() == ref_l.tobytes()
    assert enc.codes.dtype == np.intp and np.array_equal(enc.codes, ref_c.reshape(-1))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=4), min_size=1, max_size=30), st.booleans())
def test_unicode_labels(xs, big_endian):
    arr = np.array(xs, dtype=str)
    if big_endian:
        arr = arr.astype(arr.dtype.newbyteorder(">"))
    _check(arr)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=4), min_size=1, max_size=30))
def test_byte_labels(xs):
    _check(np.array(xs, dtype="S"))


def test_edge_characters():
    _check(np.array(["\ud800", "a", "\U0010ffff", "\uffff", ""]))
    _check(np.array([b"\xff", b"a", b"\x80", b"\x00a", b"a\x00b"]))
