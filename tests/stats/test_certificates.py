"""Unit tests of faro_audit.stats.certificates (SPEC §5): interval arithmetic, verdicts,
Bonferroni counting, the min_group_size rule and n_required."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.stats.bounds import mean_interval
from faro_audit.stats.certificates import (
    EXIT_CODES,
    Certificate,
    CertificateRequest,
    CertificateSet,
    Constraint,
    ContrastSample,
    MeanSample,
    certify,
    gap_bounds,
    overall_verdict,
)


def constant(key: str, value: float, n: int, *, klass: str | None = None) -> MeanSample:
    """n identical values: the Hoeffding interval is value ± sqrt(ln(2/δ′)/(2n)) exactly."""
    return MeanSample(key=("soft", "g", klass, key), group=key, values=np.full(n, value), sample_weight=None, n_rows=n)


def hoeffding(n: int, delta: float) -> float:
    return math.sqrt(math.log(2 / delta) / (2 * n))


def dp(eps: float, method: str = "between_groups") -> Constraint:
    return Constraint("dp", "soft", "g", method, eps)


# --------------------------------------------------------------------------- interval arithmetic


def test_between_groups_box_by_hand() -> None:
    lcb, ucb = gap_bounds([0.1, 0.3, 0.2], [0.2, 0.5, 0.25], method="between_groups")
    assert (lcb, ucb) == pytest.approx((0.1, 0.4))
    # Overlapping boxes: LCB is 0.
    assert gap_bounds([0.1, 0.15], [0.3, 0.2], method="between_groups") == pytest.approx((0.0, 0.2))


def test_anchored_box_by_hand() -> None:
    # m1 - pool = 0.25 (m1 - m2) in [-0.075, 0]; m2 - pool = 0.75 (m2 - m1) in [0, 0.225].
    assert gap_bounds([0.4, 0.5], [0.5, 0.7], method="to_overall", shares=[0.75, 0.25]) == pytest.approx((0.0, 0.225))
    # Separated boxes: 0.5 |m1 - m2| in [0.2, 0.3] for both groups.
    assert gap_bounds([0.1, 0.6], [0.2, 0.7], method="to_overall", shares=[0.5, 0.5]) == pytest.approx((0.2, 0.3))


@pytest.mark.parametrize("method", ["between_groups", "to_overall"])
def test_box_bounds_are_exact_upper_and_valid_lower(method: str) -> None:
    rng = np.random.default_rng(0)
    for _ in range(30):
        k = int(rng.integers(2, 5))
        lo = rng.uniform(0, 0.8, k)
        hi = lo + rng.uniform(0, 0.2, k)
        w = rng.dirichlet(np.ones(k))

        def gap(m: np.ndarray, w: np.ndarray = w) -> np.ndarray:
            if method == "between_groups":
                return m.max(-1) - m.min(-1)
            return np.abs(m - (m @ w)[..., None]).max(-1)

        lcb, ucb = gap_bounds(lo, hi, method=method, shares=w)
        corners = np.array(list(itertools.product(*zip(lo, hi))))
        inside = lo + rng.random((20000, k)) * (hi - lo)
        # The gap is convex in the means, so its max over the box is at a corner: UCB is exact.
        assert ucb == pytest.approx(gap(corners).max())
        assert lcb <= gap(inside).min() + 1e-12 and lcb <= gap(corners).min() + 1e-12
        assert 0.0 <= lcb <= ucb


def test_gap_bounds_needs_shares_for_anchored() -> None:
    with pytest.raises(FaroUsageError, match="shares"):
        gap_bounds([0.1, 0.2], [0.2, 0.3], method="to_overall")


# --------------------------------------------------------------------------- verdicts


def test_verdicts_from_hand_computed_hoeffding_boxes() -> None:
    n = 2000
    a, b = constant("a", 0.25, n), constant("b", 0.75, n)
    # One gap at three tolerances is one interval event: δ is not split over them.
    reqs = [CertificateRequest(dp(eps), ((a, b),)) for eps in (0.4, 0.6, 0.5)]
    out = certify(reqs, delta=0.05, bound="hoeffding")
    assert out.n_constraints == 1 and out.delta_per_constraint == pytest.approx(0.05)
    assert out.n_intervals == 4  # each group at the UCB level and at the LCB level
    # UCB side: top and bottom group one-sided at α/2 = δ/4 (two-sided level δ/2), any K.
    # LCB side: all 2K one-sided bounds at α/(2K) (two-sided level δ/(2K)).
    h_up, h_low = hoeffding(n, 0.05 / 2), hoeffding(n, 0.05 / 4)
    for cert in out.certificates:
        assert cert.estimate == pytest.approx(0.5)
        assert (cert.lower, cert.upper) == pytest.approx((0.5 - 2 * h_low, 0.5 + 2 * h_up))
        assert cert.delta_per_interval == pytest.approx(0.05)
        assert cert.group_intervals["a"] == pytest.approx((0.25, 0.25 - h_up, 0.25 + h_up, n))
        assert cert.design == "unpaired" and "box" in cert.allocation
    v = [c.verdict for c in out.certificates]
    assert v == ["violated", "certified", "inconclusive"]
    assert [c.n_required for c in out.certificates] == [None, None, None]  # estimate == epsilon
    assert "undecidable near epsilon" in out.certificates[2].reason
    assert out.verdict == "violated" and out.exit_code == 1


def test_ucb_of_a_between_groups_gap_does_not_pay_for_the_number_of_groups() -> None:
    n = 1000
    two = (constant("a", 0.3, n), constant("b", 0.6, n))
    eight = two + tuple(constant(f"g{i}", 0.42, n) for i in range(6))
    (c2,) = certify([CertificateRequest(dp(0.1), (two,))], bound="hoeffding").certificates
    (c8,) = certify([CertificateRequest(dp(0.1), (eight,))], bound="hoeffding").certificates
    assert c8.upper == pytest.approx(c2.upper)
    assert c8.lower < c2.lower  # the LCB side pays for 2K one-sided bounds


def test_delta_is_split_over_distinct_gaps_only() -> None:
    a, b, c = constant("a", 0.3, 800), constant("b", 0.35, 800), constant("c", 0.32, 800)
    one = certify([CertificateRequest(dp(0.2), ((a, b),))], bound="hoeffding")
    three = certify([CertificateRequest(dp(0.2), ((a, b),)), CertificateRequest(dp(0.2), ((a, c),)),
                     CertificateRequest(dp(0.2), ((b, c),))], bound="hoeffding")
    assert one.delta_per_constraint == pytest.approx(0.05)
    assert three.n_constraints == 3 and three.delta_per_constraint == pytest.approx(0.05 / 3)
    assert one.certificates[0].upper == pytest.approx(0.05 + 2 * hoeffding(800, 0.025))
    assert three.certificates[0].upper == pytest.approx(0.05 + 2 * hoeffding(800, 0.025 / 3))


def test_eo_takes_the_max_over_classes_for_both_bounds() -> None:
    n = 3000
    c0 = (constant("a", 0.5, n, klass="0"), constant("b", 0.55, n, klass="0"))
    c1 = (constant("a", 0.3, n, klass="1"), constant("b", 0.5, n, klass="1"))
    req = CertificateRequest(Constraint("eo", "soft", "g", "between_groups", 0.1), (c0, c1), class_labels=("y=0", "y=1"))
    (cert,) = certify([req], delta=0.05, bound="hoeffding").certificates
    # UCB: the true worst class needs no split; LCB: α split over 2 classes and 2K bounds.
    h_up, h_low = hoeffding(n, 0.025), hoeffding(n, 0.05 / 8)
    assert cert.estimate == pytest.approx(0.2)
    assert (cert.lower, cert.upper) == pytest.approx((0.2 - 2 * h_low, 0.2 + 2 * h_up))
    assert cert.verdict == "violated"
    assert set(cert.group_intervals) == {"y=0: a", "y=0: b", "y=1: a", "y=1: b"}


def test_anchored_estimate_and_box() -> None:
    n = 1500
    a, b = constant("a", 0.4, n), constant("b", 0.6, n)
    req = CertificateRequest(dp(0.25, "to_overall"), ((a, b),), shares=((0.75, 0.25),))
    (cert,) = certify([req], delta=0.05, bound="hoeffding").certificates
    # UCB: K one-sided bounds at α/K; LCB: 2K at α/(2K) (two-sided levels δ/(2K), δ/(4K)... K = 2).
    h_up, h_low = hoeffding(n, 0.025), hoeffding(n, 0.0125)
    # pool = 0.45; gaps 0.05 and 0.15; box of m_b - pool = 0.75 (m_b - m_a) gives ±0.75·2h.
    assert cert.estimate == pytest.approx(0.15)
    assert cert.upper == pytest.approx(0.15 + 1.5 * h_up)
    assert cert.lower == pytest.approx(0.15 - 1.5 * h_low)
    assert cert.verdict == "certified"


def _paired(values_a: np.ndarray, values_b: np.ndarray, method: str = "between_groups") -> CertificateRequest:
    n = values_a.size
    a = MeanSample(("soft", "g", None, "a"), "a", values_a, None, n)
    b = MeanSample(("soft", "g", None, "b"), "b", values_b, None, n)
    if method == "between_groups":
        pcs = (ContrastSample(("soft", "g", None, "pair", "a", "b"), "a − b", values_a - values_b, None, n),)
    else:
        pool = 0.5 * (values_a + values_b)
        pcs = (ContrastSample(("soft", "g", None, "anchor", "a"), "a − pooled", values_a - pool, None, n),
               ContrastSample(("soft", "g", None, "anchor", "b"), "b − pooled", values_b - pool, None, n))
    return CertificateRequest(dp(0.05, method), ((a, b),), shares=((0.5, 0.5),), paired=(pcs,))


def test_paired_contrasts_by_hand() -> None:
    # The within-set difference is constant 0.1: the paired bound is the Hoeffding interval of
    # a constant in [-1, 1] (half-width doubled).
    rng = np.random.default_rng(0)
    n = 4000
    base = rng.uniform(0.1, 0.8, n)
    req = _paired(base + 0.1, base)
    (cert,) = certify([req], delta=0.05, bound="hoeffding").certificates
    # UCB: the contrast one-sided at α (two-sided δ_j); LCB: K(K-1) = 2 one-sided at α/2.
    assert cert.design == "paired"
    assert cert.upper == pytest.approx(0.1 + 2 * hoeffding(n, 0.05))
    assert cert.lower == pytest.approx(0.1 - 2 * hoeffding(n, 0.025))
    assert cert.contrast_intervals["a − b"][0] == pytest.approx(0.1)


def test_paired_beats_the_box_when_set_effects_dominate() -> None:
    # Large set effects, small within-set noise: a variance-adaptive bound on the contrasts is
    # far tighter than the box of two wide group-mean intervals.
    rng = np.random.default_rng(0)
    n = 500
    base = rng.uniform(0.1, 0.8, n)
    req = _paired(np.clip(base + 0.02 + rng.normal(0, 0.01, n), 0, 1), base)
    (paired,) = certify([req]).certificates
    (boxed,) = certify([CertificateRequest(dp(0.05), req.classes, shares=req.shares)]).certificates
    assert paired.design == "paired" and boxed.design == "unpaired"
    assert paired.verdict == "certified" and boxed.verdict == "inconclusive"
    assert (paired.upper - paired.estimate) < 0.25 * (boxed.upper - boxed.estimate)


def test_paired_anchored_by_hand() -> None:
    n = 1000
    base = np.random.default_rng(1).uniform(0.1, 0.7, n)
    (cert,) = certify([_paired(base + 0.3, base, "to_overall")], delta=0.05, bound="hoeffding").certificates
    assert cert.estimate == pytest.approx(0.15)
    assert cert.upper == pytest.approx(0.15 + 2 * hoeffding(n, 0.05))
    assert cert.lower == pytest.approx(0.15 - 2 * hoeffding(n, 0.0125))


def test_paired_request_needs_every_contrast() -> None:
    a = MeanSample(("soft", "g", None, "a"), "a", np.full(10, 0.5), None, 10)
    b = MeanSample(("soft", "g", None, "b"), "b", np.full(10, 0.5), None, 10)
    c = MeanSample(("soft", "g", None, "c"), "c", np.full(10, 0.5), None, 10)
    pc = ContrastSample(("p",), "a − b", np.zeros(10), None, 10)
    with pytest.raises(FaroUsageError, match="paired contrasts"):
        CertificateRequest(dp(0.1), ((a, b, c),), paired=((pc,),))


def test_cf_uses_the_interval_of_the_mean_spread() -> None:
    spreads = np.random.default_rng(1).beta(1, 12, size=300)
    sample = MeanSample(key=("cf", "g", None, "twins"), group="twin sets", values=spreads, sample_weight=None, n_rows=300)
    req = CertificateRequest(Constraint("cf", "soft", "g", "mean_spread", 0.3), ((sample,),))
    (cert,) = certify([req], delta=0.05).certificates
    (cert,) = certify([req], delta=0.05, bound="hoeffding").certificates
    iv = mean_interval(spreads, delta=0.05, method="hoeffding")
    assert (cert.estimate, cert.lower, cert.upper) == pytest.approx((iv.estimate, iv.lower, iv.upper))
    assert cert.verdict == "certified"


# --------------------------------------------------------------------------- Bonferroni


def test_shared_keys_are_counted_once() -> None:
    a, b = constant("a", 0.3, 500), constant("b", 0.35, 500)
    # Equal data under the same key (a different object) is the same mean.
    a2 = constant("a", 0.3, 500)
    c = constant("c", 0.32, 500)
    reqs = [
        CertificateRequest(dp(0.2), ((a, b),)),
        CertificateRequest(dp(0.2, "to_overall"), ((a2, b),), shares=((0.5, 0.5),)),
        CertificateRequest(dp(0.2), ((a, b, c),)),
    ]
    out = certify(reqs, delta=0.06, bound="hoeffding")
    # Three distinct gaps: δ_j = 0.02; group a is computed once per level, whichever request.
    assert out.n_constraints == 3
    assert all(cert.delta_per_interval == pytest.approx(0.02) for cert in out.certificates)
    h = hoeffding(500, 0.01)
    assert out.certificates[0].upper == pytest.approx(0.05 + 2 * h)
    assert out.certificates[0].group_intervals["a"] == pytest.approx(out.certificates[2].group_intervals["a"])


def test_same_key_with_different_data_is_an_error() -> None:
    a, b = constant("a", 0.3, 500), constant("b", 0.35, 500)
    other = constant("a", 0.31, 500)
    with pytest.raises(FaroUsageError, match="twice"):
        certify([CertificateRequest(dp(0.1), ((a, b),)), CertificateRequest(dp(0.1), ((other, b),))])


# --------------------------------------------------------------------------- min_group_size


def test_small_group_cannot_be_certified_but_can_be_violated() -> None:
    big, small = constant("big", 0.5, 5000), constant("small", 0.5, 20)
    (cert,) = certify([CertificateRequest(dp(0.9), ((big, small),))], bound="hoeffding").certificates
    assert cert.upper <= 0.9
    assert cert.verdict == "inconclusive"
    assert "min_group_size 30" in cert.reason and "'small'" in cert.reason
    assert cert.n_required == 30  # the box already decides it: only the size rule is missing
    low = constant("low", 0.0, 20)
    high = constant("high", 1.0, 5000)
    (cert,) = certify([CertificateRequest(dp(0.1), ((high, low),))], bound="hoeffding").certificates
    assert cert.verdict == "violated" and "min_group_size" in cert.reason
    # Lowering the threshold allows certification.
    (cert,) = certify([CertificateRequest(dp(0.9), ((big, small),))], bound="hoeffding", min_group_size=10).certificates
    assert cert.verdict == "certified"


# --------------------------------------------------------------------------- n_required


@pytest.mark.parametrize("ma,mb,eps,level", [(0.5, 0.52, 0.1, 0.025), (0.4, 0.6, 0.15, 0.0125)])
def test_n_required_inverts_hoeffding_by_hand(ma: float, mb: float, eps: float, level: float) -> None:
    n = 200
    req = CertificateRequest(dp(eps), ((constant("a", ma, n), constant("b", mb, n)),))
    (cert,) = certify([req], delta=0.05, bound="hoeffding").certificates
    assert cert.verdict == "inconclusive"
    est = mb - ma
    # Decided when |est - eps| > 2 h(N), h(N) = sqrt(ln(2/δ′)/(2N)), δ′ the side's level
    # (UCB: δ/2; LCB: δ/(2K) = δ/4).
    need = math.log(2 / level) / (2 * (abs(eps - est) / 2) ** 2)
    # The search stops at a relative resolution of 1e-3.
    assert abs(cert.n_required - math.ceil(need)) <= max(2, 2e-3 * need)
    assert cert.n_required > n
    assert f"about {cert.n_required} rows" in cert.reason


def test_n_required_with_betting_is_plausible() -> None:
    rng = np.random.default_rng(5)
    means = (("a", 0.5), ("b", 0.52))
    samples = tuple(MeanSample(("soft", "g", None, g), g, rng.beta(20 * m, 20 * (1 - m), 300), None, 300) for g, m in means)
    (cert,) = certify([CertificateRequest(dp(0.05), (samples,))]).certificates
    assert cert.verdict == "inconclusive" and cert.n_required is not None
    n = cert.n_required
    assert 300 < n < 20000

    def wins(size: int) -> int:
        count = 0
        for _ in range(10):
            fresh = tuple(
                MeanSample(("soft", "g", None, s.group), s.group, rng.beta(20 * m, 20 * (1 - m), size), None, size)
                for s, m in zip(samples, (samples[0].values.mean(), samples[1].values.mean()))
            )
            count += certify([CertificateRequest(dp(0.05), (fresh,))]).certificates[0].verdict == "certified"
        return count

    # Calibrated at the point estimate: fresh data of that size decides it about half the time,
    # a quarter of it rarely does.
    assert wins(n) >= 3
    assert wins(n // 4) <= 2


def _pooled_sd(groups: list[np.ndarray]) -> float:
    return math.sqrt(sum(float(np.sum((x - x.mean()) ** 2)) for x in groups) / sum(x.size - 1 for x in groups))


@pytest.mark.parametrize("bound,hard", [("auto", False), ("hoeffding", False), ("auto", True), ("bernstein", False)])
def test_n_required_is_what_the_plan_engine_plans(bound: str, hard: bool) -> None:
    """The certificate's "rows needed" is plan_constraint's n for the same design, bound and level
    (assumed gap = the estimate, σ = pooled sd, power 1/2, max_n = 100x the smallest group)."""
    from faro_audit.stats.planning import plan_constraint

    rng = np.random.default_rng(11)
    rows = {"a": 400, "b": 300, "c": 350}
    means = {"a": 0.5, "b": 0.53, "c": 0.51}
    values = {
        g: (rng.random(n) < means[g]).astype(float) if hard else rng.beta(20 * means[g], 20 * (1 - means[g]), n)
        for g, n in rows.items()
    }
    samples = tuple(MeanSample(("s", g), g, v, None, v.size) for g, v in values.items())
    c = Constraint("dp", "hard" if hard else "soft", "g", "between_groups", 0.06)
    (cert,) = certify([CertificateRequest(c, (samples,), binary=hard)], bound=bound).certificates
    assert cert.verdict == "inconclusive" and cert.n_required is not None
    plan = plan_constraint(
        metric="dp", method="between_groups", epsilon=0.06, true_gap=cert.estimate,
        sd=_pooled_sd(list(values.values())), n_groups=3, n_classes=1, outcome=c.outcome, design="unpaired",
        delta=cert.delta_per_interval, n_constraints=1, power=0.5, bound=bound, min_group_size=30,
        max_n=100 * min(rows.values()),
    )
    assert plan.status == "planned"
    assert cert.n_required == plan.n
    assert f"about {plan.n} rows per group would decide it" in cert.reason


def test_n_required_of_a_paired_design_is_what_the_plan_engine_plans() -> None:
    from faro_audit.stats.planning import plan_constraint

    rng = np.random.default_rng(3)
    n = 200
    base = rng.beta(4, 4, n)
    o_a, o_b = np.clip(base + rng.normal(0, 0.05, n), 0, 1), np.clip(base + 0.03 + rng.normal(0, 0.05, n), 0, 1)
    samples = (MeanSample(("p", "a"), "a", o_a, None, n), MeanSample(("p", "b"), "b", o_b, None, n))
    contrast = ContrastSample(("p", "a-b"), "a − b", o_a - o_b, None, n)
    req = CertificateRequest(dp(0.04), (samples,), paired=((contrast,),))
    (cert,) = certify([req]).certificates
    assert cert.design == "paired" and cert.verdict == "inconclusive"
    d = o_a - o_b
    plan = plan_constraint(metric="dp", method="between_groups", epsilon=0.04, true_gap=cert.estimate,
                           sd=float(np.std(d, ddof=1)), n_groups=2, design="paired",
                           delta=cert.delta_per_interval, power=0.5, max_n=100 * n)
    assert plan.status == "planned" and cert.n_required == plan.n
    assert f"about {plan.n} twin sets per group" in cert.reason


def test_n_required_undecidable_within_100x_the_data() -> None:
    rng = np.random.default_rng(2)
    samples = tuple(MeanSample(("u", g), g, rng.beta(10 * m, 10 * (1 - m), 200), None, 200)
                    for g, m in (("a", 0.5), ("b", 0.55)))
    est = abs(samples[1].values.mean() - samples[0].values.mean())
    (cert,) = certify([CertificateRequest(dp(est + 1e-6), (samples,))]).certificates
    assert cert.verdict == "inconclusive" and cert.n_required is None
    assert "undecidable near epsilon" in cert.reason


# --------------------------------------------------------------------------- overall, validation


def test_overall_verdict_and_exit_codes() -> None:
    assert overall_verdict(["certified", "inconclusive", "violated"]) == "violated"
    assert overall_verdict(["certified", "inconclusive"]) == "inconclusive"
    assert overall_verdict(["certified"]) == "certified"
    assert EXIT_CODES == {"certified": 0, "violated": 1, "inconclusive": 3}
    with pytest.raises(FaroUsageError):
        overall_verdict([])
    with pytest.raises(FaroUsageError):
        overall_verdict(["maybe"])


def test_certificate_constraint_is_the_vocabulary_constraint() -> None:
    from faro_audit import vocabulary

    cert = Certificate("dp", "soft", "g", "to_overall", 0.05, 0.05, 0.01, "betting", 0.04, 0.0, 0.07,
                       "inconclusive", 100, "")
    assert Constraint is vocabulary.Constraint
    assert cert.constraint == vocabulary.Constraint("dp", "soft", "g", "to_overall", 0.05)
    assert cert.constraint.label == "dp_anchored:soft@g=0.05"


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"metric": "xx"}, "metric"),
        ({"outcome": "raw"}, "outcome"),
        ({"method": "mean_spread"}, "method"),
        ({"epsilon": 0.0}, "tolerance"),
        ({"epsilon": 1.5}, "tolerance"),
    ],
)
def test_constraint_validation(kwargs: dict, match: str) -> None:
    args = {"metric": "dp", "outcome": "soft", "attribute": "g", "method": "between_groups", "epsilon": 0.05, **kwargs}
    with pytest.raises(FaroUsageError, match=match):
        Constraint(**args)


def test_request_validation() -> None:
    a, b = constant("a", 0.3, 50), constant("b", 0.4, 50)
    with pytest.raises(FaroUsageError, match="one class"):
        CertificateRequest(dp(0.1), ((a, b), (a, b)))
    with pytest.raises(FaroInputError, match="two groups"):
        CertificateRequest(dp(0.1), ((a,),))
    with pytest.raises(FaroUsageError, match="shares"):
        CertificateRequest(dp(0.1, "to_overall"), ((a, b),), shares=((0.5, 0.6),))
    with pytest.raises(FaroUsageError, match="cf"):
        CertificateRequest(Constraint("cf", "soft", "g", "mean_spread", 0.1), ((a, b),))
    with pytest.raises(FaroUsageError, match="repeat"):
        CertificateRequest(dp(0.1), ((a, constant("a", 0.3, 50)),))
    # Default shares are proportional to rows.
    c = constant("c", 0.5, 150)
    assert CertificateRequest(dp(0.1, "to_overall"), ((a, c),)).shares == ((0.25, 0.75),)


def test_certify_validation_and_error_context() -> None:
    a, b = constant("a", 0.3, 50), constant("b", 0.4, 50)
    req = CertificateRequest(dp(0.1), ((a, b),))
    with pytest.raises(FaroUsageError, match="no constraints"):
        certify([])
    with pytest.raises(FaroUsageError, match="delta"):
        certify([req], delta=1.5)
    with pytest.raises(FaroUsageError, match="bound"):
        certify([req], bound="wald")
    with pytest.raises(FaroUsageError, match="min_group_size"):
        certify([req], min_group_size=0)
    bad = MeanSample(("soft", "g", None, "x"), "x", [0.2, 1.7], None, 2)
    with pytest.raises(FaroInputError, match="group 'x'") as err:
        certify([CertificateRequest(dp(0.1), ((a, bad),))])
    assert "\n" not in str(err.value)
    soft = MeanSample(("soft", "g", None, "s"), "s", [0.2, 0.7], None, 2)
    with pytest.raises(FaroUsageError, match="clopper-pearson"):
        certify([CertificateRequest(dp(0.1), ((soft, constant("b", 1.0, 5)),))], bound="clopper-pearson")


def test_result_types() -> None:
    out = certify([CertificateRequest(dp(0.5), ((constant("a", 0.3, 50), constant("b", 0.4, 50)),))])
    assert isinstance(out, CertificateSet) and isinstance(out.certificates[0], Certificate)
    assert out.certificates[0].constraint == dp(0.5)
    with pytest.raises(AttributeError):
        out.certificates[0].verdict = "certified"  # type: ignore[misc]
