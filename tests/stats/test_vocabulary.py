"""faro_audit.vocabulary: one spelling of metrics, gap methods, bounds, verdicts and constraints."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace

import pytest

from faro_audit import vocabulary as v
from faro_audit.errors import FaroUsageError


def test_every_layer_shares_the_vocabulary_objects() -> None:
    from faro_audit.audit.constraints import (
        DEFAULT_SPECS,
        METRICS,
        OUTCOMES,
        ConstraintSpec,
    )
    from faro_audit.stats import (
        bootstrap,
        bootstrap_gaps,
        bounds,
        certificate_requests,
        certificates,
        planning,
    )

    assert certificate_requests.Constraint is v.Constraint and certificates.Constraint is v.Constraint
    assert issubclass(ConstraintSpec, v.Constraint)
    assert bootstrap_gaps.GAP_METHODS is v.GAP_METHODS and bootstrap.GAP_METHODS is v.GAP_METHODS
    assert bounds.BOUND_CHOICES is v.BOUND_CHOICES and bounds.METHODS is v.BOUND_METHODS
    assert v.BOUND_CHOICES == ("auto", "hoeffding", "bernstein", "betting", "clopper-pearson")
    assert certificates.VERDICTS is v.VERDICTS and certificates.EXIT_CODES is v.EXIT_CODES
    assert certificates.overall_verdict is v.overall_verdict
    assert METRICS is v.CLI_METRICS and DEFAULT_SPECS is v.DEFAULT_CONSTRAINTS and OUTCOMES is v.OUTCOMES
    assert planning._METHODS is v.METRIC_METHODS


def test_exit_codes() -> None:
    assert {k: v.exit_code(k) for k in v.VERDICTS} == {"certified": 0, "violated": 1, "inconclusive": 3}
    assert 2 not in v.EXIT_CODES.values()  # reserved for usage and input errors
    with pytest.raises(FaroUsageError, match="unknown verdict"):
        v.exit_code("maybe")


@pytest.mark.parametrize("text", ["dp=0.05", "dp_anchored:hard@gender=0.1", "eo@race=0.2", "eo_anchored:soft=1",
                                  "cf:hard@age=0.05"])
def test_parse_and_label_round_trip(text: str) -> None:
    c = v.Constraint.parse(text)
    assert v.Constraint.parse(c.label) == c
    assert c.label == v.constraint_label(c.metric, c.method, c.outcome, c.attribute, c.epsilon)
    assert c.name == c.label.rsplit("=", 1)[0]
    assert c.methods == v.METRIC_METHODS[c.metric] and c.method in c.methods


def test_parse_fields_and_defaults() -> None:
    c = v.Constraint.parse("  eo_anchored:hard@race=0.1 ")
    assert (c.metric, c.outcome, c.attribute, c.method, c.epsilon) == ("eo", "hard", "race", "to_overall", 0.1)
    assert c.label == "eo_anchored:hard@race=0.1" and c.metric_name == "eo_anchored"
    d = v.Constraint.parse("cf=0.05")
    assert (d.outcome, d.attribute, d.method) == ("soft", None, "mean_spread")
    assert d.label == "cf:soft=0.05"
    assert d.for_attribute("gender").label == "cf:soft@gender=0.05"
    with pytest.raises(FrozenInstanceError):
        d.epsilon = 0.1  # type: ignore[misc]


@pytest.mark.parametrize("text, pattern", [
    ("xx=0.1", "unknown metric 'xx'"), ("dp:medium=0.1", "unknown outcome"), ("dp=abc", "not a number"),
    ("dp=1.5", "outside"), ("dp", "not of the form"), ("dp=0", "outside"), ("dp=nan", "outside"),
])
def test_parse_errors(text: str, pattern: str) -> None:
    with pytest.raises(FaroUsageError, match=pattern):
        v.Constraint.parse(text)
    with pytest.raises(FaroUsageError, match="--retrain-gap"):
        v.Constraint.parse(text, option="--retrain-gap")


def test_constraint_checks_fields() -> None:
    with pytest.raises(FaroUsageError, match="does not apply"):
        v.Constraint("cf", "soft", None, "to_overall", 0.1)
    with pytest.raises(FaroUsageError, match="tolerance"):
        v.Constraint("dp", "soft", "g", "between_groups", "x")  # type: ignore[arg-type]
    c = v.Constraint("dp", "soft", "g", "between_groups", 1)  # type: ignore[arg-type]
    assert isinstance(c.epsilon, float)
    with pytest.raises(FaroUsageError, match="tolerance"):
        replace(c, epsilon=2.0)


def test_old_constraint_types_are_the_vocabulary_constraint() -> None:
    pytest.importorskip("torch")
    from faro_audit.audit.constraints import ConstraintSpec, parse_constraint
    from faro_audit.retrain.constraints import TrainingConstraint

    spec = parse_constraint("dp_anchored:hard@gender=0.05")
    tc = TrainingConstraint.from_spec(spec)
    assert isinstance(tc, v.Constraint) and isinstance(spec, v.Constraint)
    assert tc.text == tc.label == spec.label == "dp_anchored:hard@gender=0.05"
    assert replace(tc, epsilon=0.1).text == "dp_anchored:hard@gender=0.1"
    assert ConstraintSpec("dp", "to_overall", "hard", "gender", 0.05, "x").text == "x"


def test_overall_verdict() -> None:
    assert v.overall_verdict(["certified", "inconclusive", "violated"]) == "violated"
    assert v.overall_verdict(["certified", "inconclusive"]) == "inconclusive"
    assert v.overall_verdict(["certified"]) == "certified"
    with pytest.raises(FaroUsageError):
        v.overall_verdict([])
