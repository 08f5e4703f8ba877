"""Simultaneous fairness certificates (SPEC §5).

Every group mean that enters any constraint gets one confidence interval at level
δ′ = δ / (number of distinct group means) (Bonferroni), so all intervals hold together with
probability ≥ 1 − δ. A gap is a function of the group means, bounded over the box of intervals
(interval arithmetic); on the event that all intervals cover, every certificate statement is
true, so a constraint whose true gap exceeds ε is certified with probability ≤ δ.

This module holds the entry point :func:`certify`, its results (:class:`Certificate`,
:class:`CertificateSet`), the overall verdict and Faro's slack check. The inputs
(:class:`Constraint`, :class:`MeanSample`, :class:`CertificateRequest`) live in
:mod:`faro_audit.stats.certificate_requests`, the interval arithmetic (:func:`gap_bounds`) and
the ``n_required`` search in :mod:`faro_audit.stats.gaps`; both are re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

from faro_audit.errors import FaroError, FaroUsageError
from faro_audit.stats.bounds import Interval, _check_delta, _check_method, mean_interval
from faro_audit.stats.certificate_requests import (
    CertificateRequest,
    Constraint,
    MeanSample,
)
from faro_audit.stats.gaps import (
    _decide,
    _n_required,
    _Projection,
    _projection,
    _request_box,
    gap_bounds,
)

__all__ = [
    "EXIT_CODES",
    "VERDICTS",
    "Certificate",
    "CertificateRequest",
    "CertificateSet",
    "Constraint",
    "MeanSample",
    "SlackCheck",
    "certify",
    "gap_bounds",
    "overall_verdict",
    "slack_check",
]

VERDICTS: tuple[str, ...] = ("certified", "violated", "inconclusive")
EXIT_CODES: dict[str, int] = {"certified": 0, "violated": 1, "inconclusive": 3}


@dataclass(frozen=True)
class Certificate:
    """The verdict on one constraint (SPEC §5.4, §8 ``certificates`` entry).

    Attributes
    ----------
    metric, outcome, attribute, method, epsilon
        The constraint.
    delta : float
        Joint miscoverage of the whole certificate set.
    delta_per_interval : float
        δ′ = δ / n_intervals, the level of each group-mean interval.
    bound : str
        The bound used for the group means.
    estimate, lower, upper : float
        Point estimate of the gap, and its simultaneous LCB and UCB.
    verdict : {"certified", "violated", "inconclusive"}
    n_required : int or None
        For ``inconclusive``: rows per group that would decide the constraint at the current
        estimate (None when the estimate equals ε, or beyond 10¹² rows). None for decided
        verdicts.
    reason : str
        One line explaining the verdict.
    group_intervals : dict
        group label → (estimate, L, U, n_rows) of each group mean involved.
    """

    metric: str
    outcome: str
    attribute: str
    method: str
    epsilon: float
    delta: float
    delta_per_interval: float
    bound: str
    estimate: float
    lower: float
    upper: float
    verdict: str
    n_required: int | None
    reason: str
    group_intervals: dict[str, tuple[float, float, float, int]] = field(default_factory=dict)

    @property
    def constraint(self) -> Constraint:
        """The constraint this certificate is about."""
        return Constraint(self.metric, self.outcome, self.attribute, self.method, self.epsilon)


@dataclass(frozen=True)
class CertificateSet:
    """All certificates of one run; jointly valid with probability ≥ 1 − ``delta``."""

    certificates: tuple[Certificate, ...]
    verdict: str
    n_intervals: int
    delta: float

    @property
    def exit_code(self) -> int:
        """SPEC §8: 0 certified, 1 violated, 3 inconclusive."""
        return EXIT_CODES[self.verdict]


@dataclass(frozen=True)
class SlackCheck:
    """Faro's slack claim checked on held-out data (SPEC §5.5): holds iff UCB ≤ ε + s."""

    holds: bool
    upper: float
    epsilon: float
    declared_slack: float
    threshold: float
    margin: float
    statement: str


