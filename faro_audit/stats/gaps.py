"""Gap bounds by interval arithmetic, verdicts, and the sample size that would decide (SPEC §5).

Given a confidence interval [L_a, U_a] for every group mean, a gap (between groups, or to the
pooled mean) is bounded over the box Π_a [L_a, U_a] (:func:`gap_bounds`); a constraint is
``certified`` when UCB ≤ ε, ``violated`` when LCB > ε, else ``inconclusive`` (:func:`decide`).
For an inconclusive constraint, :func:`rows_needed` asks the ``faro-audit plan`` engine
(:func:`faro_audit.stats.planning.plan_constraint`) for the rows per group that would decide
it, with the current estimate as the assumed gap, so that the hint in a certificate and the
plan agree. :func:`faro_audit.stats.certificates.certify` builds the intervals and calls these.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from faro_audit.errors import FaroUsageError
from faro_audit.stats.certificate_requests import CertificateRequest
from faro_audit.stats.planning import Plan, plan_constraint
from faro_audit.vocabulary import GAP_METHODS

__all__ = ["ROWS_NEEDED_POWER", "decide", "gap_bounds", "rows_needed", "rows_needed_plan"]

#: Power of the plan behind a certificate's "rows needed" hint: 1/2, i.e. the bound decides the
#: constraint at the median of the gap estimate ("at the current estimate").
ROWS_NEEDED_POWER = 0.5
#: The hint looks at most this many times the current rows ahead (SPEC §5.8).
ROWS_NEEDED_HORIZON = 100


def gap_bounds(
    lower: ArrayLike, upper: ArrayLike, *, method: str, shares: ArrayLike | None = None, clip: bool = True
) -> tuple[float, float]:
    """Bounds (LCB, UCB) on a gap over the box Π_a [L_a, U_a] of group means.

    Parameters
    ----------
    lower, upper : array-like of shape (K,)
        Group-mean interval endpoints.
    method : {"between_groups", "to_overall"}
        :data:`faro_audit.vocabulary.GAP_METHODS`.
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
    clip : bool
        False returns the signed lower end before it is clipped at 0 (max_a L_a − min_a U_a,
        or max_a max(lo_a, −hi_a)), whose distance to the estimate shrinks with n (used to
        project the sample size that would decide a constraint).
    """
    lo = np.asarray(lower, dtype=np.float64)
    hi = np.asarray(upper, dtype=np.float64)
    if lo.shape != hi.shape or lo.ndim != 1 or lo.size == 0:
        raise FaroUsageError("gap_bounds: lower and upper must be 1-D arrays of the same, positive length")
    if method == "between_groups":
        raw = float(lo.max() - hi.min())
        return (max(0.0, raw) if clip else raw), float(hi.max() - lo.min())
    if method != "to_overall":
        raise FaroUsageError(f"gap method {method!r} is unknown; use {' or '.join(GAP_METHODS)}")
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
    if not clip:
        return float(np.maximum(bottom, -top).max()), float(abs_hi.max())
    return float(abs_lo.max()), float(abs_hi.max())


def decide(lcb: float, ucb: float, epsilon: float) -> str:
    """The verdict of one constraint gap ≤ ε from its simultaneous bounds (SPEC §5.4).

    Parameters
    ----------
    lcb, ucb : float
        Lower and upper confidence bounds of the gap.
    epsilon : float
        Tolerance ε.

    Returns
    -------
    {"certified", "violated", "inconclusive"}
        ``certified`` if UCB ≤ ε, ``violated`` if LCB > ε, else ``inconclusive``.
    """
    if ucb <= epsilon:
        return "certified"
    if lcb > epsilon:
        return "violated"
    return "inconclusive"


def _n_eff(weights: np.ndarray | None, n: int) -> float:
    """Kish effective size (Σw)² / Σw² (n without weights)."""
    if weights is None:
        return float(n)
    return float(weights.sum() ** 2 / np.dot(weights, weights))


def _pooled_sd(samples: list[np.ndarray]) -> float:
    """sqrt(Σ_a Σ_i (x_ai − x̄_a)² / Σ_a (n_a − 1)): the pooled within-sample sd (0.5 if undefined)."""
    dof = sum(x.size - 1 for x in samples)
    if dof <= 0:
        return 0.5
    return math.sqrt(sum(float(np.sum((x - x.mean()) ** 2)) for x in samples) / dof)


def rows_needed_plan(
    request: CertificateRequest,
    estimate: float,
    *,
    delta_j: float,
    bound: str,
    min_group_size: int,
    sequential: bool = False,
) -> Plan:
    """The ``faro-audit plan`` of an inconclusive constraint, assuming its gap is the estimate.

    The plan (:func:`faro_audit.stats.planning.plan_constraint`) is made with the inputs the
    data give:

    * true gap g = the current estimate; power :data:`ROWS_NEEDED_POWER` (= 1/2: the bound
      decides at the median estimate), δ = δ_j with J = 1 (this constraint's share);
    * the design of the request (paired, unpaired, cf), K = the largest class, C = the classes;
    * the bound as given (``auto`` resolved by the plan; a sequential audit uses betting);
    * the units of the bound are the values it sees (cluster means, twin-set contrasts or
      spreads): σ = their pooled within-group sd, clamped to [0.01, ½] (paired: [0.01, 1]),
      and m = rows (twin sets) per unit, n_rows / n_eff of the smallest group, entered as
      cluster_size m with ρ = 1, so that n / m units of variance σ² are planned and the plan's
      n is in rows (twin sets);
    * max_n = :data:`ROWS_NEEDED_HORIZON` × the rows (twin sets) of the smallest group, so that
      an estimate on ε gives "undecidable", never a number in the millions (SPEC §5.8).

    Parameters
    ----------
    request : CertificateRequest
        The constraint and its data.
    estimate : float
        The current estimate of the gap, in [0, 1].
    delta_j : float
        The constraint's share of δ.
    bound : str
        ``auto`` or one of :data:`faro_audit.vocabulary.BOUND_METHODS`.
    min_group_size : int
        A certification needs every group to reach this many rows (SPEC §4).
    sequential : bool
        A sequential audit (betting confidence sequences).

    Returns
    -------
    Plan
    """
    c = request.constraint
    if request.paired is not None:
        units = [pc for cls in request.paired for pc in cls]
        small_u = min(units, key=lambda pc: pc.n_units)
        n_rows = max(small_u.n_units, 1)
        per_unit = n_rows / max(_n_eff(small_u.sample_weight, small_u.values.size), 1.0)
        sd = min(max(_pooled_sd([pc.values for pc in units]), 0.01), 1.0)
    else:
        samples = [s for cls in request.classes for s in cls]
        small = min(samples, key=lambda s: s.n_rows)
        n_rows = max(small.n_rows, 1)
        per_unit = n_rows / max(_n_eff(small.sample_weight, small.values.size), 1.0)
        sd = min(max(_pooled_sd([s.values for s in samples]), 0.01), 0.5)
    m = max(per_unit, 1.0)
    plan_bound = "betting" if sequential and bound in ("auto", "clopper-pearson") else bound
    if plan_bound == "clopper-pearson" and (m > 1.0 or not request.binary):
        plan_bound = "betting"  # certify would have refused the bound: plan what auto uses
    return plan_constraint(
        metric=c.metric, method=c.method, epsilon=c.epsilon, true_gap=min(max(float(estimate), 0.0), 1.0),
        sd=sd, n_groups=max(2, max(len(cls) for cls in request.classes)), n_classes=len(request.classes),
        outcome=c.outcome if request.binary or c.outcome == "soft" else "soft",
        design="paired" if request.paired is not None else "unpaired", delta=min(max(delta_j, 1e-12), 0.999999),
        n_constraints=1, power=ROWS_NEEDED_POWER, bound=plan_bound, icc=1.0 if m > 1.0 else 0.0,
        cluster_size=m, min_group_size=int(min_group_size), max_n=max(ROWS_NEEDED_HORIZON * n_rows, 1),
    )


def rows_needed(
    request: CertificateRequest,
    bounds: Any,
    *,
    delta_j: float,
    bound: str,
    min_group_size: int,
    sequential: bool = False,
) -> tuple[int | None, str]:
    """Rows per group (twin sets for paired and cf designs) that would decide the constraint.

    The number is :func:`rows_needed_plan`'s: what ``faro-audit plan`` plans for this design,
    bound and level with the current estimate as the assumed gap (power 1/2). If
    :data:`ROWS_NEEDED_HORIZON` × the current data would not decide it, the estimate sits on ε
    within the bound's resolution: "undecidable near ε" (SPEC §5.8), never a number in the
    millions.

    Parameters
    ----------
    request : CertificateRequest
        The constraint and its data.
    bounds : RequestBounds
        The constraint's bounds (:func:`faro_audit.stats.allocation.bound_request`); only
        ``estimate`` is read.
    delta_j : float
        The constraint's share of δ.
    bound : str
        ``auto`` or one of :data:`faro_audit.vocabulary.BOUND_METHODS`.
    min_group_size : int
        A certification needs every group to reach this many rows.
    sequential : bool
        A sequential audit.

    Returns
    -------
    (n, note) : (int or None, str)
        ``n`` per group (None when undecidable), and the clause the certificate's reason gets.
    """
    eps = request.constraint.epsilon
    est = float(bounds.estimate)
    undecidable = "; undecidable near epsilon: the estimate sits on epsilon within the bound's resolution at 100x the data"
    if est == eps:
        return None, undecidable
    plan = rows_needed_plan(request, est, delta_j=delta_j, bound=bound, min_group_size=min_group_size,
                            sequential=sequential)
    if plan.status != "planned" or plan.n is None:
        return None, undecidable
    unit = "twin sets" if request.constraint.metric == "cf" else plan.unit
    if request.paired is not None:
        unit = "twin sets per group"
    return plan.n, f"; about {plan.n} {unit} would decide it at the current estimate"


# Old private spellings (kept for code outside stats that imported them).
_decide = decide
_rows_needed = rows_needed
