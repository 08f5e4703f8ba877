"""The torch constraint proxies agree with the audit's metric functions (faro_audit.metrics)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.metrics.counterfactual import cf_gap
from faro_audit.metrics.outcomes import hard_outcome, soft_outcome
from faro_audit.metrics.parity import dp_gap, pair_accuracy_outcome
from faro_audit.retrain.constraints import ConstraintSet, TrainingConstraint


def _cset(constraints, codes, labels, cf=None, p=None, T=1.0):
    return ConstraintSet(constraints, groups={"g": (codes, labels)}, cf_sets=cf, p_human=p,
                         temperature=T)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(4, 60),
    k=st.integers(2, 4),
    seed=st.integers(0, 10_000),
    method=st.sampled_from(["to_overall", "between_groups"]),
    outcome=st.sampled_from(["soft", "hard"]),
    metric=st.sampled_from(["dp", "eo"]),
    T=st.sampled_from([0.5, 1.0, 2.0]),
)
def test_true_gap_equals_metrics(n, k, seed, method, outcome, metric, T):
    rng = np.random.default_rng(seed)
    d = rng.normal(scale=2, size=n)
    d[rng.random(n) < 0.1] = 0.0  # ties count ½
    codes = rng.integers(0, k, size=n)
    w = rng.uniform(0.2, 2.0, size=n)
    p = rng.uniform(size=n) if metric == "eo" else None
    labels = tuple(f"g{j}" for j in range(k))
    c = TrainingConstraint(metric, method, outcome, "g", 0.05)
    cs = _cset([c], codes, labels, p=p, T=T)
    vals = cs.values(torch.as_tensor(d), np.arange(n), torch.as_tensor(w), proxy=False)
    o = hard_outcome(d) if outcome == "hard" else soft_outcome(d, temperature=T)
    y = pair_accuracy_outcome(o, p_human=p) if metric == "eo" else o
    expected = dp_gap(y, sensitive_features=np.asarray(labels)[codes], sample_weight=w,
                      method=method)
    assert cs.gaps(vals.numpy())[0] == pytest.approx(expected, abs=1e-12)
    assert vals.shape == (2 * k if method == "to_overall" else k * (k - 1),)


@settings(max_examples=40, deadline=None)
@given(n_sets=st.integers(1, 15), seed=st.integers(0, 10_000),
       outcome=st.sampled_from(["soft", "hard"]))
def test_cf_gap_equals_metrics(n_sets, seed, outcome):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 4, size=n_sets)
    sets = np.repeat(np.arange(n_sets), sizes)
    n = sets.size
    d = rng.normal(size=n)
    cs = _cset([TrainingConstraint("cf", "mean_spread", outcome, "g", 0.1)],
               np.zeros(n, int), ("a",), cf=sets)
    v = cs.values(torch.zeros(0), np.zeros(0, int), torch.zeros(0), cf_margin=torch.as_tensor(d),
                  cf_rows=np.arange(n), proxy=False)
    o = hard_outcome(d) if outcome == "hard" else soft_outcome(d)
    if (sizes >= 2).any():
        expected = cf_gap(o, cf_id=sets, allow_singletons=True).gap
    else:
        expected = 0.0
    assert cs.gaps(v.numpy())[0] == pytest.approx(expected, abs=1e-12)


def test_proxy_is_soft_and_differentiable():
    d = torch.tensor([2.0, -1.0, 0.5, 0.0], dtype=torch.float64, requires_grad=True)
    codes = np.array([0, 0, 1, 1])
    cs = _cset([TrainingConstraint("dp", "to_overall", "hard", "g", 0.05)], codes, ("a", "b"))
    v = cs.values(d, np.arange(4), torch.ones(4, dtype=torch.float64), proxy=True)
    v.max().backward()
    assert d.grad is not None and torch.count_nonzero(d.grad) > 0
    # the proxy equals the soft gap even though the true constraint is hard
    soft = torch.sigmoid(d.detach())
    m = torch.stack([soft[:2].mean(), soft[2:].mean()])
    assert cs.gaps(v.detach().numpy())[0] == pytest.approx(float((m - soft.mean()).abs().max()))


def test_known_values_anchored_and_absent_group():
    # group a: outcomes 1, 1 (hard), group b: 0, 1, group c absent from these rows
    d = torch.tensor([1.0, 2.0, -1.0, 3.0], dtype=torch.float64)
    codes = np.array([0, 0, 1, 1, 2])
    cs = _cset([TrainingConstraint("dp", "to_overall", "hard", "g", 0.1)], codes, ("a", "b", "c"))
    v = cs.values(d, np.arange(4), torch.ones(4, dtype=torch.float64), proxy=False).numpy()
    # m_a = 1, m_b = 0.5, pool = 0.75; order: m_x − pool − ε for a, b, c, then pool − m_x − ε;
    # the absent group c reads −ε
    np.testing.assert_allclose(v, [0.15, -0.35, -0.1, -0.35, 0.15, -0.1])
    assert cs.gaps(v)[0] == pytest.approx(0.25)
    assert cs.descriptions[0] == "dp_anchored:hard@g: m[a] − m_pool ≤ ε"
    assert list(cs.owner) == [0] * 6


def test_cf_gradient_flows_to_extremes():
    d = torch.tensor([0.0, 1.0, 3.0], dtype=torch.float64, requires_grad=True)
    cs = _cset([TrainingConstraint("cf", "mean_spread", "soft", None, 0.1)],
               np.zeros(3, int), ("a",), cf=np.array([0, 0, 0]))
    v = cs.values(torch.zeros(0), np.zeros(0, int), torch.zeros(0), cf_margin=d,
                  cf_rows=np.arange(3), proxy=True)
    v.sum().backward()
    g = d.grad.numpy()
    assert g[0] < 0 and g[2] > 0 and g[1] == 0


def test_constraint_validation_and_names():
    c = TrainingConstraint("eo", "to_overall", "hard", "gender", 0.05)
    assert c.text == "eo_anchored:hard@gender=0.05" and c.name == "eo_anchored:hard@gender"
    with pytest.raises(FaroUsageError, match="outside"):
        TrainingConstraint("dp", "to_overall", "soft", "g", 0.0)
    with pytest.raises(FaroUsageError, match="method"):
        TrainingConstraint("dp", "mean_spread", "soft", "g", 0.1)
    with pytest.raises(FaroInputError, match="cf_id"):
        ConstraintSet([TrainingConstraint("cf", "mean_spread", "soft", None, 0.1)], groups={})
    with pytest.raises(FaroUsageError, match="not a group column"):
        ConstraintSet([c], groups={"race": (np.zeros(2, int), ("x",))})
