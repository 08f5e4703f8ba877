"""Metric specs: the one place a descriptive metric is declared (issue 11, item 1).

A :class:`MetricSpec` names a metric, the outcome columns it reads **by name** (keys of
:attr:`AuditArrays.outcomes <faro_audit.audit.arrays.AuditArrays.outcomes>`: ``soft``,
``hard``, ``agree_soft``, ``agree_hard``), the table shapes it applies to, its methods, a pure
function (outcome + group codes → estimate and per-group values) and whether it gets a
bootstrap interval. :func:`faro_audit.audit.attribute.analyse_attribute` runs every spec in
:data:`METRIC_SPECS` (registration order) on every attribute and adds one keyword-built
:class:`~faro_audit.audit.result.MetricResult` per (outcome, method) to the attribute's
metrics, so a registered spec appears in ``report.json`` and the HTML with no other edit.

Intervals (``interval``):

``"gap"``
    The metric is the ``method`` gap of the group means of its column
    (:func:`gap_of_means`). Estimate and interval come from the attribute's shared clustered
    bootstrap (:func:`faro_audit.audit.uncertainty.gap_interval`, simultaneous max-t); group
    values and their percentile intervals from the same bootstrap. ``fn`` is the definition of
    the point estimate (the engine's estimate equals it; tested).
``"pooled"``
    Estimate from ``fn``; the interval is the percentile interval of the pooled mean of the
    column in the shared bootstrap; group values from that bootstrap.
``"none"``
    Estimate and group values from ``fn``; no interval.

Registered here (moved from ``audit/attribute.py``): ``dp_gap`` (both shapes), ``eo_gap``
and ``pairwise_accuracy`` for pairs. Left on their own code paths in ``audit/attribute.py``
because they are not a function of one named outcome column: calibration (``ece``,
``ece_gap``, reliability curves), ``eo_gap`` for response tables (one bootstrap per label
class), ``pairwise_accuracy`` and ``auc`` for response tables (pairs built from labels), and
the counterfactual metrics (``cf_gap``, ``cf_flip_rate``; twin sets, not groups).

Certification is **not** driven by specs yet: ``constraint`` only records which certifiable
constraint (``dp``, ``eo``) a metric is the descriptive twin of; certificates still go
through ``audit/constraints.py`` and ``audit/certify.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from faro_audit.metrics.groups import GroupCodes
from faro_audit.metrics.ordinal import pairwise_accuracy
from faro_audit.metrics.parity import gap_from_means, group_means

SHAPES = ("pairs", "responses")
INTERVALS = ("none", "gap", "pooled")
#: outcome columns every table has, and those only pairs have
COLUMNS = ("soft", "hard")
PAIR_COLUMNS = ("agree_soft", "agree_hard")

__all__ = ["METRIC_SPECS", "MetricInput", "MetricSpec", "MetricValue", "gap_of_means",
           "register_metric", "unregister_metric"]


@dataclass(frozen=True, eq=False)
class MetricInput:
    """What a spec's function sees: one attribute's rows.

    Attributes
    ----------
    y : numpy.ndarray (n,)
        The spec's outcome column on the attribute's rows.
    groups : GroupCodes
        Group code of each row and the group labels.
    weight : numpy.ndarray (n,)
        Sample weights (ones when the table has no ``weight`` column).
    weighted : bool
        Whether the table has a ``weight`` column.
    margin : numpy.ndarray (n,)
        The margin d (pairs: r(chosen) − r(rejected); responses: r − b).
    method : str
        The method this result is for (one of the spec's ``methods``).
    """

    y: np.ndarray
    groups: GroupCodes
    weight: np.ndarray
    weighted: bool
    margin: np.ndarray
    method: str

    @property
    def sample_weight(self) -> np.ndarray | None:
        """The weights, or ``None`` for an unweighted table (what the pure layer takes)."""
        return self.weight if self.weighted else None


@dataclass(frozen=True)
class MetricValue:
    """A spec function's answer: the estimate and, optionally, one value per group code."""

    estimate: float | None
    by_group: tuple[float | None, ...] | None = None


MetricFn = Callable[[MetricInput], MetricValue]


@dataclass(frozen=True)
class MetricSpec:
    """One descriptive metric, computed per attribute by the audit engine.

    Parameters
    ----------
    name : str
        The ``metrics[].name`` key in ``report.json`` (unique in the registry).
    fn : callable
        Pure function ``MetricInput -> MetricValue``.
    outcomes : tuple of (str, str)
        ``(reported outcome, outcome column)`` pairs; one result per pair and method. The
        column is a key of ``AuditArrays.outcomes`` (aliases allowed).
    methods : tuple of str
        ``metrics[].method``; for ``interval="gap"`` a gap method (``between_groups``,
        ``to_overall``).
    shapes : tuple of str
        Table shapes the metric applies to (``pairs``, ``responses``).
    interval : {"none", "gap", "pooled"}
        Which bootstrap interval the result gets (see the module docstring).
    label : str, optional
        ``metrics[].label`` (e.g. the conditioning class); ``None`` for most.
    constraint : str, optional
        The certifiable constraint metric this is the descriptive twin of (``dp``, ``eo``);
        informational: certificates do not read specs yet.
    """

    name: str
    fn: MetricFn
    outcomes: tuple[tuple[str, str], ...] = (("soft", "soft"),)
    methods: tuple[str, ...] = ("value",)
    shapes: tuple[str, ...] = SHAPES
    interval: str = "none"
    label: str | None = None
    constraint: str | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").isalnum():
            raise ValueError(f"metric spec name {self.name!r}: use letters, digits and '_'")
        if not callable(self.fn):
            raise TypeError(f"metric spec {self.name!r}: fn must be callable")
        if not self.outcomes or not self.methods:
            raise ValueError(f"metric spec {self.name!r}: needs at least one outcome and one method")
        bad = [s for s in self.shapes if s not in SHAPES]
        if bad or not self.shapes:
            raise ValueError(f"metric spec {self.name!r}: shapes must be among {SHAPES}, got {self.shapes}")
        if self.interval not in INTERVALS:
            raise ValueError(f"metric spec {self.name!r}: interval must be one of {INTERVALS}")
        for _, col in self.outcomes:
            if col in PAIR_COLUMNS and self.shapes != ("pairs",):
                raise ValueError(f"metric spec {self.name!r}: column {col!r} exists only for pairs; "
                                 "set shapes=('pairs',)")
            if col not in COLUMNS + PAIR_COLUMNS:
                raise ValueError(f"metric spec {self.name!r}: unknown outcome column {col!r}; "
                                 f"known: {', '.join(COLUMNS + PAIR_COLUMNS)}")
        if self.interval == "gap" and not set(self.methods) <= {"between_groups", "to_overall"}:
            raise ValueError(f"metric spec {self.name!r}: interval 'gap' needs gap methods")


#: name → spec, in the order the engine runs them (and ``report.json`` lists them)
METRIC_SPECS: dict[str, MetricSpec] = {}


def register_metric(spec: MetricSpec) -> MetricSpec:
    """Add a spec to :data:`METRIC_SPECS`.

    Parameters
    ----------
    spec : MetricSpec

    Returns
    -------
    MetricSpec
        The spec (so this can be used inline).

    Raises
    ------
    ValueError
        If a spec of that name is registered already.
    """
    if spec.name in METRIC_SPECS:
        raise ValueError(f"metric {spec.name!r} is already registered; unregister_metric({spec.name!r}) first")
    METRIC_SPECS[spec.name] = spec
    return spec


def unregister_metric(name: str) -> MetricSpec:
    """Remove a spec from :data:`METRIC_SPECS` and return it (``KeyError`` if unknown)."""
    try:
        return METRIC_SPECS.pop(name)
    except KeyError:
        raise KeyError(f"metric {name!r} is not registered; known: {', '.join(METRIC_SPECS)}") from None


def _values(v: np.ndarray) -> tuple[float | None, ...]:
    return tuple(float(x) if np.isfinite(x) else None for x in np.asarray(v, dtype=float))


def gap_of_means(x: MetricInput) -> MetricValue:
    """``x.method`` gap of the weighted group means of ``x.y`` (DP gap; EO gap for pairs)."""
    stats = group_means(x.y, sensitive_features=x.groups, sample_weight=x.weight)
    wsum = np.bincount(x.groups.codes, weights=x.weight, minlength=x.groups.n_groups)
    gap = gap_from_means(stats.mean, weight_sum=wsum, method=x.method)  # type: ignore[arg-type]
    return MetricValue(float(gap), _values(stats.mean))


def _pairwise_accuracy(x: MetricInput) -> MetricValue:
    acc = pairwise_accuracy(x.margin, sensitive_features=x.groups, sample_weight=x.sample_weight)
    by = None if acc.by_group is None else _values(acc.by_group.mean)
    return MetricValue(float(acc.accuracy), by)


GAP_METHODS = ("between_groups", "to_overall")

for _spec in (
    MetricSpec("dp_gap", gap_of_means, outcomes=(("soft", "soft"), ("hard", "hard")),
               methods=GAP_METHODS, interval="gap", constraint="dp"),
    # EO for pairs is accuracy parity: the class is "the human prefers chosen".
    MetricSpec("eo_gap", gap_of_means, outcomes=(("soft", "agree_soft"), ("hard", "agree_hard")),
               methods=GAP_METHODS, shapes=("pairs",), interval="gap", label="human prefers chosen",
               constraint="eo"),
    MetricSpec("pairwise_accuracy", _pairwise_accuracy, outcomes=(("hard", "agree_hard"),),
               methods=("mean",), shapes=("pairs",), interval="pooled"),
):
    register_metric(_spec)
del _spec
