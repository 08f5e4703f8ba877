"""faro_audit.metrics.groups.by_label: the {label: value} view shared by the per-group results."""

from __future__ import annotations

import numpy as np
import pytest

from faro_audit.metrics import brier_by_group, group_auc, group_means
from faro_audit.metrics.groups import by_label


def test_by_label_known_answer_and_python_types() -> None:
    out = by_label(np.array([2, 7]), np.array([0.25, np.nan]))
    assert list(out) == [2, 7] and type(next(iter(out))) is int
    assert out[2] == 0.25 and np.isnan(out[7]) and type(out[2]) is float
    assert by_label(np.array(["b", "a"], dtype=object), [1, 0]) == {"b": 1.0, "a": 0.0}
    with pytest.raises(ValueError):
        by_label(np.array(["a", "b"]), [1.0])


def test_group_results_use_the_same_label_view() -> None:
    g = np.array(["u", "v", "u", "v", "u", "v"])
    y = np.array([1, 0, 0, 1, 1, 0])
    s = np.array([0.9, 0.2, 0.4, 0.3, 0.8, 0.1])
    assert group_means(s, sensitive_features=g).as_dict() == pytest.approx({"u": 0.7, "v": 0.2})
    # u: positives 0.9, 0.8 beat the negative 0.4 -> 1; v: positive 0.3 beats 0.2 and 0.1 -> 1
    assert group_auc(y, s, sensitive_features=g).as_dict() == {"u": 1.0, "v": 1.0}
    cal = brier_by_group(np.array([1.0, -1.0, 2.0, 0.0, 1.0, 3.0]), sensitive_features=g)
    assert cal.by_group == {"u": float(cal.values[0]), "v": float(cal.values[1])}
