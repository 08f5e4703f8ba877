from __future__ import annotations

import pytest

from faro_audit.audit.constraints import expand_constraints, parse_constraint
from faro_audit.errors import FaroUsageError


def test_parse_full_and_defaults():
    c = parse_constraint("eo_anchored:hard@race=0.1")
    assert (c.metric, c.method, c.outcome, c.attribute, c.epsilon) == ("eo", "to_overall", "hard", "race", 0.1)
    c = parse_constraint("dp=0.05")
    assert (c.metric, c.method, c.outcome, c.attribute) == ("dp", "between_groups", "soft", None)


@pytest.mark.parametrize("text, pattern", [
    ("xx=0.1", "unknown metric 'xx'"), ("dp:medium=0.1", "unknown outcome"), ("dp=abc", "not a number"),
    ("dp=1.5", "outside"), ("dp", "not of the form"), ("dp=0", "outside"),
])
def test_parse_errors(text, pattern):
    with pytest.raises(FaroUsageError, match=pattern):
        parse_constraint(text)


def test_expand_over_attributes_and_skip_unmeasurable_defaults():
    specs = expand_constraints(["dp=0.05", "cf=0.05", "eo=0.05"], attributes=["g", "r"], has_twins=False,
                               has_labels=True, explicit=False)
    assert [(s.metric, s.attribute) for s in specs] == [("dp", "g"), ("dp", "r"), ("eo", "g"), ("eo", "r")]
    with pytest.raises(FaroUsageError, match="cf_id"):
        expand_constraints(["cf=0.05"], attributes=["g"], has_twins=False, has_labels=True, explicit=True)
    with pytest.raises(FaroUsageError, match="not a group column"):
        expand_constraints(["dp@zz=0.05"], attributes=["g"], has_twins=False, has_labels=True, explicit=True)
