"""Known-answer tests for ECE, Brier score and BT NLL on preference pairs (SPEC §3)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import expit

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.metrics import (
    brier,
    brier_by_group,
    bt_nll,
    bt_nll_by_group,
    confidence_correct,
    ece,
    ece_by_group,
    reliability_curve,
)

L3, L9 = math.log(3.0), math.log(9.0)  # σ(ln 3) = 0.75, σ(ln 9) = 0.9


def test_ece_known_answer() -> None:
    d = [L3, -L3, L9, L9]
    # bins {0.75, 0.75} acc 1/2 -> 0.25 and {0.9, 0.9} acc 1 -> 0.1
    assert ece(d, n_bins=2) == pytest.approx(0.5 * 0.25 + 0.5 * 0.1)
    # with p_human the correctness is p·h + (1-p)(1-h): bin 1 (0.8 + 0.2)/2, bin 2 (0.5 + 1)/2
    assert ece(d, p_human=[0.8, 0.8, 0.5, 1.0], n_bins=2) == pytest.approx(0.5 * 0.25 + 0.5 * 0.15)
    # temperature 2: confidences σ(ln3/2) = √3/(1+√3), σ(ln9/2) = 0.75
    c1 = math.sqrt(3) / (1 + math.sqrt(3))
    assert ece(d, n_bins=2, temperature=2.0) == pytest.approx(
        0.5 * abs(0.5 - c1) + 0.5 * 0.25)


def test_reliability_curve_known_answer() -> None:
    curve = reliability_curve([L3, -L3, L9, L9, 0.0, 0.0], n_bins=3)
    np.testing.assert_allclose(curve.confidence, [0.5, 0.75, 0.9])
    np.testing.assert_allclose(curve.accuracy, [0.5, 0.5, 1.0])
    np.testing.assert_array_equal(curve.n, [2, 2, 2])
    np.testing.assert_allclose(curve.conf_lower, [0.5, 0.75, 0.9])
    assert curve.ece == pytest.approx((0 + 0.25 + 0.1) / 3)


def test_ece_equals_reference_implementation_with_15_equal_bins() -> None:
    rng = np.random.default_rng(0)
    d = rng.normal(0.5, 2.0, 150)
    c = expit(np.abs(d))
    k = (d > 0).astype(float)
    order = np.argsort(c)
    ref = sum(len(b) / 150 * abs(k[b].mean() - c[b].mean()) for b in np.array_split(order, 15))
    curve = reliability_curve(d)
    np.testing.assert_array_equal(curve.n, np.full(15, 10))
    assert curve.ece == pytest.approx(ref, abs=1e-12)
    assert ece(d) == curve.ece


def test_tied_confidences_share_a_bin() -> None:
    d = np.r_[np.full(10, 50.0), np.full(10, -50.0), np.linspace(0.1, 1, 10)]
    curve = reliability_curve(d, n_bins=15)
    assert curve.n.sum() == 30
    # the 20 saturated pairs (confidence 1.0) are one block, hence one bin
    assert curve.n[-1] == 20 and curve.accuracy[-1] == pytest.approx(0.5)
    rng = np.random.default_rng(1)
    perm = rng.permutation(30)
    assert ece(d[perm]) == pytest.approx(ece(d), abs=1e-15)


def test_weighted_ece_equals_repeated_rows() -> None:
    rng = np.random.default_rng(2)
    d = rng.normal(0.3, 1.5, 45)
    w = rng.integers(1, 4, 45)
    assert ece(d, sample_weight=w) == pytest.approx(ece(np.repeat(d, w)), abs=1e-12)
    assert brier(d, sample_weight=w) == pytest.approx(brier(np.repeat(d, w)), abs=1e-12)


def test_brier_known_answer() -> None:
    assert brier([0.0]) == pytest.approx(0.25)
    assert brier([L3, -L3]) == pytest.approx((0.25**2 + 0.75**2) / 2)
    # expected Brier against a rater with p = 0.5: 0.5·0.25² + 0.5·0.75²
    assert brier([L3], p_human=[0.5]) == pytest.approx(0.3125)
    assert brier([L3], temperature=L3 / math.log(9.0)) == pytest.approx(0.1**2)


def test_bt_nll_known_answer_and_stability() -> None:
    assert bt_nll([0.0]) == pytest.approx(math.log(2))
    assert bt_nll([L3]) == pytest.approx(-math.log(0.75))
    assert bt_nll([L3], p_human=[0.25]) == pytest.approx(
        -(0.25 * math.log(0.75) + 0.75 * math.log(0.25)))
    with np.errstate(all="raise"):
        assert bt_nll([-1000.0]) == pytest.approx(1000.0)
        assert bt_nll([1000.0]) == pytest.approx(0.0, abs=1e-300)
        assert bt_nll([1000.0], p_human=[0.5]) == pytest.approx(500.0)


def test_metrics_do_not_depend_on_which_side_is_listed_first() -> None:
    rng = np.random.default_rng(3)
    d = rng.normal(0, 2, 90)
    p = rng.random(90)
    for f in (ece, brier, bt_nll):
        assert f(d, p_human=p) == pytest.approx(f(-d, p_human=1 - p), abs=1e-12)


def test_p_human_equals_expanded_rater_rows() -> None:
    rng = np.random.default_rng(4)
    d = rng.normal(0, 2, 60)
    p = rng.random(60)
    q = expit(d)
    # rows (y=1, weight p) and (y=0, weight 1-p)
    y = np.r_[np.ones(60), np.zeros(60)]
    w = np.r_[p, 1 - p]
    qq = np.r_[q, q]
    assert brier(d, p_human=p) == pytest.approx(np.average((qq - y) ** 2, weights=w))
    nll = -np.average(y * np.log(qq) + (1 - y) * np.log(1 - qq), weights=w)
    assert bt_nll(d, p_human=p) == pytest.approx(nll)
    c, k = confidence_correct(d, p_human=p)
    np.testing.assert_allclose(c, np.maximum(q, 1 - q))
    # picked chosen (d > 0): correct w.p. p; picked rejected: correct w.p. 1 - p
    np.testing.assert_allclose(k, np.where(d > 0, p, 1 - p))


def test_by_group_values_and_gap() -> None:
    d = np.array([L3, -L3, L9, L9, 0.0, L3])
    g = np.array(["a", "a", "a", "a", "b", "b"])
    res = brier_by_group(d, sensitive_features=g)
    np.testing.assert_allclose(res.values, [brier(d[:4]), brier(d[4:])])
    assert res.gap == pytest.approx(abs(brier(d[:4]) - brier(d[4:])))
    # a: (0.25² + 0.75² + 0.1² + 0.1²)/4 = 0.16125; b: (0.5² + 0.25²)/2 = 0.15625
    np.testing.assert_allclose(res.values, [0.16125, 0.15625])
    assert res.best == "b" and res.worst == "a"
    assert res.by_group["b"] == pytest.approx(brier(d[4:]))
    e = ece_by_group(d, sensitive_features=g, n_bins=2)
    assert e.values[0] == pytest.approx(ece(d[:4], n_bins=2))
    assert e.values[1] == pytest.approx(ece(d[4:], n_bins=2))
    n = bt_nll_by_group(d, sensitive_features=g, sample_weight=[1, 1, 1, 1, 0, 0])
    assert np.isnan(n.values[1]) and n.gap == 0.0 and n.best == n.worst == "a"


def _brier_formula(d, p, w, t):
    q = expit(d / t)
    return np.average(p * (1 - q) ** 2 + (1 - p) * q**2, weights=w)


def _nll_formula(d, p, w, t):
    q = expit(d / t)
    return np.average(-(p * np.log(q) + (1 - p) * np.log(1 - q)), weights=w)


@pytest.mark.parametrize(
    ("overall", "by_group", "formula"),
    [(brier, brier_by_group, _brier_formula), (bt_nll, bt_nll_by_group, _nll_formula)],
    ids=["brier", "bt_nll"],
)
def test_loss_by_group_is_the_loss_within_each_group(overall, by_group, formula) -> None:
    """Brier and BT NLL share one per-group mean-loss helper: check it against the formula."""
    rng = np.random.default_rng(3)
    d, p, w = rng.normal(0.3, 1.5, 60), rng.uniform(size=60), rng.uniform(0.2, 2.0, 60)
    g = rng.choice(np.array(["x", "y", "z"]), 60)
    t = 1.7
    res = by_group(d, sensitive_features=g, p_human=p, sample_weight=w, temperature=t)
    assert overall(d, p_human=p, sample_weight=w, temperature=t) == pytest.approx(
        formula(d, p, w, t), rel=1e-12)
    for lab in ("x", "y", "z"):
        m = g == lab
        assert res.by_group[lab] == pytest.approx(formula(d[m], p[m], w[m], t), rel=1e-12)
        assert res.by_group[lab] == overall(d[m], p_human=p[m], sample_weight=w[m], temperature=t)
    assert res.gap == pytest.approx(np.nanmax(res.values) - np.nanmin(res.values))
    with pytest.raises(FaroUsageError, match="temperature"):
        by_group(d, sensitive_features=g, temperature=0.0)
    with pytest.raises(FaroUsageError, match="temperature"):
        overall(d, temperature=-1.0)


def test_calibration_input_errors() -> None:
    with pytest.raises(FaroUsageError, match="n_bins"):
        ece([1.0], n_bins=0)
    with pytest.raises(FaroInputError, match="p_human"):
        brier([1.0], p_human=[1.5])
    with pytest.raises(FaroInputError, match="margin"):
        bt_nll([np.nan])
    with pytest.raises(FaroUsageError, match="temperature"):
        ece([1.0], temperature=0)
