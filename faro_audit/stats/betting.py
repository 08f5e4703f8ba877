"""The Waudby-Smith–Ramdas betting confidence interval for a mean in [0, 1] (SPEC §5.2).

The hedged capital process of Waudby-Smith & Ramdas (2024, JRSS-B 86(1), "Estimating means of
bounded random variables by betting", Thm 3 and §5.1) with predictable plug-in bets tuned for a
fixed sample size:

    K⁺_n(m) = Π_{i≤n} (1 + min(λ_i, c/m) s_i (x_i − m)),
    K⁻_n(m) = Π_{i≤n} (1 − min(λ_i, c/(1−m)) s_i (x_i − m)),

and the interval {m : max_{t≤n} max(θ K⁺_t(m), (1−θ) K⁻_t(m)) < 1/δ} (running intersection), c = 0.9, θ = 1/2, s_i = w_i / max w
(s ≡ 1 without weights). :func:`betting_interval` computes its endpoints; it is the ``betting``
method of :func:`faro_audit.stats.bounds.mean_interval`, which checks the inputs and documents
the validity argument. :func:`betting_half_width` is the calibrated approximation of its
half-width used by ``half_width`` ("rows needed").
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "BETTING_WIDTH_FACTOR",
    "BETTING_WIDTH_OFFSET",
    "betting_half_width",
    "betting_interval",
]

# Truncation c < 1 of the bets (any c < 1 keeps every factor >= 1 - c > 0, so validity holds; WSR 2024 §5.1
# suggest 1/2 or 3/4; 0.9 measured tighter for low-variance outcomes near the boundary: bench/bench_certify.py).
_BET_TRUNCATION = 0.9
# Weight (in values) of the worst-case prior variance 1/4 in the running variance estimate.
_PRIOR_WEIGHT = 1.0
_THETA = 0.5
# Elements (rows × candidate points) per chunk of the log-capital evaluation.
_CHUNK_ELEMENTS = 1 << 18

# half_width(method="betting") = FACTOR * sqrt(2 V ln(2/δ) / n) + OFFSET * ln(2/δ) / n,
# calibrated against the computed betting interval (see docs/statistics.md, tests/stats).
BETTING_WIDTH_FACTOR = 0.83
BETTING_WIDTH_OFFSET = 0.25


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
    sigma2 = (_PRIOR_WEIGHT * 0.25 + np.cumsum(s * (x - mu) ** 2)) / (_PRIOR_WEIGHT + cs)
    sigma2_prev = np.concatenate(([0.25], sigma2[:-1]))
    return np.sqrt(2.0 * log_threshold / (float(np.sum(s * s)) * sigma2_prev))


def _log_capital(
    x: np.ndarray, s: np.ndarray | None, lam: np.ndarray, m_lower: np.ndarray, m_upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """max_{t≤n} log K⁺_t(m) for m in ``m_lower`` and max_{t≤n} log K⁻_t(m) for m in ``m_upper``.

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
    # Running intersection over time (Waudby-Smith & Ramdas 2024, §3): m is rejected once the
    # capital has reached the threshold at any t ≤ n, so the running maximum of log-capital is
    # kept. Valid for a confidence sequence (Ville's inequality), hence also at the final time.
    best = np.zeros(k)
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
        np.cumsum(d, axis=0, out=d)
        d += total[None, :]
        np.maximum(best, d.max(axis=0), out=best)
        total = d[-1].copy()
    return best[:k_lo], best[k_lo:]


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


def betting_half_width(n: float, delta: float, variance: float) -> float:
    """Approximate half-width of the betting interval at ``n`` (effective) values.

    The leading term is the asymptotic half-width of the hedged betting interval (WSR 2024
    §5.1, θ = 1/2); factor and offset are calibrated against :func:`betting_interval`
    (docs/statistics.md). Inputs are not checked (callers do).

    Parameters
    ----------
    n : float
        Effective number of values, > 0.
    delta : float
        Two-sided miscoverage in (0, 1).
    variance : float
        Per-value variance V in [0, 1/4].

    Returns
    -------
    float
        h = ``BETTING_WIDTH_FACTOR`` · sqrt(2 V ln(2/δ) / n) + ``BETTING_WIDTH_OFFSET`` · ln(2/δ) / n.
    """
    lg = math.log(2.0 / delta)
    return BETTING_WIDTH_FACTOR * math.sqrt(2.0 * variance * lg / n) + BETTING_WIDTH_OFFSET * lg / n


def betting_interval(
    x: np.ndarray,
    sample_weight: np.ndarray | None,
    *,
    delta: float,
    estimate: float,
    n_eff: float,
    rng: np.random.Generator | None,
) -> tuple[float, float]:
    """Endpoints (lower, upper) of the hedged betting interval at level 1 − δ (WSR 2024, Thm 3).

    The capital processes run over the values in the order ``x[rng.permutation(n)]`` (the given
    order when ``rng`` is None, as in a sequential audit where the order is the random order
    of scoring), and the interval is the running intersection over t ≤ n of the confidence
    sequence, so it is valid at the final time and at every earlier time.

    Validity. Let the rows be i.i.d. (or exchangeable) given the weights, in any order: then
    the permuted sequence is i.i.d. and each capital process is a non-negative martingale at
    the true mean, so by Ville's inequality P(∃t: θK⁺_t ≥ 1/δ) ≤ θδ and likewise for K⁻. If the
    input order is arbitrary (sorted, say), a uniformly random permutation drawn independently
    of the data makes the sequence exchangeable, and the guarantee holds over the data and the
    permutation (seed recorded in the report). Sorting the values first, as earlier versions
    did, makes the order a function of the data and voids that argument (docs/statistics.md).

    The bets use s_i = w_i / max w: with cluster values x_c (cluster means) and weights W_c
    (summed row weights) each factor is 1 + λ_c Z_c(m) / max W with Z_c(m) = W_c (x_c − m) =
    Σ_{i∈c} w_i (o_i − m), the cluster total of SPEC §5.1, whose mean is 0 at the row mean m of
    i.i.d. clusters: the interval is the test inversion on cluster totals. The search (see
    ``_betting_endpoints``) starts from the predicted half-width :func:`betting_half_width`
    and Hoeffding's half-width sqrt(ln(2/δ) / (2 n_eff)) as scale.

    Parameters
    ----------
    x : ndarray of shape (n,)
        Checked values in [0, 1].
    sample_weight : ndarray of shape (n,) or None
        Checked non-negative weights with a positive sum.
    delta : float
        Miscoverage level in (0, 1).
    estimate : float
        The (weighted) mean x̄, clipped to [0, 1].
    n_eff : float
        Kish effective sample size (Σw)² / Σw² (n without weights).
    rng : numpy.random.Generator or None
        Source of the permutation; None keeps the given order.

    Returns
    -------
    (lower, upper) : tuple of float
        Not yet clipped to [0, 1] or widened to contain the estimate (``mean_interval`` does).
    """
    n = int(x.size)
    w = sample_weight
    perm = np.arange(n) if rng is None else rng.permutation(n)
    xs = x[perm]
    s = None if w is None else w[perm] / float(w.max())
    scale = max(math.sqrt(math.log(2.0 / delta) / (2.0 * n_eff)), 1e-9)
    var = float(np.var(x)) if w is None else float(np.dot(w, (x - estimate) ** 2) / w.sum())
    guess = betting_half_width(n_eff, delta, var)
    return _betting_endpoints(xs, s, delta, estimate, guess, scale)
