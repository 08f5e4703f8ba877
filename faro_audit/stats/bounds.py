"""Confidence intervals for the mean of values in [0, 1] (SPEC §5.2).

Four two-sided bounds at level 1 − δ, all distribution-free except for boundedness:

``hoeffding``
    mean ± sqrt(ln(2/δ) / (2 n_eff)) (Hoeffding 1963, Thm 2), n_eff = (Σw)² / Σw².
``bernstein``
    mean ± (sqrt(2 V ln(4/δ) / n) + 7 ln(4/δ) / (3 (n − 1))), the empirical Bernstein bound of
    Maurer & Pontil (2009, Thm 4), V the sample variance (n − 1 denominator).
``betting``
    the hedged-capital interval of Waudby-Smith & Ramdas (2024, JRSS-B 86(1), "Estimating means
    of bounded random variables by betting", Thm 3 and §5.1), with predictable plug-in bets
    tuned for a fixed sample size; computed by :mod:`faro_audit.stats.betting`.
``clopper-pearson``
    the exact binomial interval (beta quantiles), for hard outcomes without weights.

Weights (``sample_weight``, e.g. rows per cluster) are a fixed design: the values are
independent given the weights, and the estimand is the weighted mean Σ w_i μ_i / Σ w_i. Each
method's use of weights is documented on :func:`mean_interval` and in ``docs/statistics.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from faro_audit.errors import FaroUsageError
from faro_audit.stats.betting import (
    BETTING_WIDTH_FACTOR,
    BETTING_WIDTH_OFFSET,
    betting_half_width,
    betting_interval,
)
from faro_audit.stats.checks import check_bounded_values, check_delta, generator
from faro_audit.vocabulary import BOUND_CHOICES, BOUND_METHODS

__all__ = [
    "BETTING_WIDTH_FACTOR",
    "BETTING_WIDTH_OFFSET",
    "BOUND_CHOICES",
    "METHODS",
    "Interval",
    "check_delta",
    "half_width",
    "mean_interval",
    "resolve_bound",
]

Method = Literal["hoeffding", "bernstein", "betting", "clopper-pearson"]
#: The bounds of :func:`mean_interval` (:data:`faro_audit.vocabulary.BOUND_METHODS`); what
#: ``--bound`` accepts is :data:`BOUND_CHOICES`, ``auto`` first (both owned by the vocabulary).
METHODS: tuple[str, ...] = BOUND_METHODS



@dataclass(frozen=True)
class Interval:
    """A two-sided confidence interval for a bounded mean.

    Attributes
    ----------
    lower, upper : float
        Endpoints, clipped to [0, 1]; ``lower <= estimate <= upper``.
    estimate : float
        The (weighted) sample mean.
    n : int
        Number of values (clusters).
    n_eff : float
        Kish effective sample size (Σw)² / Σw² (equal to ``n`` without weights).
    method : str
        The bound used.
    delta : float
        Miscoverage level: the interval covers the mean with probability ≥ 1 − δ.
    """

    lower: float
    upper: float
    estimate: float
    n: int
    n_eff: float
    method: str
    delta: float

    @property
    def width(self) -> float:
        """``upper − lower``."""
        return self.upper - self.lower


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise FaroUsageError(f"bound {method!r} is unknown; use one of {', '.join(METHODS)}")
    return method


def resolve_bound(bound: str, *, binary: bool, weighted: bool, sequential: bool = False) -> str:
    """The bound ``--bound auto`` uses for one interval, chosen from the design (SPEC §5.3).

    Parameters
    ----------
    bound : str
        ``"auto"`` or one of :data:`METHODS` (returned unchanged).
    binary : bool
        The outcome is hard (1[d > 0], ties ½) by construction: a property of the constraint,
        never of the values observed.
    weighted : bool
        The interval's values carry unequal weights (row weights or clusters of several rows).
    sequential : bool
        A sequential audit needs a confidence sequence: ``auto`` then always means betting.

    Returns
    -------
    str
        ``clopper-pearson`` for an unweighted, unclustered binary outcome in a fixed-size audit,
        else ``betting``. The choice never looks at the outcome values, so choosing does not
        spend any of δ.
    """
    if bound != "auto":
        return _check_method(bound)
    return "clopper-pearson" if binary and not weighted and not sequential else "betting"


def _clopper_pearson(x: np.ndarray, delta: float) -> tuple[float, float]:
    """Exact binomial bounds for a mean of values in {0, ½, 1} (ties of a hard outcome).

    With l_i = 1[x_i = 1] and u_i = 1[x_i ≥ ½], E l ≤ E x ≤ E u, so the Clopper–Pearson lower
    bound of E l and upper bound of E u, each at δ/2, bound E x at level 1 − δ; without ties
    this is the ordinary Clopper–Pearson interval (scipy's beta quantiles).
    """
    from scipy.stats import beta

    n = x.size
    k_lo = int(np.sum(x == 1.0))
    k_hi = int(np.sum(x >= 0.5))
    lo = float(beta.ppf(delta / 2.0, k_lo, n - k_lo + 1)) if k_lo > 0 else 0.0
    hi = float(beta.ppf(1.0 - delta / 2.0, k_hi + 1, n - k_hi)) if k_hi < n else 1.0
    return lo, hi


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def mean_interval(
    values: ArrayLike,
    *,
    delta: float,
    method: Method | str = "betting",
    sample_weight: ArrayLike | None = None,
    random_state: int | np.random.Generator | None = 0,
    order: Literal["permute", "given"] = "permute",
) -> Interval:
    """Two-sided confidence interval, at level 1 − δ, for the mean of values in [0, 1].

    Parameters
    ----------
    values : array-like of shape (n,)
        Independent values in [0, 1] (cluster means: SPEC §5.2 averages clusters first).
    delta : float
        Miscoverage level in (0, 1).
    method : {"betting", "hoeffding", "bernstein", "clopper-pearson"}
        The bound (SPEC §5.2).
    sample_weight : array-like of shape (n,), optional
        Non-negative weights (e.g. rows per cluster). They define the estimand
        Σ w_i μ_i / Σ w_i and are treated as a fixed design.
    random_state : int, Generator or None
        Seed of the permutation the betting bound applies (other methods ignore it).
    order : {"permute", "given"}
        ``permute`` (default): the betting bound runs over a seeded uniformly random
        permutation of the values, which makes any input order exchangeable. ``given``: the
        values are already in a random order (a sequential audit's scoring order) and are used
        as they come, so that intervals at successive looks are one confidence sequence.

    Returns
    -------
    Interval

    Notes
    -----
    Let W = Σw, n_eff = W² / Σw², b = max w / W, x̄ = Σ w x / W.

    * hoeffding: x̄ ± sqrt(ln(2/δ) / (2 n_eff)). Valid for independent values with any means
      and fixed weights (Hoeffding 1963, Thm 2 applied to Σ w_i x_i / W).
    * bernstein: without weights, x̄ ± (sqrt(2 V ln(4/δ)/n) + 7 ln(4/δ)/(3(n−1))), Maurer &
      Pontil (2009, Thm 4), V the sample variance. With weights, the same derivation
      (Bernstein's inequality for Σ w_i x_i / W, Boucheron et al. 2013 Thm 2.10, plus Maurer &
      Pontil Thm 10 for sqrt(V)) gives x̄ ± (sqrt(2 V L / n_eff) + 2L / sqrt(n_eff (n−1)) + bL/3),
      L = ln(4/δ), which we relax to x̄ ± (sqrt(2 V L / n_eff) + 2L sqrt(n/n_eff)/(n−1) +
      n b L / (3(n−1))): it equals Maurer & Pontil's bound for equal weights and is continuous
      in the weights. Assumes values i.i.d. given the weights.
    * betting: the hedged capital process of Waudby-Smith & Ramdas (2024, Thm 3),
      K⁺_t(m) = Π (1 + λ⁺_i s_i (x_i − m)), K⁻_t(m) = Π (1 − λ⁻_i s_i (x_i − m)), with
      λ^±_i the predictable plug-in bet (fixed-n tuning, §5.1) truncated at c/m and c/(1−m),
      c = 3/4, θ = 1/2, s_i = w_i / max w (s ≡ 1 without weights). The interval is the
      running intersection {m : max_{t≤n} max(θ K⁺_t(m), (1−θ) K⁻_t(m)) < 1/δ}: by Ville's
      inequality the true mean is excluded at any time with probability ≤ δ. With cluster
      means and cluster weights this is the test inversion on cluster totals of SPEC §5.1
      (see :func:`faro_audit.stats.betting.betting_interval`). The values run in a seeded
      uniformly random permutation of the given order (``order="permute"``), so the
      guarantee holds for any input order, over the data and the permutation.
    * clopper-pearson: exact binomial interval (beta quantiles, scipy) for values in {0, 1}
      and no (or constant) weights; ties of a hard outcome (value ½) are bounded from below
      as 0 and from above as 1 (:func:`_clopper_pearson`).

    The endpoints are clipped to [0, 1] and widened, if needed, to contain the estimate
    (widening never hurts coverage).

    References
    ----------
    Hoeffding, W. (1963). JASA 58, 13–30. Maurer, A. & Pontil, M. (2009). Empirical Bernstein
    bounds and sample variance penalization. COLT. Waudby-Smith, I. & Ramdas, A. (2024).
    Estimating means of bounded random variables by betting. JRSS-B 86(1), 1–27.
    Clopper, C. J. & Pearson, E. S. (1934). Biometrika 26, 404–413.
    """
    d = check_delta(delta)
    _check_method(method)
    x, w = check_bounded_values(values, sample_weight)
    n = int(x.size)
    if w is None:
        estimate = float(np.mean(x))
        n_eff = float(n)
    else:
        total = float(w.sum())
        estimate = float(np.dot(w, x) / total)
        n_eff = total**2 / float(np.dot(w, w))
    estimate = min(1.0, max(0.0, estimate))

    if method == "hoeffding":
        h = math.sqrt(math.log(2.0 / d) / (2.0 * n_eff))
        lower, upper = estimate - h, estimate + h
    elif method == "bernstein":
        if n < 2:
            lower, upper = 0.0, 1.0
        else:
            lg = math.log(4.0 / d)
            var = float(np.var(x, ddof=1))
            if w is None:
                h = math.sqrt(2.0 * var * lg / n) + 7.0 * lg / (3.0 * (n - 1))
            else:
                b = float(w.max() / w.sum())
                h = (
                    math.sqrt(2.0 * var * lg / n_eff)
                    + 2.0 * lg * math.sqrt(n / n_eff) / (n - 1)
                    + n * b * lg / (3.0 * (n - 1))
                )
            lower, upper = estimate - h, estimate + h
    elif method == "clopper-pearson":
        if w is not None and not np.all(w == w[0]):
            raise FaroUsageError(
                "bound 'clopper-pearson' needs unweighted values; these carry unequal sample_weight "
                "(clusters of several rows or row weights): use --bound betting, bernstein or hoeffding"
            )
        nonbinary = np.flatnonzero((x != 0.0) & (x != 1.0) & (x != 0.5))
        if nonbinary.size:
            raise FaroUsageError(
                f"bound 'clopper-pearson' needs hard outcomes (0, 1, ties 1/2); found {nonbinary.size} other value(s), first "
                f"{x[nonbinary[0]]:g} at position {nonbinary[0]} (soft outcomes or cluster averages): "
                "use --bound auto, betting, bernstein or hoeffding"
            )
        lower, upper = _clopper_pearson(x, d)
    else:  # betting
        if order not in ("permute", "given"):
            raise FaroUsageError(f"order={order!r}: use 'permute' or 'given'")
        lower, upper = betting_interval(
            x, w, delta=d, estimate=estimate, n_eff=n_eff, rng=generator(random_state) if order == "permute" else None
        )

    lower = max(0.0, min(lower, estimate))
    upper = min(1.0, max(upper, estimate))
    return Interval(lower=float(lower), upper=float(upper), estimate=estimate, n=n, n_eff=float(n_eff), method=method, delta=d)


def half_width(n: float, *, delta: float, method: Method | str, variance: float = 0.25) -> float:
    """Approximate half-width of a bound at ``n`` (effective) values; used for "rows needed".

    Parameters
    ----------
    n : float
        Effective number of values (clusters), ≥ 1.
    delta : float
        Miscoverage level in (0, 1).
    method : str
        One of :data:`METHODS`.
    variance : float
        Per-value variance V in [0, 1/4] (ignored by ``hoeffding``).

    Returns
    -------
    float
        * hoeffding: sqrt(ln(2/δ) / (2n)) (exact).
        * bernstein: sqrt(2 V ln(4/δ) / n) + 7 ln(4/δ) / (3(n − 1)) (exact given V; inf for n ≤ 1).
        * betting: ``BETTING_WIDTH_FACTOR`` · sqrt(2 V ln(2/δ) / n) +
          ``BETTING_WIDTH_OFFSET`` · ln(2/δ) / n. The leading term is the asymptotic half-width
          of the betting interval (WSR 2024 §5.1 with θ = 1/2); factor and offset are
          calibrated against :func:`mean_interval` (docs/statistics.md).
        * clopper-pearson: the larger one-sided extent of the exact interval at a proportion p
          with p(1 − p) = V, count p·n (continuous in n, via scipy's beta quantiles).
        Capped at 1.
    """
    d = check_delta(delta)
    _check_method(method)
    n = float(n)
    if not n > 0:
        raise FaroUsageError(f"n={n:g}: the number of values must be positive")
    v = float(variance)
    if not 0.0 <= v <= 0.25 + 1e-12:
        raise FaroUsageError(f"variance={v:g}: the variance of values in [0, 1] lies in [0, 0.25]")
    v = min(v, 0.25)
    if method == "hoeffding":
        h = math.sqrt(math.log(2.0 / d) / (2.0 * n))
    elif method == "bernstein":
        if n <= 1:
            return 1.0
        lg = math.log(4.0 / d)
        h = math.sqrt(2.0 * v * lg / n) + 7.0 * lg / (3.0 * (n - 1))
    elif method == "betting":
        h = betting_half_width(n, d, v)
    else:
        p = 0.5 * (1.0 - math.sqrt(max(0.0, 1.0 - 4.0 * v)))
        k = p * n
        # Beta quantiles (Clopper & Pearson 1934) via the inverse regularised incomplete beta.
        lo = float(special.betaincinv(k, n - k + 1.0, d / 2.0)) if k > 0 else 0.0
        hi = float(special.betaincinv(k + 1.0, n - k, 1.0 - d / 2.0)) if k < n else 1.0
        h = max(p - lo, hi - p)
    return float(min(h, 1.0))