def overall_verdict(verdicts: Iterable[str]) -> str:
    """``violated`` if any is, else ``inconclusive`` if any is, else ``certified`` (SPEC §5.4)."""
    vs = list(verdicts)
    if not vs:
        raise FaroUsageError("no constraints to decide: an empty certificate set certifies nothing")
    bad = [v for v in vs if v not in VERDICTS]
    if bad:
        raise FaroUsageError(f"unknown verdict {bad[0]!r}; expected one of {', '.join(VERDICTS)}")
    if "violated" in vs:
        return "violated"
    if "inconclusive" in vs:
        return "inconclusive"
    return "certified"


def certify(
    requests: Sequence[CertificateRequest],
    *,
    delta: float = 0.05,
    bound: str = "betting",
    min_group_size: int = 30,
    random_state: int = 0,
) -> CertificateSet:
    """Simultaneous certificates for a set of constraints (SPEC §5).

    Parameters
    ----------
    requests : sequence of CertificateRequest
        The constraints and their group means.
    delta : float
        Joint miscoverage: all statements hold together with probability ≥ 1 − δ.
    bound : {"betting", "bernstein", "hoeffding", "clopper-pearson"}
        Interval for each group mean (:func:`faro_audit.stats.bounds.mean_interval`).
    min_group_size : int
        A constraint involving a group with fewer rows can never be ``certified``
        (it becomes ``inconclusive``), but can still be ``violated``.
    random_state : int
        Seed of the betting bound's permutation.

    Returns
    -------
    CertificateSet

    Notes
    -----
    1. Every distinct ``MeanSample.key`` gets one interval at δ′ = δ / K, K the number of
       distinct keys (Bonferroni): P(all K intervals cover) ≥ 1 − δ.
    2. Gap bounds by interval arithmetic over the box (:func:`gap_bounds`); EO takes the max
       over classes of both LCB and UCB; CF uses the interval of the mean spread.
    3. Verdict: ``certified`` if UCB ≤ ε, ``violated`` if LCB > ε, else ``inconclusive``.
       On the joint coverage event, a certified constraint truly holds and a violated one is
       truly violated.
    """
    d = _check_delta(delta)
    _check_method(bound)
    try:
        mgs = int(min_group_size)
    except (TypeError, ValueError):
        raise FaroUsageError(f"min_group_size={min_group_size!r} is not an integer") from None
    if mgs < 1 or mgs != min_group_size:
        raise FaroUsageError(f"min_group_size={min_group_size!r}: give a positive integer, e.g. 30")
    reqs = list(requests)
    if not reqs:
        raise FaroUsageError("no constraints to certify; give at least one --max-gap constraint")
    registry: dict[Hashable, MeanSample] = {}
    for req in reqs:
        if not isinstance(req, CertificateRequest):
            raise FaroUsageError(f"certify expects CertificateRequest objects, got {type(req).__name__}")
        for cls in req.classes:
            for s in cls:
                seen = registry.get(s.key)
                if seen is None:
                    registry[s.key] = s
                elif seen is not s and not seen.same_data(s):
                    raise FaroUsageError(
                        f"group mean {s.key!r} is given twice with different data; keys must identify one mean"
                    )
    n_intervals = len(registry)
    delta_i = d / n_intervals
    intervals: dict[Hashable, Interval] = {}
    for key, s in registry.items():
        try:
            intervals[key] = mean_interval(
                s.values, delta=delta_i, method=bound, sample_weight=s.sample_weight, random_state=random_state
            )
        except FaroError as err:
            raise type(err)(f"group mean {key!r} (group {s.group!r}): {err}") from None
    boxes = {k: (iv.estimate, iv.lower, iv.upper) for k, iv in intervals.items()}

    certs = []
    projections: dict[Hashable, _Projection] = {}
    for req in reqs:
        c = req.constraint
        est, lcb, ucb = _request_box(req, boxes)
        verdict = _decide(lcb, ucb, c.epsilon)
        samples = [s for cls in req.classes for s in cls]
        small = [s for s in samples if s.n_rows < mgs]
        if verdict == "certified":
            reason = f"UCB {ucb:.4g} <= epsilon {c.epsilon:g} (joint level {1 - d:g})"
        elif verdict == "violated":
            reason = f"LCB {lcb:.4g} > epsilon {c.epsilon:g} (joint level {1 - d:g})"
        else:
            reason = f"[{lcb:.4g}, {ucb:.4g}] contains epsilon {c.epsilon:g}"
        if small:
            s0 = small[0]
            note = (
                f"group {s0.group!r} has {s0.n_rows} rows < min_group_size {mgs}"
                + (f" (and {len(small) - 1} more)" if len(small) > 1 else "")
            )
            if verdict == "certified":
                verdict = "inconclusive"
                reason = f"{note}: a constraint involving it cannot be certified (UCB {ucb:.4g} <= epsilon {c.epsilon:g})"
            else:
                reason = f"{reason}; {note}"
        n_required = None
        if verdict == "inconclusive":
            for s in samples:
                if s.key not in projections:
                    projections[s.key] = _projection(s, intervals[s.key], delta_i, bound)
            n_required = _n_required(
                req, projections, estimate=est, delta_i=delta_i, bound=bound, min_group_size=mgs
            )
            if n_required is None:
                reason += "; no sample size decides it at the current estimate"
            else:
                reason += f"; about {n_required} rows per group would decide it at the current estimate"
        multi = len(req.classes) > 1
        labels = req.class_labels or tuple(f"class {i + 1}" for i in range(len(req.classes)))
        group_intervals: dict[str, tuple[float, float, float, int]] = {}
        for label, cls in zip(labels, req.classes):
            for s in cls:
                iv = intervals[s.key]
                name = f"{label}: {s.group}" if multi else s.group
                group_intervals[name] = (iv.estimate, iv.lower, iv.upper, s.n_rows)
        certs.append(
            Certificate(
                metric=c.metric,
                outcome=c.outcome,
                attribute=c.attribute,
                method=c.method,
                epsilon=c.epsilon,
                delta=d,
                delta_per_interval=delta_i,
                bound=bound,
                estimate=est,
                lower=lcb,
                upper=ucb,
                verdict=verdict,
                n_required=n_required,
                reason=reason,
                group_intervals=group_intervals,
            )
        )
    return CertificateSet(
        certificates=tuple(certs),
        verdict=overall_verdict(ct.verdict for ct in certs),
        n_intervals=n_intervals,
        delta=d,
    )


