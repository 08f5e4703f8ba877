"""The audit result: one frozen object that the report, the CLI and ``report.json`` render from.

``AuditResult.to_dict()`` gives the schema-versioned JSON of SPEC §8; ``AuditResult.from_dict``
reads it back, so a report can be re-rendered from ``report.json`` alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from typing import Any

from faro_audit._version import __version__

SCHEMA_VERSION = "1.0"


def _clean(value: Any) -> Any:
    """JSON-safe copy: tuples to lists, NaN/inf to None, numpy scalars to Python."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _clean(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            value = value.tolist()
            return _clean(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class GroupEstimate:
    """One group's value of a metric, with its bootstrap interval."""

    n: int
    estimate: float | None
    ci: tuple[float | None, float | None]
    small: bool = False


@dataclass(frozen=True)
class MetricResult:
    """A metric on one attribute (SPEC §8 ``metrics`` entry).

    ``label`` is the label class for per-class pieces (EO), else ``None``; ``method`` is
    ``between_groups``, ``to_overall`` or the metric's own (``mean``, ``mean_spread``...).
    """

    name: str
    outcome: str | None
    attribute: str | None
    label: str | None
    method: str
    estimate: float | None
    ci: tuple[float | None, float | None]
    by_group: dict[str, GroupEstimate] = field(default_factory=dict)


@dataclass(frozen=True)
class CertificateResult:
    """A certified constraint (SPEC §8 ``certificates`` entry)."""

    metric: str
    outcome: str
    attribute: str
    method: str
    epsilon: float
    delta: float
    estimate: float | None
    lower: float | None
    upper: float | None
    verdict: str
    n_required: int | None
    bound: str
    reason: str = ""
    group_intervals: dict[str, tuple[float | None, float | None, float | None, int]] = field(
        default_factory=dict
    )
    #: "paired", "unpaired" or "twin-set spreads" (SPEC §5.4)
    design: str = "unpaired"
    #: how this constraint's share delta_j of delta was split
    allocation: str = ""
    #: why this design was used
    design_note: str = ""
    #: delta_j = delta / J, this constraint's share of delta
    delta_per_constraint: float | None = None
    #: paired design: contrast label -> (estimate, L, U, twin sets)
    contrast_intervals: dict[str, tuple[float | None, float | None, float | None, int]] = field(
        default_factory=dict
    )

    @property
    def label(self) -> str:
        """The constraint as the CLI spells it, e.g. ``dp_anchored:hard@gender=0.05``."""
        name = self.metric + ("_anchored" if self.method == "to_overall" else "")
        return f"{name}:{self.outcome}@{self.attribute}={self.epsilon:g}"


@dataclass(frozen=True)
class GroupTest:
    """Each-group-versus-rest test, Holm-adjusted across groups and metrics (SPEC §4)."""

    metric: str
    attribute: str
    group: str
    n: int
    mean_group: float | None
    mean_rest: float | None
    difference: float | None
    p_value: float | None
    p_adjusted: float | None
    reject: bool
    n_clusters: int | None = None
    statistic: float | None = None
    method: str = "welch"
    reason: str | None = None


@dataclass(frozen=True)
class GroupRow:
    """Per-group descriptive row (SPEC §3): raw rewards, outcomes, accuracy, calibration."""

    group: str
    n: int
    small: bool
    reward_mean: float | None
    reward_median: float | None
    reward_sd: float | None
    reward_gap: float | None
    reward_gap_sd: float | None
    soft: GroupEstimate | None
    hard: GroupEstimate | None
    accuracy: GroupEstimate | None
    ece: float | None
    truncated: int = 0


@dataclass(frozen=True)
class TwinSet:
    """One counterfactual twin set, for the report's worst-sets table."""

    cf_id: str
    spread: float
    rows: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class CounterfactualSummary:
    attribute: str | None
    gap: float | None
    ci: tuple[float | None, float | None]
    n_sets: int
    max_spread: float | None
    quantile_spread: float | None
    flip_rate: float | None
    mean_abs_reward_diff: float | None
    max_abs_reward_diff: float | None
    worst_sets: tuple[TwinSet, ...] = ()
    n_singletons_excluded: int = 0


@dataclass(frozen=True)
class PolicyBoundResult:
    """SPEC §6 bounds for the exact KL-regularised optimum, from a measured reward gap."""

    beta: float
    reward_gap: float
    reward_gap_source: str
    log_ratio: float
    kl: float
    tv: float
    statement: str


@dataclass(frozen=True)
class ReliabilityCurve:
    group: str
    confidence: tuple[float, ...]
    accuracy: tuple[float, ...]
    count: tuple[int, ...]


@dataclass(frozen=True)
class Histogram:
    group: str
    edges: tuple[float, ...]
    counts: tuple[int, ...]


@dataclass(frozen=True)
class AttributeSummary:
    """Everything the report shows for one attribute."""

    attribute: str
    n_rows: int
    groups: tuple[GroupRow, ...]
    reliability: tuple[ReliabilityCurve, ...] = ()
    reward_histograms: tuple[Histogram, ...] = ()
    tests: tuple[GroupTest, ...] = ()
    counterfactual: CounterfactualSummary | None = None


@dataclass(frozen=True)
class SlackCheckResult:
    constraint: str
    epsilon: float
    declared_slack: float
    upper: float | None
    holds: bool | None
    statement: str


@dataclass(frozen=True)
class AuditResult:
    """The whole audit. Serialises to ``report.json`` (SPEC §8)."""

    target: dict[str, Any]
    data: dict[str, Any]
    settings: dict[str, Any]
    metrics: tuple[MetricResult, ...]
    certificates: tuple[CertificateResult, ...]
    verdict: str
    attributes: tuple[AttributeSummary, ...] = ()
    overall: dict[str, Any] = field(default_factory=dict)
    policy_bounds: tuple[PolicyBoundResult, ...] = ()
    slack_checks: tuple[SlackCheckResult, ...] = ()
    scoring: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    extras: dict[str, Any] = field(default_factory=dict)
    schema_version: str = SCHEMA_VERSION
    faro_audit_version: str = __version__

    @property
    def exit_code(self) -> int:
        """SPEC §8: 0 certified, 1 violated, 3 inconclusive."""
        return {"certified": 0, "violated": 1, "inconclusive": 3}[self.verdict]

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of SPEC §8 (plus the report's aggregates)."""
        out = _clean(self)
        # Put the identifying keys first for readers of the raw file.
        head = ["schema_version", "faro_audit_version", "target", "data", "settings", "verdict"]
        return {**{k: out[k] for k in head}, **{k: v for k, v in out.items() if k not in head}}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> AuditResult:
        """Inverse of :meth:`to_dict` (for re-rendering a saved ``report.json``)."""
        return _build(cls, doc)


def _build(cls: type, doc: Any) -> Any:
    """Rebuild nested frozen dataclasses from a JSON document (by field annotations)."""
    import typing

    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in fields(cls):
        if f.name not in doc:
            continue
        kwargs[f.name] = _coerce(hints[f.name], doc[f.name])
    return cls(**kwargs)


def _coerce(tp: Any, value: Any) -> Any:
    import typing

    if value is None:
        return None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        non_none = [a for a in args if a is not type(None)]
        return _coerce(non_none[0], value) if len(non_none) == 1 else value
    if is_dataclass(tp):
        return _build(tp, value)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v) for v in value)
        return tuple(value)
    if origin is dict and len(args) == 2:
        return {k: _coerce(args[1], v) for k, v in value.items()}
    return value


def result_as_dict(obj: Any) -> dict[str, Any]:
    """JSON-safe dict of any result dataclass (used by sub-results such as comparisons)."""
    return _clean(asdict(obj)) if is_dataclass(obj) else _clean(obj)
