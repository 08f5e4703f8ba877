"""The power model and the betting calibration behind :func:`faro_audit.stats.planning.plan_constraint`.

* :class:`GapModel`: P(correct verdict) when each group's mean estimate is N(μ_a, se_g²) and
  the deciding bound sits at a fixed extent e from the gap estimate D: P(certified) =
  P(D + e ≤ ε), P(violated) = P(D − e > ε); closed form for two groups and cf, a fixed-seed
  Monte Carlo (20,000 draws) for K > 2 groups.
* :func:`betting_ratios`: the computed betting bound's one-sided extents over
  :func:`faro_audit.stats.bounds.half_width`'s approximation, on a representative sample.
* :func:`smallest_true`: the smallest n with a monotone predicate true (doubling, then bisection).

Pure: numbers in, numbers out.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
from scipy.stats import norm

from faro_audit.stats.bounds import half_width, mean_interval

__all__ = ["CALIBRATE_AT_MOST", "GapModel", "betting_ratios", "representative_sample", "smallest_true"]

CALIBRATE_AT_MOST = 20_000  # larger plans reuse the ratio measured at this many values
_CALIBRATE_VALUES = 400_000  # values per calibration (permutations × n)
_MC_DRAWS = 20_000


def smallest_true(ok: Callable[[int], bool], top: int) -> int:
    """The smallest integer n in [1, top] with ok(n), for a monotone ``ok``.

    Parameters
    ----------
    ok : callable int → bool
        Monotone: false below some n*, true from n* on; ``ok(top)`` must be true.
    top : int
        Upper end of the search.

    Returns
    -------
    int
        n* (``top`` if nothing smaller works): doubling from 1, then bisection, O(log top) calls.
    """
    lo, hi = 0, 1
    while hi < top and not ok(hi):
        lo, hi = hi, min(2 * hi, top)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def representative_sample(n: int, variance: float) -> np.ndarray:
    """A representative sample: n quantiles of a symmetric distribution on [0, 1].

    Parameters
    ----------
    n : int
        Number of values.
    variance : float
        V in [0, 1/4].

    Returns
    -------
    ndarray of shape (n,)
        The quantiles q_i = (i + ½)/n of Beta(a, a), a = (1/(4V) − 1)/2 (mean ½, variance V);
        at V = 1/4 two points 0 and 1, at V = 0 all ½.
    """
    q = (np.arange(n) + 0.5) / n
    if variance >= 0.25 - 1e-9:
        return (q >= 0.5).astype(np.float64)
    if variance <= 1e-12:
        return np.full(n, 0.5)
    from scipy.stats import beta

    a = (0.25 / variance - 1.0) / 2.0
    return beta.ppf(q, a, a)


@functools.lru_cache(maxsize=256)
def betting_ratios(n_cl: int, two_sided_level: float, variance: float) -> np.ndarray:
    """Computed one-sided betting extents over ``half_width``'s, at min(n, 20,000) values.

    Parameters
    ----------
    n_cl : int
        Values (clusters) the bound sees; above :data:`CALIBRATE_AT_MOST` the ratio measured
        there is reused.
    two_sided_level : float
        δ of the two-sided interval whose ends are the one-sided bounds.
    variance : float
        V of the values, in [0, 1/4].

    Returns
    -------
    ndarray
        r = extent / h(n) for both extents (estimate − lower, upper − estimate) of each
        permutation, h = :func:`~faro_audit.stats.bounds.half_width` (betting).

    Both extents (estimate − lower, upper − estimate) of each seeded permutation of a
    representative sample are kept: each is the extent of a one-sided bound. As many
    permutations as fit in 400,000 values (8 to 32), so the mean ratio is known to about ±2%.
    """
    n = max(min(int(n_cl), CALIBRATE_AT_MOST), 2)
    x = representative_sample(n, variance)
    h = half_width(n, delta=two_sided_level, method="betting", variance=variance)
    reps = int(min(max(_CALIBRATE_VALUES // n, 8), 32))
    out = []
    for seed in range(reps):
        iv = mean_interval(x, delta=two_sided_level, method="betting", random_state=seed)
        out += [(iv.upper - iv.estimate) / h, (iv.estimate - iv.lower) / h]
    return np.asarray(out)


class GapModel:
    """P(correct verdict) when each group's mean estimate is N(μ_a, se_g²).

    Parameters
    ----------
    metric : {"dp", "eo", "cf"}
    method : str
        The gap method (``between_groups``, ``to_overall``, ``mean_spread``).
    k : int
        Groups K.
    g : float
        The assumed true gap.
    target : {"certified", "violated"}
        The correct verdict at g.

    Two groups (and cf) in closed form; K > 2 groups by a fixed-seed Monte Carlo over the
    estimate of the gap, with the groups' true means split between the two ends of the gap
    (⌈K/2⌉ at the top: the worst case for certification) or, for a violation, the other groups
    in the middle (between groups) or equal (anchored), so that only the extreme pair counts.
    """

    def __init__(self, metric: str, method: str, k: int, g: float, target: str) -> None:
        self.metric, self.method, self.k, self.g, self.target = metric, method, k, g, target
        self.closed = metric == "cf" or k == 2
        if self.closed:
            return
        if target == "certified":
            v = np.r_[np.ones((k + 1) // 2), np.zeros(k // 2)]
        elif method == "between_groups":
            v = np.r_[1.0, 0.0, np.full(k - 2, 0.5)]
        else:
            v = np.r_[1.0, np.zeros(k - 1)]
        dev = (v.max() - v.min()) if method == "between_groups" else float(np.max(np.abs(v - v.mean())))
        self.mu = v * g / dev
        self.z = np.random.default_rng(20240531).standard_normal((_MC_DRAWS, k))

    def se(self, se_g: float) -> float:
        """Standard error of the worst pair's (or group's) gap estimate.

        Parameters
        ----------
        se_g : float
            Standard error of one group's (unit's) mean estimate.

        Returns
        -------
        float
            se_g (cf), se_g·√2 (between groups) or se_g·sqrt((K − 1)/K) (anchored, equal shares).
        """
        if self.metric == "cf":
            return se_g
        if self.method == "between_groups":
            return se_g * math.sqrt(2.0)
        return se_g * math.sqrt((self.k - 1.0) / self.k)

    def prob(self, se_g: float, eps: float, extents: np.ndarray) -> float:
        """P(correct verdict), averaged over the bound's extents.

        Parameters
        ----------
        se_g : float
            Standard error of one group's (unit's) mean estimate.
        eps : float
            Tolerance ε.
        extents : ndarray
            Extents e of the deciding bound from the estimate (one per calibration draw).

        Returns
        -------
        float
            mean over e of P(D + e ≤ ε) (certified) or P(D − e > ε) (violated).
        """
        if self.closed:
            return float(np.mean([self._closed(se_g, eps, float(e)) for e in extents]))
        x = self.mu[None, :] + se_g * self.z
        if self.method == "between_groups":
            est = x.max(axis=1) - x.min(axis=1)
        else:
            est = np.max(np.abs(x - x.mean(axis=1, keepdims=True)), axis=1)
        if self.target == "certified":
            return float(np.mean(est[:, None] + extents[None, :] <= eps))
        return float(np.mean(est[:, None] - extents[None, :] > eps))

    def _closed(self, se_g: float, eps: float, ext: float) -> float:
        se, g = self.se(se_g), self.g
        two_sided = self.metric != "cf"
        if self.target == "certified":
            cut = eps - ext
            if cut <= 0:
                return 0.0
            if se == 0:
                return float(g <= cut)
            return float(norm.cdf((cut - g) / se) - (norm.cdf((-cut - g) / se) if two_sided else 0.0))
        cut = eps + ext
        if se == 0:
            return float(g > cut)
        return float(norm.sf((cut - g) / se) + (norm.cdf((-cut - g) / se) if two_sided else 0.0))
