"""Sample-size planning (SPEC §5.8): the planned n decides constraints with the stated power.

The central check is a simulation: data are drawn at the planned n with a known true gap, the
real :func:`faro_audit.stats.certificates.certify` runs on them, and the share of correct
verdicts must reach the stated power up to binomial noise (one-sided 1% allowance over R
repetitions). Half the planned n must fall clearly short, so the plan is not just huge.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.stats.certificates import (
    CertificateRequest,
    Constraint,
    ContrastSample,
    MeanSample,
    certify,
)
from faro_audit.stats.planning import (
    cf_pilot_estimates,
    one_sided_levels,
    pilot_estimates,
    plan_constraint,
)

EPS = 0.05
POWER = 0.8
R = 200


def _plan(**kw):
    args = {"metric": "dp", "method": "between_groups", "epsilon": EPS, "true_gap": 0.02, "sd": 0.2, "power": POWER}
    args.update(kw)
    return plan_constraint(**args)


# ----------------------------------------------------------------------------------------------
# Simulation: the plan checked against the real certify
# ----------------------------------------------------------------------------------------------


def _beta(rng, mean, sd, n):
    s = mean * (1 - mean) / sd**2 - 1
    return rng.beta(mean * s, (1 - mean) * s, n)


def _unpaired(rng, n, *, gap, sd, method="between_groups", hard=False, k=2, cluster=1, icc=0.0):
    """K groups around 0.5, the last one ``gap`` above the others; rows or clusters of rows."""
    samples = []
    for a in range(k):
        mean = 0.5 - gap / 2 + (gap if a == k - 1 else 0.0)
        if hard:
            values = (rng.random(n) < mean).astype(float)
        elif cluster == 1:
            values = _beta(rng, mean, sd, n)
        else:
            n_cl = n // cluster
            effect = rng.normal(0.0, sd * np.sqrt(icc), n_cl)
            rows = np.clip(mean + effect[:, None] + rng.normal(0.0, sd * np.sqrt(1 - icc), (n_cl, cluster)), 0, 1)
            values = rows.mean(axis=1)  # equal clusters: cluster means, equal weights
        samples.append(MeanSample(("soft", "g", None, f"g{a}"), f"g{a}", values, None, n))
    c = Constraint("dp", "hard" if hard else "soft", "g", method, EPS)
    return CertificateRequest(c, (tuple(samples),), binary=hard)


def _paired(rng, n, *, gap, sd):
    """Twin sets: a set effect shared by both groups plus uniform noise; contrast sd = ``sd``."""
    half = sd * np.sqrt(1.5)  # Uniform(-c, c) noise on each side: sd of the difference is c·sqrt(2/3)
    base = rng.uniform(half, 1 - half - gap, n)
    oa = base + rng.uniform(-half, half, n)
    ob = base + gap + rng.uniform(-half, half, n)
    groups = (MeanSample(("soft", "g", None, "a"), "a", oa, None, n),
              MeanSample(("soft", "g", None, "b"), "b", ob, None, n))
    contrast = ContrastSample(("soft", "g", None, "pair", "a", "b"), "a − b", oa - ob, None, n)
    return CertificateRequest(Constraint("dp", "soft", "g", "between_groups", EPS), (groups,),
                              paired=((contrast,),))


def _share_correct(make, n, target, seed):
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(R):
        cs = certify([make(rng, n)], delta=0.05, random_state=int(rng.integers(2**31)))
        verdict = cs.certificates[0].verdict
        assert verdict in (target, "inconclusive"), "a wrong verdict at delta = 0.05 in a power check"
        hits += verdict == target
    return hits / R


CASES = {
    # name: (plan arguments, data generator)
    "unpaired, gap 0.02 < eps": ({}, lambda rng, n: _unpaired(rng, n, gap=0.02, sd=0.2)),
    "paired twin sets, gap 0.02 < eps": ({"design": "paired", "sd": 0.1}, lambda rng, n: _paired(rng, n, gap=0.02, sd=0.1)),
    "unpaired, gap 0.09 > eps": ({"true_gap": 0.09}, lambda rng, n: _unpaired(rng, n, gap=0.09, sd=0.2)),
    "hard outcome, clopper-pearson": ({"outcome": "hard", "sd": 0.5},
                                      lambda rng, n: _unpaired(rng, n, gap=0.02, sd=0.5, hard=True)),
    "clusters of 4, icc 0.3": ({"icc": 0.3, "cluster_size": 4},
                               lambda rng, n: _unpaired(rng, n, gap=0.02, sd=0.2, cluster=4, icc=0.3)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_planned_n_decides_with_the_stated_power(name):
    kw, make = CASES[name]
    plan = _plan(**kw)
    assert plan.status == "planned" and plan.n is not None
    allowance = stats.binom.ppf(0.01, R, POWER) / R  # one-sided 1% binomial slack (0.735 at R = 200)
    share = _share_correct(make, plan.n, plan.target, seed=7)
    assert share >= allowance, f"{name}: {share:.3f} of {R} decided correctly at n = {plan.n}, below {allowance:.3f}"
    # The plan is tight, not merely large: half of it falls clearly short.
    half = _share_correct(make, plan.n // 2, plan.target, seed=8)
    print(f"{name}: n = {plan.n} {plan.unit}, planned power {plan.achieved_power:.3f}, "
          f"simulated {share:.3f} (at n/2: {half:.3f})")
    assert half < POWER - 0.15, f"{name}: {half:.3f} decided correctly at n / 2 = {plan.n // 2}"


# ----------------------------------------------------------------------------------------------
# The plan itself
# ----------------------------------------------------------------------------------------------


def test_levels_follow_the_allocation():
    dj = 0.05
    a = dj / 2
    assert one_sided_levels("dp", "between_groups", "unpaired", n_groups=3, delta_j=dj) == (a / 2, a / 6)
    assert one_sided_levels("dp", "to_overall", "unpaired", n_groups=3, delta_j=dj) == (a / 3, a / 6)
    assert one_sided_levels("dp", "between_groups", "paired", n_groups=3, delta_j=dj) == (a, a / 6)
    assert one_sided_levels("dp", "to_overall", "paired", n_groups=3, delta_j=dj) == (a, a / 6)
    assert one_sided_levels("eo", "between_groups", "unpaired", n_groups=2, delta_j=dj, n_classes=2) == (a / 2, a / 8)
    assert one_sided_levels("cf", "mean_spread", "twin-set spreads", n_groups=2, delta_j=dj) == (a, a)


def test_plan_fields_and_delta_split():
    p = _plan(n_constraints=4)
    assert p.delta_j == pytest.approx(0.0125)
    assert p.level_upper == pytest.approx(0.0125 / 4)
    assert p.target == "certified" and p.unit == "rows per group" and p.design == "unpaired"
    assert p.bound == "betting" and p.achieved_power >= POWER
    assert p.n_effective == pytest.approx(p.n)
    assert "would certify" in p.reason
    d = p.as_dict()
    assert d["n"] == p.n and d["status"] == "planned"


def test_more_constraints_or_power_or_clustering_need_more_rows():
    base = _plan().n
    assert _plan(n_constraints=5).n > base
    assert _plan(power=0.95).n > base
    assert _plan(icc=0.2, cluster_size=5).n > 1.5 * base
    assert _plan(epsilon=0.1).n < base
    assert _plan(true_gap=0.0).n < base
    # Clusters with no correlation are (almost) free for a variance-adaptive bound.
    assert _plan(icc=0.0, cluster_size=5).n == pytest.approx(base, rel=0.25)


def test_paired_design_needs_fewer_sets_when_the_set_effect_cancels():
    unpaired = _plan(sd=0.2).n
    paired = _plan(design="paired", sd=0.1).n
    assert paired < unpaired / 3


def test_more_groups_need_more_rows():
    assert _plan(n_groups=4).n > _plan(n_groups=2).n


def test_anchored_and_cf_and_eo():
    anchored = _plan(method="to_overall", true_gap=0.01)
    assert anchored.status == "planned" and anchored.target == "certified"
    cf = _plan(metric="cf", method="mean_spread", true_gap=0.01, sd=0.05)
    assert cf.unit == "twin sets" and cf.design == "twin-set spreads" and cf.status == "planned"
    eo = _plan(metric="eo", n_classes=2, true_gap=0.1)
    assert eo.target == "violated" and eo.unit == "rows per group in each label class"


def test_hard_outcome_uses_clopper_pearson_and_clusters_use_betting():
    assert _plan(outcome="hard", sd=0.5).bound == "clopper-pearson"
    assert _plan(outcome="hard", sd=0.5, icc=0.1, cluster_size=3).bound == "betting"
    assert _plan(outcome="hard", sd=0.5, design="paired").bound == "betting"


def test_undecidable_near_epsilon_never_a_number_in_the_millions():
    p = _plan(true_gap=0.0499)
    assert p.status == "undecidable" and p.n is None
    assert "undecidable near epsilon" in p.reason
    on = _plan(true_gap=EPS)
    assert on.status == "undecidable" and on.target is None
    # Every planned n is below a million rows per group.
    for g in (0.045, 0.048, 0.049, 0.051, 0.055):
        q = _plan(true_gap=g)
        assert q.status == "undecidable" or q.n < 10**6


def test_min_group_size_applies_to_certification_only():
    easy = _plan(epsilon=0.9, true_gap=0.0, sd=0.01)
    assert easy.n == 30
    assert _plan(epsilon=0.9, true_gap=0.0, sd=0.01, min_group_size=100).n == 100
    clear = _plan(epsilon=0.05, true_gap=0.9, sd=0.01)
    assert clear.target == "violated" and clear.n < 30


def test_saturated_soft_outcome_is_not_planned():
    p = _plan(saturated_share=0.7)
    assert p.status == "saturated" and p.n is None and "--temperature" in p.reason
    assert _plan(saturated_share=0.7, outcome="hard", sd=0.5).status == "planned"


def test_worst_case_sd_by_default():
    p = _plan(sd=None)
    assert p.sd == 0.5 and p.n > _plan().n
    assert _plan(sd=None, design="paired").sd == 1.0


def test_uncalibrated_plan_uses_half_width_only():
    p = _plan(calibrate=False)
    assert p.status == "planned" and p.n > 0


@pytest.mark.parametrize("kw", [
    {"power": 0.3}, {"power": 1.0}, {"true_gap": -0.1}, {"epsilon": 0.0}, {"sd": 0.7},
    {"n_groups": 1}, {"icc": 1.5}, {"cluster_size": 0.5}, {"delta": 1.0}, {"bound": "nope"},
    {"metric": "xx"}, {"method": "mean_spread"}, {"design": "crossed"}, {"outcome": "medium"},
    {"bound": "clopper-pearson"}, {"n_constraints": 0},
])
def test_bad_input_is_a_one_line_usage_error(kw):
    with pytest.raises(FaroUsageError) as err:
        _plan(**kw)
    assert "\n" not in str(err.value)


# ----------------------------------------------------------------------------------------------
# Pilot estimates
# ----------------------------------------------------------------------------------------------


def test_pilot_recovers_gap_sd_and_no_clustering():
    rng = np.random.default_rng(3)
    n = 4000
    x = np.r_[_beta(rng, 0.5, 0.2, n), _beta(rng, 0.55, 0.2, n)]
    g = np.r_[np.full(n, "a"), np.full(n, "b")]
    est = pilot_estimates(x, g, clusters=np.arange(2 * n), soft=True)
    assert est.design == "unpaired" and est.n_groups == 2
    assert est.gap == pytest.approx(0.05, abs=0.01)
    assert est.sd == pytest.approx(0.2, abs=0.01)
    assert est.icc == 0.0 and est.cluster_size == 1.0
    assert est.group_rows == {"a": n, "b": n}
    assert 0.0 <= est.saturated_share < 0.05
    anchored = pilot_estimates(x, g, method="to_overall")
    assert anchored.gap == pytest.approx(est.gap / 2, rel=1e-9)


def test_pilot_recovers_intra_cluster_correlation():
    rng = np.random.default_rng(4)
    n_cl, m, rho, sd = 600, 5, 0.3, 0.15
    vals, groups, clusters = [], [], []
    for a, mean in (("a", 0.5), ("b", 0.5)):
        eff = rng.normal(0, sd * np.sqrt(rho), n_cl)
        rows = mean + eff[:, None] + rng.normal(0, sd * np.sqrt(1 - rho), (n_cl, m))
        vals.append(rows.ravel())
        groups.append(np.full(n_cl * m, a))
        clusters.append(np.repeat([f"{a}{i}" for i in range(n_cl)], m))
    est = pilot_estimates(np.concatenate(vals), np.concatenate(groups), clusters=np.concatenate(clusters))
    assert est.icc == pytest.approx(rho, abs=0.05)
    assert est.cluster_size == pytest.approx(m)
    assert est.sd == pytest.approx(sd, abs=0.01)


def test_pilot_pairs_complete_twin_sets():
    rng = np.random.default_rng(5)
    n = 2000
    base = rng.uniform(0.2, 0.8, n)
    oa, ob = base + rng.normal(0, 0.03, n), base + 0.02 + rng.normal(0, 0.03, n)
    x = np.r_[oa, ob]
    g = np.r_[np.full(n, "a"), np.full(n, "b")]
    twins = np.r_[np.arange(n), np.arange(n)].astype(str)
    est = pilot_estimates(x, g, twin_ids=twins)
    assert est.design == "paired" and est.n_sets == n
    assert est.gap == pytest.approx(0.02, abs=0.005)
    assert est.sd == pytest.approx(0.03 * np.sqrt(2), abs=0.005)
    # A set missing a group: no pairing, the unpaired estimate (sd of the outcome itself).
    broken = pilot_estimates(x[1:], g[1:], twin_ids=twins[1:])
    assert broken.design == "unpaired" and broken.sd > 0.15


def test_cf_pilot_and_errors():
    est = cf_pilot_estimates([0.0, 0.1, 0.2])
    assert est.gap == pytest.approx(0.1) and est.sd == pytest.approx(0.1) and est.n_sets == 3
    with pytest.raises(FaroInputError):
        cf_pilot_estimates([0.1])
    with pytest.raises(FaroInputError):
        pilot_estimates([0.1, 0.2], ["a", "a"])
