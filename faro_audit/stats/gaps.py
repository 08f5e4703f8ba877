"""Gap bounds by interval arithmetic, verdicts, and the sample size that would decide (SPEC §5).

Given a confidence interval [L_a, U_a] for every group mean, a gap (between groups, or to the
pooled mean) is bounded over the box Π_a [L_a, U_a] (:func:`gap_bounds`); a constraint is
``certified`` when UCB ≤ ε, ``violated`` when LCB > ε, else ``inconclusive``. For an
inconclusive constraint, ``_rows_needed`` projects how the bounds shrink with more rows per
group (through :func:`faro_audit.stats.bounds.half_width`) and searches for the smallest row
count that decides it at the current estimates. :func:`faro_audit.stats.certificates.certify` builds
the intervals and calls these.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from faro_audit.errors import FaroUsageError
from faro_audit.stats.bounds import half_width
from faro_audit.stats.certificate_requests import CertificateRequest

__all__ = ["gap_bounds"]


def gap_bounds(
    lower: ArrayLike, upper: ArrayLike, *, method: str, shares: ArrayLike | None = None, clip: bool = True
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
    if not clip:
        return float(np.maximum(bottom, -top).max()), float(abs_hi.max())
    return float(abs_lo.max()), float(abs_hi.max())


def _decide(lcb: float, ucb: float, epsilon: float) -> str:
    if ucb <= epsilon:
        return "certified"
    if lcb > epsilon:
        return "violated"
    return "inconclusive"


def _rows_needed(
    request: CertificateRequest,
    bounds: Any,
    *,
    delta_j: float,
    bound: str,
    min_group_size: int,
    sequential: bool = False,
) -> tuple[int | None, str]:
    """Rows per group (twin sets for paired and cf designs) that would decide the constraint.

    The extents of the current bounds, UCB − estimate and estimate − LCB, shrink with the
    half-width of the bound, h(n) (:func:`faro_audit.stats.bounds.half_width` at the
    constraint's level and the current variance); the answer is the smallest n at which
    estimate + (UCB − estimate)·h(n)/h(n_now) ≤ ε (certify) or estimate − (estimate −
    LCB)·h(n)/h(n_now) > ε (violate), at the current estimate. If 100× the current data would
    not decide it, the estimate sits on ε within the bound's resolution: "undecidable near ε"
    (SPEC §5.8), never a number in the millions.

    Returns
    -------
    (n, note) : (int or None, str)
        ``n`` per group, and the sentence the certificate's reason gets.
    """
    eps = request.constraint.epsilon
    est, lcb, ucb = float(bounds.estimate), float(bounds.raw_lower), float(bounds.raw_upper)
    samples = [s for cls in request.classes for s in cls]
    if request.paired is not None:
        units = min(pc.n_units for cls in request.paired for pc in cls)
        values = np.concatenate([(pc.values + 1.0) / 2.0 for cls in request.paired for pc in cls])
        unit = "twin sets per group"
        per_unit = 1.0
    else:
        small = min(samples, key=lambda s: s.n_rows)
        n_eff = (small.values.size if small.sample_weight is None
                 else float(small.sample_weight.sum() ** 2 / np.dot(small.sample_weight, small.sample_weight)))
        units = max(n_eff, 1.0)
        per_unit = max(small.n_rows, 1) / units
        values = np.concatenate([s.values for s in samples])
        unit = "twin sets" if request.constraint.metric == "cf" else "rows per group"
    var = float(min(max(np.var(values), 1e-4), 0.25)) if values.size > 1 else 0.25
    method = "betting" if bound in ("auto", "clopper-pearson") or sequential else bound
    level = min(max(delta_j / 2.0, 1e-12), 0.5)
    h_now = half_width(max(units, 1.0), delta=level, method=method, variance=var)
    target = "certified" if est < eps else "violated"

    def decided(n_units: float) -> bool:
        scale = min(1.0, half_width(max(n_units, 1.0), delta=level, method=method, variance=var) / h_now)
        if target == "certified":
            return est + (ucb - est) * scale <= eps
        return est - (est - lcb) * scale > eps

    if est == eps or not decided(100.0 * units):
        return None, "; undecidable near epsilon: the estimate sits on epsilon within the bound's resolution at 100x the data"
    lo, hi = units, 100.0 * units
    while hi - lo > max(1.0, 1e-3 * lo):
        mid = 0.5 * (lo + hi)
        if decided(mid):
            hi = mid
        else:
            lo = mid
    n = max(int(np.ceil(hi * per_unit)), int(min_group_size))
    return n, f"; about {n} {unit} would decide it at the current estimate"
