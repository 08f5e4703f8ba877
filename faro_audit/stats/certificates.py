"""Simultaneous fairness certificates (SPEC §5).

δ is split over the requested constraints only (δ_j = δ / J), half of δ_j for each side of a
constraint's interval, and inside a side only the events that can make it wrong are paid for
(:mod:`faro_audit.stats.allocation`). Unpaired data use the box of group-mean intervals;
twin sets that hold every group once use paired contrasts (SPEC §5.4). All printed intervals
hold together with probability ≥ 1 − δ, so a constraint whose true gap exceeds ε is certified
with probability ≤ δ.

This module holds the entry point :func:`certify` and its results (:class:`Certificate`,
:class:`CertificateSet`). The verdicts, their exit codes and the overall verdict are the
vocabulary's (:mod:`faro_audit.vocabulary`, re-exported here); Faro's slack check (SPEC §5.5)
is the audit's (:mod:`faro_audit.audit.run`), on the audit's certificates. The inputs
(:class:`Constraint`, :class:`MeanSample`, :class:`CertificateRequest`) live in
:mod:`faro_audit.stats.certificate_requests`, the interval arithmetic (:func:`gap_bounds`) and
the ``n_required`` search in :mod:`faro_audit.stats.gaps`; both are re-exported here.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from faro_audit.errors import FaroError, FaroUsageError
from faro_audit.stats.allocation import IntervalCache, allocation_text, bound_request
from faro_audit.stats.certificate_requests import (
    CertificateRequest,
    Constraint,
    ContrastSample,
    MeanSample,
)
from faro_audit.stats.checks import check_delta
from faro_audit.stats.gaps import decide, gap_bounds, rows_needed
from faro_audit.vocabulary import BOUND_CHOICES, EXIT_CODES, VERDICTS, overall_verdict

__all__ = [
    "EXIT_CODES",
    "VERDICTS",
    "Certificate",
    "CertificateRequest",
    "CertificateSet",
    "Constraint",
    "ContrastSample",
    "MeanSample",
    "certify",
    "gap_bounds",
    "overall_verdict",
]


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
        δ_j = δ / J, this constraint's share of δ (J requested constraints); half of it bounds
        each side (``allocation`` says how it is split further).
    bound : str
        The bound(s) used, after ``auto`` was resolved (e.g. ``clopper-pearson`` or
        ``betting``; ``+``-joined when several).
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
        group label → (estimate, L, U, n_rows) of each group mean involved (at the UCB side's
        per-group level).
    design : {"paired", "unpaired", "twin-set spreads"}
        How the gap was bounded (SPEC §5.4).
    allocation : str
        How δ_j was split for this constraint.
    design_note : str
        Why this design (e.g. why twin sets could not be paired).
    contrast_intervals : dict
        Paired design: contrast label → (estimate, L, U, twin sets).
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
    design: str = "unpaired"
    allocation: str = ""
    design_note: str = ""
    contrast_intervals: dict[str, tuple[float, float, float, int]] = field(default_factory=dict)

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
    n_constraints: int = 0
    delta_per_constraint: float = 0.0
    sequential: bool = False

    @property
    def exit_code(self) -> int:
        """SPEC §8: 0 certified, 1 violated, 3 inconclusive."""
        return EXIT_CODES[self.verdict]


def certify(
    requests: Sequence[CertificateRequest],
    *,
    delta: float = 0.05,
    bound: str = "auto",
    min_group_size: int = 30,
    random_state: int = 0,
    sequential: bool = False,
    plan_rows: bool = True,
) -> CertificateSet:
    """Certificates for a set of constraints, jointly valid at 1 − δ (SPEC §5).

    ``plan_rows=False`` skips the "rows needed" plan of inconclusive constraints (a planner run
    each; simulations that only read verdicts and bounds do not need it).

    Parameters
    ----------
    requests : sequence of CertificateRequest
        The constraints with their group means (and, for a paired design, their contrasts).
    delta : float
        Joint miscoverage: all printed intervals [LCB, UCB] hold together with probability
        ≥ 1 − δ, so no verdict is wrong with probability ≥ 1 − δ.
    bound : {"auto", "betting", "bernstein", "hoeffding", "clopper-pearson"}
        Bound on each bounded mean (:func:`faro_audit.stats.bounds.mean_interval`); ``auto``
        picks Clopper–Pearson for unweighted unclustered hard outcomes, betting otherwise
        (:func:`faro_audit.stats.bounds.resolve_bound`).
    min_group_size : int
        A constraint involving a group with fewer rows can never be ``certified``
        (it becomes ``inconclusive``), but can still be ``violated``.
    random_state : int
        Seed of the betting bound's permutations (recorded in the report).
    sequential : bool
        The values are in the random order in which a sequential audit scored them: betting
        confidence sequences over that order (no permutation, no Clopper–Pearson), so the
        verdicts stay valid whenever the audit stops.
    plan_rows : bool
        Give inconclusive constraints their "rows needed" plan (default); ``False`` leaves
        ``n_required`` as ``None``.

    Returns
    -------
    CertificateSet

    Notes
    -----
    δ_j = δ / J for J requests, half for each side; inside a side only the events that can
    make it wrong are paid for (:mod:`faro_audit.stats.allocation`). Verdict: ``certified`` if
    UCB ≤ ε, ``violated`` if LCB > ε, else ``inconclusive``.
    """
    d = check_delta(delta)
    if bound not in BOUND_CHOICES:
        raise FaroUsageError(f"bound {bound!r} is unknown; use one of {', '.join(BOUND_CHOICES)}")
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
    # Constraints that bound the same gap from the same data (e.g. one gap at two tolerances,
    # or EO and DP of a pairs table without p_human) share one interval event: δ is split over
    # the distinct gaps only.
    signatures = {_signature(req) for req in reqs}
    delta_j = d / len(signatures)
    cache = IntervalCache(bound=bound, random_state=random_state, sequential=sequential)
    certs = []
    for req in reqs:
        c = req.constraint
        try:
            rb = bound_request(req, delta_j, cache)
        except FaroError as err:
            raise type(err)(f"constraint {c.metric}@{c.attribute}: {err}") from None
        est, lcb, ucb = rb.estimate, rb.lower, rb.upper
        verdict = decide(lcb, ucb, c.epsilon)
        samples = [s for cls in req.classes for s in cls]
        small = [s for s in samples if s.n_rows < mgs] if c.metric != "cf" else []
        if c.metric == "cf" and samples[0].n_rows < mgs:
            small = samples
        if verdict == "certified":
            reason = f"UCB {ucb:.4g} <= epsilon {c.epsilon:g} (joint level {1 - d:g})"
        elif verdict == "violated":
            reason = f"LCB {lcb:.4g} > epsilon {c.epsilon:g} (joint level {1 - d:g})"
        else:
            reason = f"[{lcb:.4g}, {ucb:.4g}] contains epsilon {c.epsilon:g}"
        if small:
            s0 = small[0]
            unit = "twin sets" if c.metric == "cf" else "rows"
            note = (
                f"group {s0.group!r} has {s0.n_rows} {unit} < min_group_size {mgs}"
                + (f" (and {len(small) - 1} more)" if len(small) > 1 else "")
            )
            if verdict == "certified":
                verdict = "inconclusive"
                reason = f"{note}: a constraint involving it cannot be certified (UCB {ucb:.4g} <= epsilon {c.epsilon:g})"
            else:
                reason = f"{reason}; {note}"
        n_required = None
        if verdict == "inconclusive" and plan_rows:
            n_required, extra = rows_needed(req, rb, delta_j=delta_j, bound=bound, min_group_size=mgs,
                                            sequential=sequential)
            reason += extra
        certs.append(
            Certificate(
                metric=c.metric,
                outcome=c.outcome,
                attribute=c.attribute or "",
                method=c.method,
                epsilon=c.epsilon,
                delta=d,
                delta_per_interval=delta_j,
                bound="+".join(rb.methods),
                estimate=est,
                lower=lcb,
                upper=ucb,
                verdict=verdict,
                n_required=n_required,
                reason=reason,
                group_intervals=rb.group_intervals,
                design=req.design,
                allocation=allocation_text(req),
                design_note=req.design_note,
                contrast_intervals=rb.contrast_intervals,
            )
        )
    return CertificateSet(
        certificates=tuple(certs),
        verdict=overall_verdict(ct.verdict for ct in certs),
        n_intervals=cache.n_intervals,
        delta=d,
        n_constraints=len(signatures),
        delta_per_constraint=delta_j,
        sequential=bool(sequential),
    )


def _signature(req: CertificateRequest) -> Hashable:
    """What a constraint's interval depends on (its tolerance excluded)."""
    c = req.constraint
    classes = tuple(tuple(s.key for s in cls) for cls in req.classes)
    paired = None if req.paired is None else tuple(tuple(p.key for p in cls) for cls in req.paired)
    shares = None if c.method != "to_overall" else req.shares
    return (c.method if c.metric != "cf" else "cf", classes, paired, shares, req.binary)
