"""Simultaneous fairness certificates (SPEC §5).

Every group mean that enters any constraint gets one confidence interval at level
δ′ = δ / (number of distinct group means) (Bonferroni), so all intervals hold together with
probability ≥ 1 − δ. A gap is a function of the group means, bounded over the box of intervals
(interval arithmetic); on the event that all intervals cover, every certificate statement is
true, so a constraint whose true gap exceeds ε is certified with probability ≤ δ.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from faro_audit.errors import FaroError, FaroInputError, FaroUsageError
from faro_audit.stats.bounds import (
    Interval,
    _check_delta,
    _check_method,
    half_width,
    mean_interval,
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
_METHODS = {"dp": ("between_groups", "to_overall"), "eo": ("between_groups", "to_overall"), "cf": ("mean_spread",)}
_MAX_ROWS = 10**12  # n_required search stops here (None beyond)


@dataclass(frozen=True)
class Constraint:
    """A fairness constraint (SPEC §5): gap(metric, outcome, attribute, method) ≤ ε.

    Attributes
    ----------
    metric : {"dp", "eo", "cf"}
    outcome : {"soft", "hard"}
    attribute : str
    method : {"between_groups", "to_overall"} for dp/eo, "mean_spread" for cf
    epsilon : float in (0, 1]
    """

    metric: str
    outcome: str
    attribute: str
    method: str
    epsilon: float

    def __post_init__(self) -> None:
        if self.metric not in _METHODS:
            raise FaroUsageError(f"constraint metric {self.metric!r} is unknown; use dp, eo or cf")
        if self.outcome not in ("soft", "hard"):
            raise FaroUsageError(f"constraint outcome {self.outcome!r} is unknown; use soft or hard")
        if self.method not in _METHODS[self.metric]:
            raise FaroUsageError(
                f"constraint {self.metric}: method {self.method!r} does not apply; use {' or '.join(_METHODS[self.metric])}"
            )
        eps = float(self.epsilon)
        if not 0.0 < eps <= 1.0:
            raise FaroUsageError(
                f"constraint {self.metric}@{self.attribute}: tolerance {eps:g} is outside (0, 1]; gaps of outcomes lie in [0, 1]"
            )
        object.__setattr__(self, "epsilon", eps)


@dataclass(frozen=True, eq=False)
class MeanSample:
    """The data behind one group mean: cluster-level outcomes (clusters already averaged).

    Attributes
    ----------
    key : hashable
        Identity of the mean, e.g. ``("soft", "gender", "label=1", "female")``. Samples with the
        same key are the same mean: they get one interval, counted once by Bonferroni.
    group : str
        Group label shown in reports.
    values : ndarray of shape (n,)
        Cluster-level outcomes in [0, 1].
    sample_weight : ndarray of shape (n,) or None
        Cluster weights (e.g. summed row weights); None for equal weights.
    n_rows : int
        Rows behind the mean (used by the ``min_group_size`` rule and by ``n_required``).
    """

    key: Hashable
    group: str
    values: np.ndarray
    sample_weight: np.ndarray | None
    n_rows: int

    def __post_init__(self) -> None:
        try:
            hash(self.key)
        except TypeError:
            raise FaroUsageError(f"MeanSample key {self.key!r} is not hashable; use a tuple of strings") from None
        try:
            values = np.array(self.values, dtype=np.float64, copy=True)
        except (TypeError, ValueError):
            raise FaroInputError(f"MeanSample {self.key!r}: values are not numbers; pass outcomes in [0, 1]") from None
        values.setflags(write=False)
        object.__setattr__(self, "values", values)
        if self.sample_weight is not None:
            try:
                w = np.array(self.sample_weight, dtype=np.float64, copy=True)
            except (TypeError, ValueError):
                raise FaroInputError(f"MeanSample {self.key!r}: sample_weight is not numeric") from None
            w.setflags(write=False)
            object.__setattr__(self, "sample_weight", w)
        n_rows = int(self.n_rows)
        if n_rows < 0:
            raise FaroUsageError(f"MeanSample {self.key!r}: n_rows={n_rows} is negative")
        object.__setattr__(self, "n_rows", n_rows)
        object.__setattr__(self, "group", str(self.group))

    def same_data(self, other: MeanSample) -> bool:
        """True when ``other`` carries the same values, weights and row count."""
        if self.n_rows != other.n_rows or not np.array_equal(self.values, other.values):
            return False
        if (self.sample_weight is None) != (other.sample_weight is None):
            return False
        return self.sample_weight is None or np.array_equal(self.sample_weight, other.sample_weight)


@dataclass(frozen=True, eq=False)
class CertificateRequest:
    """One constraint and the group means it involves.

    Attributes
    ----------
    constraint : Constraint
    classes : tuple of tuples of MeanSample
        DP: one class holding every group; EO: one tuple per label class; CF: one class with a
        single MeanSample of twin-set spreads.
    shares : tuple of tuples of float, optional
        Per class, the group shares w_b (summing to 1) of the pooled mean used by the anchored
        gap (``to_overall``). When None, shares proportional to ``n_rows`` are used.
    class_labels : tuple of str, optional
        Names of the classes (e.g. ``("label=0", "label=1")``), used to label group intervals
        when there is more than one class; default ``class 1``, ``class 2``, ...
    """

    constraint: Constraint
    classes: tuple[tuple[MeanSample, ...], ...]
    shares: tuple[tuple[float, ...], ...] | None = None
    class_labels: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        c = self.constraint
        name = f"{c.metric}@{c.attribute}"
        classes = tuple(tuple(cls) for cls in self.classes)
        object.__setattr__(self, "classes", classes)
        if not classes or any(len(cls) == 0 for cls in classes):
            raise FaroInputError(f"constraint {name}: no group means to certify (an empty class); check the group column")
        if c.metric == "cf" and (len(classes) != 1 or len(classes[0]) != 1):
            raise FaroUsageError(f"constraint {name}: cf takes one class with one MeanSample of twin-set spreads")
        if c.metric == "dp" and len(classes) != 1:
            raise FaroUsageError(f"constraint {name}: dp takes one class holding every group, got {len(classes)}")
        if c.metric != "cf" and max(len(cls) for cls in classes) < 2:
            raise FaroInputError(
                f"constraint {name}: only one group ({classes[0][0].group!r}) has rows; a gap needs at least two groups"
            )
        for cls in classes:
            labels = [s.group for s in cls]
            if len(set(labels)) != len(labels):
                raise FaroUsageError(f"constraint {name}: group labels repeat within a class: {labels}")
        if self.shares is None:
            shares = []
            for cls in classes:
                rows = np.array([s.n_rows for s in cls], dtype=float)
                shares.append(tuple(rows / rows.sum()) if rows.sum() > 0 else tuple(np.full(len(cls), 1.0 / len(cls))))
            object.__setattr__(self, "shares", tuple(shares))
        else:
            shares = tuple(tuple(float(v) for v in sh) for sh in self.shares)
            if len(shares) != len(classes) or any(len(sh) != len(cls) for sh, cls in zip(shares, classes)):
                raise FaroUsageError(f"constraint {name}: shares must give one weight per group in each class")
            for sh in shares:
                if any(not math.isfinite(v) or v < 0 for v in sh) or abs(sum(sh) - 1.0) > 1e-6:
                    raise FaroUsageError(f"constraint {name}: group shares {sh} must be >= 0 and sum to 1")
            object.__setattr__(self, "shares", shares)
        if self.class_labels is not None:
            labels = tuple(str(v) for v in self.class_labels)
            if len(labels) != len(classes):
                raise FaroUsageError(f"constraint {name}: {len(labels)} class labels for {len(classes)} classes")
            object.__setattr__(self, "class_labels", labels)


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


def gap_bounds(
    lower: ArrayLike, upper: ArrayLike, *, method: str, shares: ArrayLike | None = None
) -> tuple[float, float]:
    """Bounds (LCB, UCB) on a gap over the box Π_a [L_a, U_a] of group means.

    Parameters
    ----------
    lower, upper : array-like of shape (K,)
        Group-mean interval endpoints.
    method : {"between_groups", "to_overall"}
    shares : array-like of shape (K,), optional
        Group shares w (sum 1) of the pooled mean; required for ``to_overall``.

    Returns
    -------
    (lcb, ucb) : tuple of float
        between_groups (Δ = max_a m_a − min_a m_a):
        UCB = max_a U_a − min_a L_a, LCB = max(0, max_a L_a − min_a U_a).
        to_overall (Δ = max_a |m_a − Σ_b w_b m_b|): m_a − m_pool = (1 − w_a) m_a − Σ_{b≠a} w_b m_b
        is linear, so over the box it ranges over [lo_a, hi_a] with
        hi_a = (1 − w_a) U_a − Σ_{b≠a} w_b L_b and lo_a = (1 − w_a) L_a − Σ_{b≠a} w_b U_b;
        |·| ranges over [0 if lo_a ≤ 0 ≤ hi_a else min(|lo_a|, |hi_a|), max(|lo_a|, |hi_a|)],
        and the max over a takes the max of both ends. Each is attained or exceeded on the box,
        so on the event that every group mean lies in its interval, LCB ≤ Δ ≤ UCB.
    """
    lo = np.asarray(lower, dtype=np.float64)
    hi = np.asarray(upper, dtype=np.float64)
    if lo.shape != hi.shape or lo.ndim != 1 or lo.size == 0:
        raise FaroUsageError("gap_bounds: lower and upper must be 1-D arrays of the same, positive length")
    if method == "between_groups":
        return max(0.0, float(lo.max() - hi.min())), float(hi.max() - lo.min())
    if method != "to_overall":
        raise FaroUsageError(f"gap method {method!r} is unknown; use between_groups or to_overall")
    if shares is None:
        raise FaroUsageError("gap_bounds: the anchored gap (to_overall) needs the group shares")
    w = np.asarray(shares, dtype=np.float64)
    if w.shape != lo.shape:
        raise FaroUsageError("gap_bounds: one share per group is needed")
    # Σ_{b≠a} w_b L_b = Σ_b w_b L_b − w_a L_a.
    wl = float(np.dot(w, lo))
    wu = float(np.dot(w, hi))
    top = (1.0 - w) * hi - (wl - w * lo)
    bottom = (1.0 - w) * lo - (wu - w * hi)
    abs_hi = np.maximum(np.abs(top), np.abs(bottom))
    abs_lo = np.where((bottom <= 0) & (top >= 0), 0.0, np.minimum(np.abs(top), np.abs(bottom)))
    return float(abs_lo.max()), float(abs_hi.max())


def _gap_estimate(means: np.ndarray, method: str, shares: np.ndarray) -> float:
    if method == "between_groups":
        return float(means.max() - means.min())
    return float(np.max(np.abs(means - np.dot(shares, means))))


def _request_box(
    request: CertificateRequest, boxes: dict[Hashable, tuple[float, float, float]]
) -> tuple[float, float, float]:
    """(estimate, LCB, UCB) of a request's gap given (estimate, L, U) per key."""
    c = request.constraint
    if c.metric == "cf":
        return boxes[request.classes[0][0].key]
    est, lcb, ucb = -np.inf, -np.inf, -np.inf
    assert request.shares is not None
    for cls, sh in zip(request.classes, request.shares):
        if len(cls) < 2:
            # One group in this class: its gap is 0 exactly (no comparison).
            est, lcb, ucb = max(est, 0.0), max(lcb, 0.0), max(ucb, 0.0)
            continue
        m = np.array([boxes[s.key][0] for s in cls])
        lo = np.array([boxes[s.key][1] for s in cls])
        hi = np.array([boxes[s.key][2] for s in cls])
        w = np.asarray(sh, dtype=np.float64)
        l_c, u_c = gap_bounds(lo, hi, method=c.method, shares=w)
        est = max(est, _gap_estimate(m, c.method, w))
        lcb, ucb = max(lcb, l_c), max(ucb, u_c)
    return float(est), float(lcb), float(ucb)