def slack_check(certificate: Certificate, *, epsilon: float, declared_slack: float) -> SlackCheck:
    """Check Faro's declared slack on held-out audit data (SPEC §5.5).

    The claim "gap ≤ ε + s" holds (at the certificate's joint level 1 − δ) iff
    UCB ≤ ε + s, UCB being ``certificate.upper``.

    Parameters
    ----------
    certificate : Certificate
        Certificate of the constraint on held-out audit data.
    epsilon : float
        Training tolerance ε from the model's manifest.
    declared_slack : float
        Declared slack s ≥ 0 from the manifest.
    """
    eps = float(epsilon)
    s = float(declared_slack)
    if not 0.0 < eps <= 1.0:
        raise FaroUsageError(f"epsilon={eps:g}: the training tolerance must lie in (0, 1]")
    if not (math.isfinite(s) and s >= 0.0):
        raise FaroUsageError(f"declared_slack={s!r}: the declared slack must be a finite number >= 0")
    threshold = eps + s
    upper = float(certificate.upper)
    holds = upper <= threshold
    statement = (
        f"{certificate.metric}:{certificate.outcome}@{certificate.attribute}: UCB {upper:.4g} "
        f"{'<=' if holds else '>'} epsilon {eps:g} + slack {s:.4g} = {threshold:.4g}; the Faro claim "
        f"{'holds' if holds else 'is not confirmed'} at joint level {1 - certificate.delta:g}"
    )
    return SlackCheck(
        holds=bool(holds),
        upper=upper,
        epsilon=eps,
        declared_slack=s,
        threshold=threshold,
        margin=threshold - upper,
        statement=statement,
    )
