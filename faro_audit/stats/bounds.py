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
    tuned for a fixed sample size.
``clopper-pearson``
    the exact binomial interval (statsmodels ``proportion_confint(method="beta")``), for values
    in {0, 1} without weights.

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
from statsmodels.stats.proportion import proportion_confint

from faro_audit.errors import FaroInputError, FaroUsageError

__all__ = [
    "BETTING_WIDTH_FACTOR",
    "BETTING_WIDTH_OFFSET",
    "METHODS",
    "Interval",
    "half_width",
    "mean_interval",
]

Method = Literal["hoeffding", "bernstein", "betting", "clopper-pearson"]
METHODS: tuple[str, ...] = ("hoeffding", "bernstein", "betting", "clopper-pearson")

# Betting: truncation c of the bets (WSR 2024 §5.1 suggest c = 1/2 or 3/4) and the hedge θ.
_BET_TRUNCATION = 0.5
_THETA = 0.5
# Elements (rows × candidate points) per chunk of the log-capital evaluation.
_CHUNK_ELEMENTS = 1 << 18
# Values this close outside [0, 1] are float round-off (e.g. a mean of ones) and are clipped.
_TOLERANCE = 1e-12

# half_width(method="betting") = FACTOR * sqrt(2 V ln(2/δ) / n) + OFFSET * ln(2/δ) / n,
# calibrated against the computed betting interval (see docs/statistics.md, tests/stats).
BETTING_WIDTH_FACTOR = 1.0
BETTING_WIDTH_OFFSET = 0.5


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


def _check_delta(delta: float) -> float:
    try:
        d = float(delta)
    except (TypeError, ValueError):
        raise FaroUsageError(f"delta={delta!r} is not a number; give a level in (0, 1), e.g. 0.05") from None
    if not 0.0 < d < 1.0:
        raise FaroUsageError(f"delta={d:g} is outside (0, 1); give a miscoverage level such as 0.05")
    return d


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise FaroUsageError(f"bound {method!r} is unknown; use one of {', '.join(METHODS)}")
    return method


def _check_values(values: ArrayLike, sample_weight: ArrayLike | None) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        x = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise FaroInputError("values: could not be read as numbers; pass a 1-D array of outcomes in [0, 1]") from None
    if x.ndim != 1:
        raise FaroInputError(f"values: expected a 1-D array, got shape {x.shape}; pass one outcome per cluster")
    if x.size == 0:
        raise FaroInputError("values: empty; a confidence interval needs at least one value")
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise FaroInputError(
            f"values: {bad.size} non-finite value(s), first at position {bad[0]}; remove or fill them before certifying"
        )
    out = np.flatnonzero((x < -_TOLERANCE) | (x > 1.0 + _TOLERANCE))
    if out.size:
        raise FaroInputError(
            f"values: {out.size} value(s) outside [0, 1], first {x[out[0]]:g} at position {out[0]}; "
            "bounds need outcomes in [0, 1] (use soft or hard outcomes, not raw rewards)"
        )
    x = np.clip(x, 0.0, 1.0)
    if sample_weight is None:
        return x, None
    try:
        w = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise FaroInputError("sample_weight: could not be read as numbers; pass one non-negative weight per value") from None
    if w.shape != x.shape:
        raise FaroInputError(f"sample_weight: shape {w.shape} does not match values {x.shape}; pass one weight per value")
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.size:
        raise FaroInputError(
            f"sample_weight: {bad.size} negative or non-finite weight(s), first {w[bad[0]]!r} at position {bad[0]}; "
            "weights must be finite and >= 0"
        )
    if not w.sum() > 0:
        raise FaroInputError("sample_weight: all weights are 0; at least one value must carry weight")
    return x, w