def _decide(lcb: float, ucb: float, epsilon: float) -> str:
    if ucb <= epsilon:
        return "certified"
    if lcb > epsilon:
        return "violated"
    return "inconclusive"


@dataclass(frozen=True)
class _Projection:
    """What ``n_required`` needs about one group mean: its box and how it shrinks with rows."""

    estimate: float
    below: float  # estimate − L
    above: float  # U − estimate
    n_rows: int
    rows_per_unit: float  # rows per effective cluster, n_rows / n_eff
    variance: float
    h_now: float  # half_width at the current n_eff (calibration of the extents)


def _projection(sample: MeanSample, interval: Interval, delta_i: float, bound: str) -> _Projection:
    x = sample.values
    var = float(np.var(x, ddof=1)) if x.size >= 2 else 0.25
    var = min(max(var, 0.0), 0.25)
    rows_per_unit = max(sample.n_rows, 1) / max(interval.n_eff, 1e-12)
    h_now = half_width(max(interval.n_eff, 1.0), delta=delta_i, method=bound, variance=var)
    return _Projection(
        estimate=interval.estimate,
        below=interval.estimate - interval.lower,
        above=interval.upper - interval.estimate,
        n_rows=sample.n_rows,
        rows_per_unit=rows_per_unit,
        variance=var,
        h_now=h_now,
    )


