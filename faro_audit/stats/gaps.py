"""Gap bounds by interval arithmetic, verdicts, and the sample size that would decide (SPEC §5).

Given a confidence interval [L_a, U_a] for every group mean, a gap (between groups, or to the
pooled mean) is bounded over the box Π_a [L_a, U_a] (:func:`gap_bounds`); a constraint is
``certified`` when UCB ≤ ε, ``violated`` when LCB > ε, else ``inconclusive``. For an
inconclusive constraint, ``_n_required`` projects how the box shrinks with more rows per group
(through :func:`faro_audit.stats.bounds.half_width`) and searches for the smallest row count
that decides it at the current estimates. :func:`faro_audit.stats.certificates.certify` builds
the intervals and calls these.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from faro_audit.errors import FaroUsageError
from faro_audit.stats.bounds import Interval, half_width
from faro_audit.stats.certificate_requests import CertificateRequest, MeanSample

__all__ = ["gap_bounds"]

_MAX_ROWS = 10**12  # n_required search stops here (None beyond)


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