def _rng(random_state: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is not None and not isinstance(random_state, (int, np.integer)):
        raise FaroUsageError(f"random_state={random_state!r}: give an integer seed (or a numpy Generator)")
    return np.random.default_rng(random_state)


# ---------------------------------------------------------------------------------------------
# Betting (Waudby-Smith & Ramdas 2024)
# ---------------------------------------------------------------------------------------------


def _betting_lambdas(x: np.ndarray, s: np.ndarray, log_threshold: float) -> np.ndarray:
    """Predictable plug-in bets λ_t (WSR 2024 eq. 26, fixed-n tuning of §5.1).

    μ̂_t = (1/2 + Σ_{i≤t} s_i x_i) / (1 + Σ_{i≤t} s_i),
    σ̂²_t = (1/4 + Σ_{i≤t} s_i (x_i − μ̂_i)²) / (1 + Σ_{i≤t} s_i),
    λ_t = sqrt(2 ln(2/δ) / (σ̂²_{t−1} Σ_i s_i²)).
    With s ≡ 1 this is the paper's λ_t = sqrt(2 ln(2/δ) / (n σ̂²_{t−1})); the weighted form
    replaces n by Σ s_i², the variance factor of the weighted capital process.
    """
    cs = np.cumsum(s)
    mu = (0.5 + np.cumsum(s * x)) / (1.0 + cs)
    sigma2 = (0.25 + np.cumsum(s * (x - mu) ** 2)) / (1.0 + cs)
    sigma2_prev = np.concatenate(([0.25], sigma2[:-1]))
    return np.sqrt(2.0 * log_threshold / (float(np.sum(s * s)) * sigma2_prev))


def _log_capital(
    x: np.ndarray, s: np.ndarray | None, lam: np.ndarray, m_lower: np.ndarray, m_upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """log K⁺_n(m) for m in ``m_lower`` and log K⁻_n(m) for m in ``m_upper``.

    K⁺_n(m) = Π_{i≤n} (1 + min(λ_i, c/m) s_i (x_i − m)) grows when the mean is above m;
    K⁻_n(m) = Π_{i≤n} (1 − min(λ_i, c/(1−m)) s_i (x_i − m)) grows when it is below m. The
    truncation keeps every factor ≥ 1 − c > 0. K⁻ on x at m equals K⁺ on 1 − x at 1 − m, so
    both are one computation on the columns [x − m_lower | (1 − x) − (1 − m_upper)]. Evaluated
    in log space, in chunks of rows so memory stays O(chunk × columns).
    """
    n = x.size
    mu = np.concatenate((m_lower, 1.0 - m_upper))
    k_lo = m_lower.size
    k = mu.size
    if k == 0:
        return np.empty(0), np.empty(0)
    cap = np.full(k, np.inf)
    pos = mu > 0
    with np.errstate(over="ignore"):  # m within 1e-308 of 0: cap = inf, as at m = 0
        cap[pos] = _BET_TRUNCATION / mu[pos]
    rows = max(1, _CHUNK_ELEMENTS // k)
    # Where no cap binds (the usual case away from m = 0), the bet is λ_i s_i for every column.
    bets = lam if s is None else lam * s
    capped = bool(np.min(cap) < np.max(lam))
    total = np.zeros(k)
    buf_bet = np.empty((min(rows, n), k)) if capped else None
    buf_d = np.empty((min(rows, n), k))
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        r = stop - start
        d = buf_d[:r]
        xs = x[start:stop, None]
        np.subtract(xs, mu[None, :k_lo], out=d[:, :k_lo])
        np.subtract(1.0 - xs, mu[None, k_lo:], out=d[:, k_lo:])
        if capped:
            bet = buf_bet[:r]  # type: ignore[index]
            np.minimum(lam[start:stop, None], cap[None, :], out=bet)
            if s is not None:
                bet *= s[start:stop, None]
            np.multiply(bet, d, out=d)
        else:
            np.multiply(bets[start:stop, None], d, out=d)
        d += 1.0
        np.log(d, out=d)  # log(1 + bet·(x − m)); faster than log1p, error ≪ 1e-12 per term
        total += d.sum(axis=0)
    return total[:k_lo], total[k_lo:]


# Offsets (in bracket widths) around the interpolated root where a refinement round looks.
_REFINE = np.array([-0.1, -0.01, -0.001, 0.0, 0.001, 0.01, 0.1])
# For many values log-capital is smooth and the interpolation accurate: fewer points per round.
_REFINE_LARGE = np.array([-0.01, 0.0, 0.01])
_LARGE = 20_000


def _betting_endpoints(
    x: np.ndarray, s: np.ndarray | None, delta: float, estimate: float, guess: float, scale: float
) -> tuple[float, float]:
    """Endpoints of {m : max(θK⁺_n(m), (1−θ)K⁻_n(m)) < 1/δ} (θ = 1/2).

    K⁺_n(m) is non-increasing and K⁻_n(m) non-decreasing in m (each factor is, including the
    m-dependent truncation), so each side rejects a half-line and the set is an interval. The
    lower endpoint is bracketed by a coarse grid below the estimate, dense around ``guess``
    (the predicted half-width) with a few points out to multiples of ``scale`` (Hoeffding's);
    each refinement round evaluates a grid of points clustered around the linear
    interpolation of log-capital inside the bracket (vectorised over points and values) and
    keeps the smallest bracket; it stops when the bracket is narrower than 1e-4 of the distance
    to the estimate. The rejected end of the final bracket is returned, so the interval is
    never narrower than the exact set. The upper endpoint is the same search on 1 − x.
    """
    log_thr = math.log(1.0 / (_THETA * delta))
    lam = _betting_lambdas(x, np.ones_like(x) if s is None else s, log_thr)
    offsets = np.concatenate((guess * np.array([0.0, 0.6, 0.85, 0.95, 1.05, 1.2, 1.5]), scale * np.array([1.0, 2.5])))
    # Work in "distance below the estimate" coordinates for both sides: side 0 is the lower
    # endpoint on x, side 1 the lower endpoint of 1 − x (= 1 − upper endpoint).
    centre = (estimate, 1.0 - estimate)
    cands = [np.unique(np.clip(np.concatenate((c - offsets, [0.0])), 0.0, 1.0)) for c in centre]
    # bracket: (a, g(a)) rejected with a below, (b, g(b)) accepted above; m = 1 is never
    # rejected (every factor of K⁺(1) is ≤ 1).
    brackets: list[list[float] | None] = [None, None]
    result: list[float | None] = [None, None]
    known = [(1.0, -np.inf), (1.0, -np.inf)]
    for _round in range(60):
        if all(r is not None for r in result):
            break
        g_lo, g_hi = _log_capital(x, s, lam, cands[0], 1.0 - cands[1])
        for j, (c, g) in enumerate(((cands[0], g_lo), (cands[1], g_hi))):
            if result[j] is not None:
                continue
            rej = g >= log_thr
            br = brackets[j]
            if br is None:
                if not rej.any():  # even m = 0 is accepted
                    result[j] = 0.0
                    continue
                ia = int(np.flatnonzero(rej).max())
                a, ga = float(c[ia]), float(g[ia])
                acc = ~rej & (c > a)
                if acc.any():
                    ib = int(np.flatnonzero(acc).min())
                    b, gb = float(c[ib]), float(g[ib])
                else:
                    b, gb = known[j]
                br = [a, ga, b, gb]
            else:
                for v, gv, rv in zip(c, g, rej):
                    if rv and v > br[0]:
                        br[0], br[1] = float(v), float(gv)
                    elif not rv and v < br[2]:
                        br[2], br[3] = float(v), float(gv)
            brackets[j] = br
            a, ga, b, gb = br
            if b - a <= max(1e-4 * abs(centre[j] - a), 1e-12):
                result[j] = a
                continue
            if np.isfinite(gb) and ga > gb:
                root = a + (b - a) * (ga - log_thr) / (ga - gb)
            else:
                root = 0.5 * (a + b)
            pts = root + (b - a) * (_REFINE_LARGE if x.size > _LARGE else _REFINE)
            pts = pts[(pts > a) & (pts < b)]
            cands[j] = np.unique(np.concatenate((pts, [0.5 * (a + b)])))
        for j in range(2):
            if result[j] is not None:
                cands[j] = np.empty(0)
    lo = result[0] if result[0] is not None else (brackets[0][0] if brackets[0] else 0.0)
    hi = result[1] if result[1] is not None else (brackets[1][0] if brackets[1] else 0.0)
    return float(lo), float(1.0 - hi)


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
      K⁺_n(m) = Π (1 + λ⁺_i s_i (x_i − m)), K⁻_n(m) = Π (1 − λ⁻_i s_i (x_i − m)), with
      λ^±_i the predictable plug-in bet (fixed-n tuning, §5.1) truncated at c/m and c/(1−m),
      c = 1/2, θ = 1/2, s_i = w_i / max w (s ≡ 1 without weights). The interval is
      {m : max(θ K⁺_n(m), (1−θ) K⁻_n(m)) < 1/δ}: by Markov's inequality at n (Ville's at
      any time), the true mean is excluded with probability ≤ δ. With weights, each factor
      has conditional mean 1 when the values are i.i.d. with mean m given the (fixed)
      weights, so the same argument applies. The values are sorted canonically and then put
      in a seeded random order, so the result does not depend on the input order. The
      guarantee is exact when that order is uniformly random; with a fixed seed the order
      dependence enters only through the first bets (second order), and coverage at the
      default seed is checked by simulation (tests/stats/test_validity_simulation.py). The
      running intersection over t ≤ n is deliberately not taken: with a fixed arrangement of
      the sorted sample its path is nearly deterministic and coverage fails
      (docs/statistics.md).
    * clopper-pearson: exact binomial interval (statsmodels ``proportion_confint``,
      ``method="beta"``) for values in {0, 1} and no (or constant) weights.

    The endpoints are clipped to [0, 1] and widened, if needed, to contain the estimate
    (widening never hurts coverage).

    References
    ----------
    Hoeffding, W. (1963). JASA 58, 13–30. Maurer, A. & Pontil, M. (2009). Empirical Bernstein
    bounds and sample variance penalization. COLT. Waudby-Smith, I. & Ramdas, A. (2024).
    Estimating means of bounded random variables by betting. JRSS-B 86(1), 1–27.
    Clopper, C. J. & Pearson, E. S. (1934). Biometrika 26, 404–413.
    """
    d = _check_delta(delta)
    _check_method(method)
    x, w = _check_values(values, sample_weight)
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
        nonbinary = np.flatnonzero((x != 0.0) & (x != 1.0))
        if nonbinary.size:
            raise FaroUsageError(
                f"bound 'clopper-pearson' needs values in {{0, 1}}; found {nonbinary.size} other value(s), first "
                f"{x[nonbinary[0]]:g} at position {nonbinary[0]} (soft outcomes, ties counted 1/2 or cluster "
                "averages): use --bound betting, bernstein or hoeffding"
            )
        count = int(np.sum(x))
        lo, hi = proportion_confint(count, n, alpha=d, method="beta")
        lower, upper = float(lo), float(hi)
    else:  # betting
        rng = _rng(random_state)
        if w is None:
            xs = np.sort(x)[rng.permutation(n)]
            s = None
        else:
            order = np.lexsort((w, x))
            perm = rng.permutation(n)
            xs = x[order][perm]
            ws = w[order][perm]
            s = ws / float(ws.max())
        scale = max(math.sqrt(math.log(2.0 / d) / (2.0 * n_eff)), 1e-9)
        var = float(np.var(x)) if w is None else float(np.dot(w, (x - estimate) ** 2) / w.sum())
        guess = _betting_half_width(n_eff, d, var)
        lower, upper = _betting_endpoints(xs, s, d, estimate, guess, scale)

    lower = max(0.0, min(lower, estimate))
    upper = min(1.0, max(upper, estimate))
    return Interval(lower=float(lower), upper=float(upper), estimate=estimate, n=n, n_eff=float(n_eff), method=method, delta=d)


def _betting_half_width(n: float, delta: float, variance: float) -> float:
    lg = math.log(2.0 / delta)
    return BETTING_WIDTH_FACTOR * math.sqrt(2.0 * variance * lg / n) + BETTING_WIDTH_OFFSET * lg / n


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
    d = _check_delta(delta)
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
        h = _betting_half_width(n, d, v)
    else:
        p = 0.5 * (1.0 - math.sqrt(max(0.0, 1.0 - 4.0 * v)))
        k = p * n
        # Beta quantiles (Clopper & Pearson 1934) via the inverse regularised incomplete beta.
        lo = float(special.betaincinv(k, n - k + 1.0, d / 2.0)) if k > 0 else 0.0
        hi = float(special.betaincinv(k + 1.0, n - k, 1.0 - d / 2.0)) if k < n else 1.0
        h = max(p - lo, hi - p)
    return float(min(h, 1.0))