def _n_required(
    request: CertificateRequest,
    projections: dict[Hashable, _Projection],
    *,
    estimate: float,
    delta_i: float,
    bound: str,
    min_group_size: int,
) -> int | None:
    """Smallest N ≥ min_group_size such that, with max(n_rows_a, N) rows in every group, the
    projected box decides the constraint at the current estimates.

    Each group's interval extents (estimate − L, U − estimate) are scaled by
    half_width(n_eff(N)) / half_width(n_eff now), with n_eff(N) = rows / (rows per effective
    cluster now) and the current per-cluster variance, at the current δ′; so at the current
    sizes the projection reproduces the current box.
    """
    eps = request.constraint.epsilon
    if estimate == eps:
        return None
    target = "certified" if estimate < eps else "violated"
    keys = {s.key for cls in request.classes for s in cls}

    def decided(n: int) -> bool:
        boxes = {}
        for k in keys:
            p = projections[k]
            rows = max(p.n_rows, n)
            if rows == p.n_rows:
                scale = 1.0
            else:
                h = half_width(max(rows / p.rows_per_unit, 1.0), delta=delta_i, method=bound, variance=p.variance)
                scale = min(1.0, h / p.h_now)
            boxes[k] = (p.estimate, max(0.0, p.estimate - p.below * scale), min(1.0, p.estimate + p.above * scale))
        _, lcb, ucb = _request_box(request, boxes)
        return _decide(lcb, ucb, eps) == target

    lo = max(int(min_group_size), 1)
    if decided(lo):
        return lo
    hi = lo
    while not decided(hi):
        if hi > _MAX_ROWS:
            return None
        lo, hi = hi, hi * 2
    while hi - lo > 1:  # decided(hi), not decided(lo)
        mid = (lo + hi) // 2
        if decided(mid):
            hi = mid
        else:
            lo = mid
    return hi


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
