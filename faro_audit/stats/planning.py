"""Sample-size planning for certificates (SPEC §5.8): rows per group that decide a constraint.

For one constraint gap ≤ ε, an assumed true gap g and an outcome standard deviation σ,
:func:`plan_constraint` finds the smallest n (rows per group; twin sets for a paired or cf
design) at which :func:`faro_audit.stats.certificates.certify` decides the constraint
correctly — ``certified`` when g < ε, ``violated`` when g > ε — with probability ≥ the stated
power. Everything here is pure: numbers in, a frozen :class:`Plan` out; no I/O.

Model
-----
δ is spent as in :mod:`faro_audit.stats.allocation`: J constraints give δ_j = δ / J, each side
(UCB, LCB) gets α = δ_j / 2, and each bound entering a side is one-sided at

========================  ======================  ===========================
design / gap              UCB side, each bound     LCB side, each bound
========================  ======================  ===========================
unpaired, between groups  α / 2                   α / (2 K C)
unpaired, anchored        α / K                   α / (2 K C)
paired, between groups    α                       α / (K (K − 1) C)
paired, anchored          α                       α / (2 K C)
cf (mean spread)          α                       α
========================  ======================  ===========================

(K groups, C label classes of EO.) A one-sided bound at level a is the end of the two-sided
interval at 2a, whose half-width at n_c independent values of variance V is
h(n_c, a) = :func:`faro_audit.stats.bounds.half_width` (n_c, delta=2a, V). Clusters of m rows
with intra-cluster correlation ρ are the bound's values: n_c = n / m cluster means of variance
σ² · deff / m, deff = 1 + (m − 1) ρ (Kish's design effect), so a variance-adaptive bound
(betting, bernstein) sees n / deff effective rows and Hoeffding sees n / m clusters.

The gap estimate of the worst pair of groups is normal, D ~ N(g, se²), with
se = σ · sqrt(2 deff / n) between two groups (unpaired), σ · sqrt(deff (K − 1) / (K n)) for the
anchored gap with equal shares, σ_d · sqrt(deff / n) for a paired contrast (σ_d the sd of the
within-set contrast) and σ · sqrt(deff / n) for the mean cf spread. The bounds sit at fixed
extents from the estimate: UCB = |D| + e_U, LCB = |D| − e_L, with e = 2h (box of two group
intervals, between groups), 2 (1 − 1/K) h (anchored box) or h (paired contrast, cf spread;
contrasts in [−1, 1] are bounded as (d + 1)/2, so h is doubled and V = σ_d² / 4). Then

    P(certified) = Φ((ε − e_U − g) / se) − Φ((−(ε − e_U) − g) / se),
    P(violated)  = Φ((g − ε − e_L) / se) + Φ((−(ε + e_L) − g) / se)

(cf has no absolute value: the second terms drop). For g well inside (0, ε) the first is the
rule g + z_power · se + e_U ≤ ε. The planned n is the smallest with P ≥ power; a certification
also needs every group to reach ``min_group_size`` rows (SPEC §4).

With K > 2 groups the estimate is the range (or the largest deviation from the pooled mean) of
K normal group estimates, each N(μ_a, τ² deff / n) (τ = σ unpaired; σ_d / √2 for paired
pairwise contrasts, which is what a set effect plus independent per-group noise gives), and
P is computed by a fixed-seed Monte Carlo (20,000 draws) with no Bonferroni step. For a
certification the true means are split between the two ends of the gap (the worst case for the
range); for a violation only the extreme pair is counted (the others in the middle).

The betting bound has no closed-form width: ``half_width`` approximates it (within about
±10%), and the plan is refined against the computed bound (``calibrate``): the one-sided
extents of :func:`faro_audit.stats.bounds.mean_interval` on a representative sample (Beta
quantiles of the planned variance, min(n, 20,000) values) under 8–32 seeded permutations give
ratios to ``half_width``, over which P is averaged; larger n reuse the ratio at 20,000.

If even ``max_n`` rows per group (default 10⁶; with a pilot the CLI lowers it to 100× the
pilot's rows, SPEC §5.8) would not reach the power, or g = ε, the gap sits on ε within the
bound's resolution: the plan says "undecidable near ε" and gives no n (SPEC §5.8: never a
number in the millions).

:func:`pilot_estimates` and :func:`cf_pilot_estimates` (:mod:`faro_audit.stats.pilot`,
re-exported here) turn pilot outcomes (numpy arrays) into the g, σ, ρ and m a plan needs; the
power model and the betting calibration are :mod:`faro_audit.stats.power`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from faro_audit.errors import FaroUsageError
from faro_audit.stats.bounds import half_width, resolve_bound
from faro_audit.stats.checks import check_delta
from faro_audit.stats.pilot import PilotEstimate, cf_pilot_estimates, pilot_estimates
from faro_audit.stats.power import GapModel, betting_ratios, smallest_true
from faro_audit.vocabulary import BOUND_METHODS, METRIC_METHODS, OUTCOMES

__all__ = [
    "DEFAULT_MAX_N",
    "PilotEstimate",
    "Plan",
    "cf_pilot_estimates",
    "one_sided_levels",
    "pilot_estimates",
    "plan_constraint",
    "worst_case_sd",
]

#: Beyond this many rows (twin sets) per group a plan reports "undecidable near ε" (SPEC §5.8:
#: never a number in the millions).
DEFAULT_MAX_N = 10**6
_METHODS = METRIC_METHODS
_SATURATION = 0.5  # SPEC §2: above this share of saturated rows the soft gap is uninformative


@dataclass(frozen=True)
class Plan:
    """The rows per group that decide one constraint (SPEC §5.8).

    Attributes
    ----------
    metric, method, outcome, epsilon
        The constraint (``method`` ``mean_spread`` for cf).
    design : {"paired", "unpaired", "twin-set spreads"}
    true_gap, sd : float
        Assumed gap g and standard deviation σ (of a group's outcome; of the within-set
        contrast for ``paired``; of the twin-set spread for cf).
    n_groups, n_classes : int
        K groups; C label classes (EO of a responses table: 2).
    delta, delta_j, power : float
        Joint δ, this constraint's share δ_j = δ / J, and the power asked for.
    bound : str
        The bound after ``auto`` was resolved.
    level_upper, level_lower : float
        One-sided level of each bound on the UCB and on the LCB side.
    icc, cluster_size, design_effect : float
        ρ, m and deff = 1 + (m − 1) ρ.
    target : {"certified", "violated"} or None
        The correct verdict at g (None when g = ε).
    status : {"planned", "undecidable", "saturated"}
    n : int or None
        Rows per group (paired, cf: twin sets) that decide the constraint with the power;
        None unless ``status == "planned"``.
    n_clusters : int or None
        Clusters per group at ``n`` (n / m, rounded up).
    n_effective : float or None
        n / deff.
    achieved_power : float or None
        P(correct verdict) at ``n`` under the normal model.
    se, extent : float or None
        Standard error of the gap estimate and the extent of the deciding bound from the
        estimate (e_U for certification, e_L for violation) at ``n``.
    unit : str
        ``rows per group``, ``twin sets`` or, for EO, ``rows per group in each label class``.
    reason : str
        One line saying what decides it, or why nothing does.
    """

    metric: str
    method: str
    outcome: str
    epsilon: float
    design: str
    true_gap: float
    sd: float
    n_groups: int
    n_classes: int
    delta: float
    delta_j: float
    power: float
    bound: str
    level_upper: float
    level_lower: float
    icc: float
    cluster_size: float
    design_effect: float
    target: str | None
    status: str
    n: int | None
    n_clusters: int | None
    n_effective: float | None
    achieved_power: float | None
    se: float | None
    extent: float | None
    unit: str
    reason: str

    def as_dict(self) -> dict[str, object]:
        """JSON-ready fields.

        Returns
        -------
        dict
            field name → value, every field of the plan.
        """
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def worst_case_sd(metric: str, design: str) -> float:
    """σ when nothing is known (the largest standard deviation the values can have).

    Parameters
    ----------
    metric : {"dp", "eo", "cf"}
    design : {"paired", "unpaired", "twin-set spreads"}

    Returns
    -------
    float
        1/2 for values in [0, 1], 1 for a paired contrast in [−1, 1].
    """
    return 1.0 if design == "paired" and metric != "cf" else 0.5


def one_sided_levels(metric: str, method: str, design: str, *, n_groups: int, delta_j: float,
                     n_classes: int = 1) -> tuple[float, float]:
    """One-sided level of each bound on the UCB side and on the LCB side (module table).

    Parameters
    ----------
    metric : {"dp", "eo", "cf"}
    method : {"between_groups", "to_overall", "mean_spread"}
    design : {"paired", "unpaired", "twin-set spreads"}
    n_groups : int
        K.
    delta_j : float
        The constraint's share of δ; α = δ_j / 2 per side.
    n_classes : int
        C label classes (the LCB side is split over them).

    Returns
    -------
    (upper, lower) : tuple of float
        e.g. unpaired between groups: (α/2, α/(2KC)); paired between groups: (α, α/(K(K−1)C)).
    """
    alpha = delta_j / 2.0
    k, c = int(n_groups), int(n_classes)
    if metric == "cf":
        return alpha, alpha
    if design == "paired":
        low = alpha / (k * (k - 1) * c) if method == "between_groups" else alpha / (2 * k * c)
        return alpha, low
    up = alpha / 2.0 if method == "between_groups" else alpha / k
    return up, alpha / (2 * k * c)


def _number(name: str, value: object, lo: float, hi: float, *, lo_open: bool = False,
            hi_open: bool = False) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FaroUsageError(f"{name}={value!r} is not a number") from None
    if not math.isfinite(v) or v < lo or v > hi or (lo_open and v == lo) or (hi_open and v == hi):
        left, right = "(" if lo_open else "[", ")" if hi_open else "]"
        raise FaroUsageError(f"{name}={v:g} is outside {left}{lo:g}, {hi:g}{right}")
    return v


def plan_constraint(
    *,
    metric: str,
    method: str,
    epsilon: float,
    true_gap: float,
    sd: float | None = None,
    n_groups: int = 2,
    n_classes: int = 1,
    outcome: str = "soft",
    design: str = "unpaired",
    delta: float = 0.05,
    n_constraints: int = 1,
    power: float = 0.8,
    bound: str = "auto",
    icc: float = 0.0,
    cluster_size: float = 1.0,
    min_group_size: int = 30,
    max_n: int = DEFAULT_MAX_N,
    saturated_share: float | None = None,
    calibrate: bool = True,
) -> Plan:
    """Rows per group (twin sets) at which the bound decides one constraint with ``power``.

    Parameters
    ----------
    metric : {"dp", "eo", "cf"}
    method : {"between_groups", "to_overall"} (dp, eo) or "mean_spread" (cf)
    epsilon : float in (0, 1]
    true_gap : float in [0, 1]
        Assumed true gap g.
    sd : float, optional
        σ of a group's outcome (unpaired), of the within-set contrast (paired) or of the
        twin-set spread (cf); default the worst case (:func:`worst_case_sd`).
    n_groups : int ≥ 2
    n_classes : int ≥ 1
        Label classes over which the LCB side is split (EO of a responses table: 2).
    outcome : {"soft", "hard"}
    design : {"unpaired", "paired"}
        Ignored for cf (twin-set spreads).
    delta : float in (0, 1)
        Joint miscoverage of the certificate set.
    n_constraints : int ≥ 1
        J, the number of distinct gaps certified together (δ_j = δ / J).
    power : float in [0.5, 1)
    bound : str
        ``auto`` or a method of :func:`faro_audit.stats.bounds.mean_interval`.
    icc, cluster_size : float
        ρ ∈ [0, 1] and m ≥ 1 rows per cluster (1: no clustering).
    min_group_size : int
        A certification needs every group to have at least this many rows (SPEC §4).
    max_n : int
        Beyond this many rows (twin sets) per group: "undecidable near ε".
    saturated_share : float, optional
        Share of pilot rows with a saturated soft outcome; above 1/2 the plan refuses to
        advise collecting data (SPEC §2) and says to change ``--temperature``.
    calibrate : bool
        For the betting bound, replace ``half_width``'s approximation by the computed bound:
        the one-sided extents of :func:`~faro_audit.stats.bounds.mean_interval` on a
        representative sample (Beta quantiles of the planned variance, at most 20,000 values)
        under 8–32 seeded permutations, over which the power is averaged (the permutation
        makes the extent random). False: ``half_width`` only.

    Returns
    -------
    Plan
    """
    if metric not in _METHODS:
        raise FaroUsageError(f"metric {metric!r} is unknown; use dp, eo or cf")
    if method not in _METHODS[metric]:
        raise FaroUsageError(f"{metric}: method {method!r} does not apply; use {' or '.join(_METHODS[metric])}")
    if outcome not in OUTCOMES:
        raise FaroUsageError(f"outcome {outcome!r} is unknown; use soft or hard")
    if design not in ("unpaired", "paired"):
        raise FaroUsageError(f"design {design!r} is unknown; use paired or unpaired")
    eps = _number("epsilon", epsilon, 0.0, 1.0, lo_open=True)
    g = _number("true gap", true_gap, 0.0, 1.0)
    d = check_delta(delta)
    pw = _number("power", power, 0.5, 1.0, hi_open=True)
    rho = _number("icc", icc, 0.0, 1.0)
    m = _number("cluster size", cluster_size, 1.0, math.inf, hi_open=True)
    k = int(n_groups)
    if k != n_groups or k < 2:
        raise FaroUsageError(f"n_groups={n_groups!r}: a gap needs at least 2 groups")
    c = int(n_classes)
    if c != n_classes or c < 1:
        raise FaroUsageError(f"n_classes={n_classes!r}: give a positive integer")
    j = int(n_constraints)
    if j != n_constraints or j < 1:
        raise FaroUsageError(f"n_constraints={n_constraints!r}: give a positive integer")
    if bound != "auto" and bound not in BOUND_METHODS:
        raise FaroUsageError(f"bound {bound!r} is unknown; use auto or one of {', '.join(BOUND_METHODS)}")
    des = "twin-set spreads" if metric == "cf" else design
    paired = des == "paired"
    sigma = worst_case_sd(metric, design) if sd is None else _number("sd", sd, 0.0, 1.0 if paired else 0.5)
    deff = 1.0 + (m - 1.0) * rho
    binary = outcome == "hard" and m == 1.0 and not paired
    if bound == "clopper-pearson" and not binary:
        why = ("paired contrasts are not binary" if paired else
               "soft outcomes are not binary" if outcome == "soft" else "cluster means are not binary")
        raise FaroUsageError(f"bound 'clopper-pearson' cannot bound this constraint ({why}); use auto, betting, "
                             "bernstein or hoeffding")
    method_used = resolve_bound(bound, binary=binary, weighted=False)
    delta_j = d / j
    a_up, a_low = one_sided_levels(metric, method, des, n_groups=k, delta_j=delta_j, n_classes=c)
    unit = "twin sets" if paired or metric == "cf" else "rows per group"
    if metric == "eo" and c > 1:
        unit += " in each label class"
    target = None if g == eps else ("certified" if g < eps else "violated")

    def plan(status: str, reason: str, *, n: int | None = None, n_cl: int | None = None,
             p: float | None = None, se: float | None = None, ext: float | None = None) -> Plan:
        return Plan(metric=metric, method=method, outcome=outcome, epsilon=eps, design=des, true_gap=g,
                    sd=sigma, n_groups=k, n_classes=c, delta=d, delta_j=delta_j, power=pw, bound=method_used,
                    level_upper=a_up, level_lower=a_low, icc=rho, cluster_size=m, design_effect=deff,
                    target=target, status=status, n=n, n_clusters=n_cl,
                    n_effective=None if n is None else n / deff, achieved_power=p, se=se, extent=ext,
                    unit=unit, reason=reason)

    if saturated_share is not None and outcome == "soft" and saturated_share > _SATURATION:
        return plan("saturated", f"{100 * saturated_share:.0f}% of the pilot's soft outcomes are saturated "
                    "(below 0.001 or above 0.999): the soft gap is uninformative; raise --temperature "
                    "or plan the hard outcome instead of collecting data")
    if target is None:
        return plan("undecidable", f"undecidable near epsilon: the assumed gap equals epsilon {eps:g}")

    # The bound's values are cluster means of variance V_c = σ_u² deff / m (σ_u: per-group noise);
    # paired contrasts in [−1, 1] are bounded as (d + 1)/2, so their half-width is doubled.
    scale = 2.0 if paired else 1.0
    if paired:
        tau = sigma / math.sqrt(2.0) if method == "between_groups" else sigma * math.sqrt(k / (k - 1.0))
        var_bound = min(sigma**2 * deff / m / 4.0, 0.25)
    else:
        tau = sigma
        var_bound = min(sigma**2 * deff / m, 0.25)
    if metric == "cf" or paired:
        box = 1.0
    elif method == "between_groups":
        box = 2.0
    else:
        box = 2.0 * (1.0 - 1.0 / k)
    level = a_up if target == "certified" else a_low
    two_sided_level = min(2.0 * level, 0.999999)
    gap_model = GapModel(metric, method, k, g, target)

    def extent(n_cl: float) -> float:
        h = half_width(max(n_cl, 1.0), delta=two_sided_level, method=method_used, variance=var_bound)
        return box * scale * h

    def prob(n_cl: float, ratios: np.ndarray) -> tuple[float, float, float]:
        se_g = tau * math.sqrt(deff / (n_cl * m))  # sd of one group's (or unit's) mean estimate
        ext = extent(n_cl)
        return gap_model.prob(se_g, eps, ext * ratios), gap_model.se(se_g), ext * float(np.mean(ratios))

    one = np.ones(1)
    top = max(1, math.floor(max_n / m))
    undecidable = (f"undecidable near epsilon: an assumed gap {g:g} this close to epsilon {eps:g} is not "
                   f"decided with power {pw:g} even by {int(max_n):,} {unit} (the bound's resolution there "
                   f"exceeds |gap - epsilon| = {abs(g - eps):.2g})")
    if prob(top, one)[0] < pw:
        return plan("undecidable", undecidable)
    n_cl = smallest_true(lambda n: prob(n, one)[0] >= pw, top)
    ratios = one
    if calibrate and method_used == "betting":
        # half_width is an approximation of the betting bound: measure the bound itself
        # (mean_interval on a representative sample, several permutations) and search again.
        for _ in range(3):
            ratios = betting_ratios(n_cl, two_sided_level, var_bound)
            def enough(n: int, r: np.ndarray = ratios) -> bool:
                return prob(n, r)[0] >= pw

            n_new = smallest_true(enough, top)
            if n_new == n_cl:
                break
            n_cl = n_new
    if target == "certified":  # SPEC §4: smaller groups are never certified
        n_cl = max(n_cl, math.ceil(min_group_size / m - 1e-9))
    n_rows = math.ceil(n_cl * m - 1e-9)
    p, se, ext = prob(n_cl, ratios)
    if p < pw:  # the computed bound is wider than half_width's approximation even at max_n
        return plan("undecidable", undecidable)
    verb = "would certify it" if target == "certified" else "would find it violated"
    side = "UCB" if target == "certified" else "LCB"
    return plan("planned", f"{n_rows} {unit} {verb} with power {p:.2f} at gap {g:g} "
                f"({side} extent {ext:.3g}, se {se:.3g}, {method_used})",
                n=n_rows, n_cl=int(n_cl), p=p, se=se, ext=ext)
