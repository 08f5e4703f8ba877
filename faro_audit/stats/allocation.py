"""How δ is spent, and the gap bounds of one constraint under each design (SPEC §5.2–§5.4).

Split of δ. With J requested constraints, constraint j gets δ_j = δ / J, and δ_j is split in
halves between its upper bound (UCB, what a ``certified`` verdict rests on) and its lower bound
(LCB, what ``violated`` rests on): α = δ_j / 2 each. Every printed interval [LCB_j, UCB_j] then
covers its gap with probability ≥ 1 − δ_j, all of them together with probability ≥ 1 − δ, and
each verdict is wrong with probability ≤ δ_j / 2. Intervals that no requested constraint uses
take no share of δ.

Inside one side, only the events that can make that side wrong are paid for. Write t and b for
the (unknown, fixed) groups with the largest and the smallest true mean:

========================  ====================================  =====================================
design / gap              UCB side (budget α)                   LCB side (budget α)
========================  ====================================  =====================================
unpaired, between groups  U_t ≥ m_t and L_b ≤ m_b: every group  every L_a ≤ m_a and U_a ≥ m_a:
                          one-sided at α/2 (any K)               one-sided at α/(2K)
unpaired, anchored        U_{a*} and all L_b (or the mirror):   all 2K one-sided at α/(2K)
                          every bound one-sided at α/K
paired, between groups    the one contrast m_t − m_b: every     every ordered pair: one-sided at
                          pair one-sided at α                    α/(K(K−1))
paired, anchored          the contrast of a*: one-sided at α    all 2K one-sided at α/(2K)
cf (mean spread)          one-sided at α                         one-sided at α
========================  ====================================  =====================================

EO takes the maximum over label classes: the UCB side needs only the true worst class (no
split), the LCB side splits α over the classes. For example a false certification of a
between-groups gap needs U_t < m_t or L_b > m_b — two one-sided events at α/2 whatever the
number of groups — while the old Bonferroni split paid for 2K of them.

A one-sided bound at level α is the corresponding end of the two-sided interval at level 2α
(every bound here is symmetric in its two tails).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np

from faro_audit.errors import FaroError
from faro_audit.stats.bounds import Interval, mean_interval, resolve_bound
from faro_audit.stats.certificate_requests import (
    CertificateRequest,
    ContrastSample,
    MeanSample,
)
from faro_audit.stats.gaps import gap_bounds

__all__ = ["IntervalCache", "RequestBounds", "allocation_text", "bound_request"]


@dataclass(frozen=True)
class RequestBounds:
    """LCB and UCB of one constraint with what they were computed from.

    Attributes
    ----------
    estimate, lower, upper : float
        Point estimate of the gap, its LCB (level α one-sided) and UCB (level α one-sided).
    methods : tuple of str
        The bounds used (after ``auto`` was resolved).
    group_intervals : dict
        group label → (estimate, L, U, n_rows) at the UCB side's per-group level.
    contrast_intervals : dict
        Paired design: contrast label → (estimate, L, U, n_units) at the UCB side's level.
    """

    estimate: float
    lower: float
    upper: float
    methods: tuple[str, ...]
    group_intervals: dict[str, tuple[float, float, float, int]]
    contrast_intervals: dict[str, tuple[float, float, float, int]]
    #: the bounds before clipping to [0, 1] and to the estimate (their extents scale with n)
    raw_lower: float = 0.0
    raw_upper: float = 0.0


class IntervalCache:
    """Intervals by (sample key, two-sided level), so a mean shared by constraints is computed once.

    The betting permutation of each interval is seeded by (``random_state``, a stable hash of
    the key), so different means get independent permutations and a rerun gives the same
    result. ``sequential=True`` keeps the given order (the scoring order of a sequential audit)
    and makes ``auto`` resolve to betting (a confidence sequence).
    """

    def __init__(self, *, bound: str, random_state: int, sequential: bool = False) -> None:
        self.bound = bound
        self.random_state = int(random_state)
        self.sequential = bool(sequential)
        self._cache: dict[tuple[Hashable, float], Interval] = {}

    def _seed(self, key: Hashable) -> np.random.Generator:
        return np.random.default_rng([self.random_state, zlib.crc32(repr(key).encode("utf-8"))])

    def get(self, key: Hashable, values: np.ndarray, weight: np.ndarray | None, level: float, *,
            binary: bool) -> Interval:
        """Two-sided interval at miscoverage ``level`` of the mean of ``values`` in [0, 1].

        Computed once per (key, level) and cached; the bound is ``auto`` resolved from the design
        (:func:`~faro_audit.stats.bounds.resolve_bound`), the betting permutation seeded by
        (random_state, crc32(key)).

        Parameters
        ----------
        key : hashable
            Identity of the mean.
        values : ndarray of shape (n,)
            Values in [0, 1].
        weight : ndarray of shape (n,) or None
            Cluster weights.
        level : float
            Two-sided miscoverage δ′ of this interval (capped below 1).
        binary : bool
            The outcome is hard by construction (``auto`` may pick Clopper–Pearson).

        Returns
        -------
        Interval
        """
        level = min(float(level), 0.999999)
        ck = (key, level)
        iv = self._cache.get(ck)
        if iv is None:
            method = resolve_bound(self.bound, binary=binary, weighted=weight is not None,
                                   sequential=self.sequential)
            iv = mean_interval(values, delta=level, method=method, sample_weight=weight,
                               random_state=self._seed(key), order="given" if self.sequential else "permute")
            self._cache[ck] = iv
        return iv

    def group(self, s: MeanSample, level: float, *, binary: bool) -> Interval:
        """The interval of one group mean (:meth:`get`); errors name the group.

        Parameters
        ----------
        s : MeanSample
        level : float
            Two-sided miscoverage.
        binary : bool
            Hard outcome by construction.

        Returns
        -------
        Interval
        """
        try:
            return self.get(s.key, s.values, s.sample_weight, level, binary=binary)
        except FaroError as err:
            raise type(err)(f"group {s.group!r}: {err}") from None

    def contrast(self, c: ContrastSample, level: float) -> tuple[float, float, float, str]:
        """A paired contrast in [−1, 1], bounded as the mean of (d + 1)/2 and mapped back.

        Parameters
        ----------
        c : ContrastSample
        level : float
            Two-sided miscoverage.

        Returns
        -------
        (estimate, L, U, method) : (float, float, float, str)
            2·(mean, lower, upper of (d + 1)/2) − 1, and the bound used.
        """
        iv = self.get(c.key, (c.values + 1.0) / 2.0, c.sample_weight, level, binary=False)
        return 2.0 * iv.estimate - 1.0, 2.0 * iv.lower - 1.0, 2.0 * iv.upper - 1.0, iv.method

    @property
    def n_intervals(self) -> int:
        """Distinct (mean, level) intervals computed so far (reported as ``n_intervals``)."""
        return len(self._cache)


def _n_classes(req: CertificateRequest) -> int:
    return max(1, sum(1 for cls in req.classes if len(cls) >= 2))


def allocation_text(req: CertificateRequest) -> str:
    """One line saying how this constraint's δ_j is spent (for the report).

    Parameters
    ----------
    req : CertificateRequest

    Returns
    -------
    str
        e.g. ``unpaired box: UCB from top and bottom group, each one-sided at delta_j/4; ...``
        (the levels of the module table).
    """
    c = req.constraint
    if c.metric == "cf":
        return "UCB and LCB one-sided at delta_j/2 each (mean twin-set spread)"
    k = max(len(cls) for cls in req.classes)
    classes = _n_classes(req)
    split = f", LCB side split over {classes} label classes" if classes > 1 else ""
    if req.paired is not None:
        if c.method == "between_groups":
            return (f"paired: UCB from each pairwise contrast one-sided at delta_j/2; LCB from all "
                    f"{k * (k - 1)} ordered contrasts at delta_j/(2*{k * (k - 1)}){split}")
        return (f"paired: UCB from each contrast to the pooled mean one-sided at delta_j/2; LCB from "
                f"all {2 * k} one-sided bounds at delta_j/(2*{2 * k}){split}")
    if c.method == "between_groups":
        return (f"unpaired box: UCB from top and bottom group, each one-sided at delta_j/4; LCB from "
                f"all {2 * k} one-sided group bounds at delta_j/(2*{2 * k}){split}")
    return (f"unpaired box: UCB from {k} one-sided group bounds at delta_j/(2*{k}); LCB from all "
            f"{2 * k} at delta_j/(2*{2 * k}){split}")


def _mean(s: MeanSample) -> float:
    """The (weighted) row mean behind a sample: Σ W_c x_c / Σ W_c over cluster means x_c."""
    if s.sample_weight is None:
        return float(np.mean(s.values))
    return float(np.dot(s.sample_weight, s.values) / s.sample_weight.sum())


def _gap_estimate(means: np.ndarray, method: str, shares: np.ndarray) -> float:
    if method == "between_groups":
        return float(means.max() - means.min())
    return float(np.max(np.abs(means - np.dot(shares, means))))


def bound_request(req: CertificateRequest, delta_j: float, cache: IntervalCache) -> RequestBounds:
    """LCB and UCB of one constraint at its share ``delta_j`` of δ (module docstring).

    Parameters
    ----------
    req : CertificateRequest
        The constraint and its data.
    delta_j : float
        The constraint's share of δ; each side gets α = δ_j / 2, split over the events that
        can make that side wrong (module table).
    cache : IntervalCache
        Intervals shared across constraints (one per mean and level).

    Returns
    -------
    RequestBounds
        Estimate, LCB (clipped at 0 and at the estimate) and UCB (at 1 and the estimate), the
        bounds used, group and contrast intervals, and the unclipped ends.
    """
    c = req.constraint
    alpha = delta_j / 2.0
    methods: set[str] = set()
    if c.metric == "cf":
        s = req.classes[0][0]
        iv = cache.group(s, 2.0 * alpha, binary=req.binary)
        methods.add(iv.method)
        return RequestBounds(iv.estimate, iv.lower, iv.upper, (iv.method,),
                             {s.group: (iv.estimate, iv.lower, iv.upper, s.n_rows)}, {}, iv.lower, iv.upper)
    assert req.shares is not None
    n_cls = _n_classes(req)
    multi = len(req.classes) > 1
    labels = req.class_labels or tuple(f"class {i + 1}" for i in range(len(req.classes)))
    est = ucb = 0.0
    lcb = -np.inf
    groups: dict[str, tuple[float, float, float, int]] = {}
    contrasts: dict[str, tuple[float, float, float, int]] = {}
    for ci, (cls, sh) in enumerate(zip(req.classes, req.shares)):
        name: Callable[[str], str] = (lambda g, lab=labels[ci]: f"{lab}: {g}") if multi else (lambda g: g)
        k = len(cls)
        w = np.asarray(sh, dtype=np.float64)
        means = np.array([_mean(s) for s in cls])
        if k < 2:
            s = cls[0]
            iv = cache.group(s, 2.0 * alpha, binary=req.binary)
            methods.add(iv.method)
            groups[name(s.group)] = (iv.estimate, iv.lower, iv.upper, s.n_rows)
            continue
        est = max(est, _gap_estimate(means, c.method, w))
        a_low = alpha / n_cls  # the LCB side is split over the classes
        if req.paired is not None:
            pcs = req.paired[ci]
            up_level = 2.0 * alpha
            low_level = 2.0 * a_low / (k * (k - 1)) if c.method == "between_groups" else a_low / k
            u_side, l_side = 0.0, -np.inf
            for pc in pcs:
                e, lo_u, hi_u, m = cache.contrast(pc, up_level)
                _, lo_l, hi_l, m2 = cache.contrast(pc, low_level)
                methods.update((m, m2))
                u_side = max(u_side, hi_u, -lo_u)
                l_side = max(l_side, lo_l, -hi_l)
                contrasts[name(pc.label)] = (e, lo_u, hi_u, pc.n_units)
            ucb, lcb = max(ucb, u_side), max(lcb, l_side)
            for s in cls:
                iv = cache.group(s, 2.0 * alpha, binary=req.binary)
                methods.add(iv.method)
                groups[name(s.group)] = (iv.estimate, iv.lower, iv.upper, s.n_rows)
            continue
        # Unpaired: the box method.
        up_level = alpha if c.method == "between_groups" else 2.0 * alpha / k
        low_level = a_low / k
        ivs_u = [cache.group(s, up_level, binary=req.binary) for s in cls]
        ivs_l = [cache.group(s, low_level, binary=req.binary) for s in cls]
        methods.update(iv.method for iv in ivs_u + ivs_l)
        _, u = gap_bounds([iv.lower for iv in ivs_u], [iv.upper for iv in ivs_u], method=c.method, shares=w)
        lo, _ = gap_bounds([iv.lower for iv in ivs_l], [iv.upper for iv in ivs_l], method=c.method, shares=w,
                           clip=False)
        ucb, lcb = max(ucb, u), max(lcb, lo)
        for s, iv in zip(cls, ivs_u):
            groups[name(s.group)] = (iv.estimate, iv.lower, iv.upper, s.n_rows)
    raw_l, raw_u = lcb, ucb
    lcb = min(lcb, est)
    ucb = max(ucb, est)
    return RequestBounds(float(est), float(max(0.0, lcb)), float(min(1.0, ucb)), tuple(sorted(methods)),
                         groups, contrasts, float(raw_l), float(raw_u))
