"""MeanSample field checks: values and sample_weight become read-only float64 copies."""

from __future__ import annotations

import numpy as np
import pytest

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.stats.certificate_requests import MeanSample


def test_mean_sample_freezes_copies_of_values_and_weights() -> None:
    vals, w = [0, 1, 0.5], np.array([1.0, 2.0, 3.0])
    s = MeanSample(key=("soft", "g", None, "a"), group=7, values=vals, sample_weight=w, n_rows=3.0)
    for arr, src in ((s.values, vals), (s.sample_weight, w)):
        assert arr.dtype == np.float64 and not arr.flags.writeable
        np.testing.assert_array_equal(arr, src)
    assert s.sample_weight is not w  # a copy: the caller's array stays writeable and unshared
    w[0] = 9.0
    assert s.sample_weight[0] == 1.0
    assert s.group == "7" and s.n_rows == 3
    assert MeanSample("k", "a", [0.1], None, 1).sample_weight is None


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"values": ["x", "y"]}, FaroInputError, r"MeanSample 'k': values are not numbers; pass"),
        ({"sample_weight": ["x", 1]}, FaroInputError, r"MeanSample 'k': sample_weight is not numeric"),
        ({"n_rows": -1}, FaroUsageError, r"n_rows=-1 is negative"),
        ({"key": ["unhashable"]}, FaroUsageError, r"is not hashable"),
    ],
)
def test_mean_sample_rejects_bad_fields(kwargs, error, message) -> None:
    fields = {"key": "k", "group": "a", "values": [0.1, 0.2], "sample_weight": None, "n_rows": 2}
    with pytest.raises(error, match=message):
        MeanSample(**{**fields, **kwargs})
