"""Splits (stratified, by cluster, hashed), stratified minibatches, baselines, Pareto marking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.retrain.baselines import balance_weights, fit_group_shift
from faro_audit.retrain.batches import StratifiedSampler
from faro_audit.retrain.splits import split_rows
from faro_audit.retrain.sweep import pareto_mask


def _frame(n: int, seed: int, *, k: int = 3, prompts: int | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p = rng.integers(0, prompts or n, size=n)
    return pd.DataFrame({"prompt": [f"p{i}" for i in p], "chosen": "c", "rejected": "r",
                         "g": rng.choice([f"g{j}" for j in range(k)], size=n,
                                         p=np.r_[0.6, np.full(k - 1, 0.4 / (k - 1))])})


def test_split_partitions_rows_by_cluster_and_keeps_every_group():
    f = _frame(600, 0, prompts=200)
    s = split_rows(f, attributes=["g"], dual_fraction=0.2, audit_fraction=0.25, random_state=3,
                   hash_columns=["prompt", "g"])
    parts = [s.train.rows, s.dual.rows, s.audit.rows]
    allrows = np.sort(np.concatenate(parts))
    np.testing.assert_array_equal(allrows, np.arange(600))  # a partition, nothing dropped
    prompts = [set(f.prompt.iloc[r]) for r in parts]
    assert not (prompts[0] & prompts[1]) and not (prompts[0] & prompts[2]) and not (prompts[1] & prompts[2])
    for r in parts:
        assert set(f.g.iloc[r]) == {"g0", "g1", "g2"}
    assert s.unit == "prompt"
    n_clusters = {name: f.prompt.iloc[r].nunique() for name, r in zip("tda", parts)}
    total = sum(n_clusters.values())
    assert abs(n_clusters["d"] / total - 0.2) < 0.05 and abs(n_clusters["a"] / total - 0.25) < 0.05


def test_split_is_seeded_and_hashes_follow_content():
    f = _frame(300, 1)
    a = split_rows(f, attributes=["g"], random_state=7, hash_columns=["prompt", "g"])
    b = split_rows(f, attributes=["g"], random_state=7, hash_columns=["prompt", "g"])
    c = split_rows(f, attributes=["g"], random_state=8, hash_columns=["prompt", "g"])
    assert a.train.sha256 == b.train.sha256 and np.array_equal(a.dual.rows, b.dual.rows)
    assert a.train.sha256 != c.train.sha256
    g = f.copy()
    g.loc[a.dual.rows[0], "prompt"] = "changed"
    assert split_rows(g, attributes=["g"], random_state=7, hash_columns=["prompt", "g"]).dual.sha256 != a.dual.sha256
    assert a.audit is None and "audit" not in a.as_dict()


def test_twin_sets_stay_together():
    f = pd.DataFrame({"prompt": [f"p{i}" for i in range(40)], "chosen": "c", "rejected": "r",
                      "g": ["a", "b"] * 20, "cf_id": np.repeat([f"t{i}" for i in range(20)], 2)})
    s = split_rows(f, attributes=["g"], random_state=0)
    assert s.unit == "cf_id"
    for rows in (s.train.rows, s.dual.rows):
        sets = f.cf_id.iloc[rows]
        assert (sets.value_counts() == 2).all()


def test_split_errors():
    f = pd.DataFrame({"prompt": ["a", "b", "c"], "chosen": "c", "rejected": "r",
                      "g": ["x", "x", "y"]})
    with pytest.raises(FaroInputError, match="'y'"):
        split_rows(f, attributes=["g"])
    with pytest.raises(FaroUsageError, match="dual_fraction"):
        split_rows(f, attributes=["g"], dual_fraction=0.6, audit_fraction=0.5)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 1000), batch=st.integers(3, 64))
def test_minibatch_weights_restore_population_shares(seed, batch):
    f = _frame(200, seed)
    rows = np.arange(200)
    base = np.random.default_rng(seed).uniform(0.5, 2.0, size=200)
    sampler = StratifiedSampler(rows, f.g.to_numpy(), batch_size=batch, row_weight=base)
    b = sampler.sample(np.random.default_rng(seed))
    per = sampler.per_stratum
    assert b.rows.size == per * 3
    # equal allocation per stratum, and each stratum's weight share equals its share of the
    # split's total weight in expectation; exactly so for unit row weights
    u = StratifiedSampler(rows, f.g.to_numpy(), batch_size=batch).sample(np.random.default_rng(seed))
    shares = pd.Series(u.weight).groupby(f.g.to_numpy()[u.rows]).sum() / u.weight.sum()
    pop = f.g.value_counts(normalize=True)
    for g in pop.index:
        assert shares[g] == pytest.approx(pop[g])


def test_minibatch_weighted_mean_is_unbiased():
    rng = np.random.default_rng(0)
    f = _frame(300, 2)
    y = rng.normal(size=300) + (f.g == "g0") * 2.0
    base = rng.uniform(0.5, 2.0, size=300)
    sampler = StratifiedSampler(np.arange(300), f.g.to_numpy(), batch_size=30, row_weight=base)
    sums = []
    for _ in range(3000):
        b = sampler.sample(rng)
        sums.append(np.sum(b.weight * y[b.rows]) / np.sum(b.weight))
    # ratio estimator: unbiased up to O(1/b); the mean over draws matches the weighted mean
    assert np.mean(sums) == pytest.approx(np.average(y, weights=base), abs=0.03)


def test_cf_sets_are_drawn_whole():
    cf = np.array([0, 0, 1, 1, 1, -1, 2, 3, 3])
    s = StratifiedSampler(np.arange(9), np.zeros(9), batch_size=4, cf_sets=cf, cf_sets_per_batch=2)
    b = s.sample(np.random.default_rng(0))
    ids, counts = np.unique(cf[b.cf_rows], return_counts=True)
    assert len(ids) == 2 and all(counts[i] == (cf == ids[i]).sum() for i in range(2))
    assert 2 not in ids  # a singleton set has no twin


def test_full_batches_are_the_whole_split_with_its_weights():
    """batch_size=0: every step is the split itself (sorted, once), weights = the weight
    column normalised to mean 1, every twin set of ≥ 2 rows; no randomness."""
    f = _frame(50, 3)
    rows = np.random.default_rng(0).permutation(np.arange(5, 45))
    base = np.random.default_rng(1).uniform(0.5, 2.0, size=50)
    cf = np.where(np.arange(50) % 5 == 0, -1, np.arange(50) // 2)
    s = StratifiedSampler(rows, f.g.to_numpy()[rows], batch_size=0, row_weight=base, cf_sets=cf)
    a, b = s.sample(np.random.default_rng(0)), s.sample(np.random.default_rng(99))
    np.testing.assert_array_equal(a.rows, np.arange(5, 45))
    np.testing.assert_array_equal(a.rows, b.rows)
    np.testing.assert_allclose(a.weight, base[5:45] / base[5:45].mean())
    ids, counts = np.unique(cf[a.cf_rows], return_counts=True)
    expect = {k for k in set(cf[rows]) - {-1} if (cf[rows] == k).sum() >= 2}
    assert set(ids) == expect and (counts >= 2).all()
    with pytest.raises(FaroUsageError, match="batch_size"):
        StratifiedSampler(rows, f.g.to_numpy()[rows], batch_size=-1)


def test_cluster_id_is_the_split_unit():
    """The audit's ``cluster_id`` column (SPEC §1) is the split unit when there are no twins:
    rows sharing a prompt but not a cluster id may land in different splits."""
    f = _frame(300, 4, prompts=5)
    f["cluster_id"] = [f"c{i // 2}" for i in range(300)]
    s = split_rows(f, attributes=["g"], dual_fraction=0.3, random_state=0)
    assert s.unit == "cluster_id"
    tr, du = set(f.cluster_id.iloc[s.train.rows]), set(f.cluster_id.iloc[s.dual.rows])
    assert not tr & du
    assert set(f.prompt.iloc[s.train.rows]) & set(f.prompt.iloc[s.dual.rows])


def test_balance_weights():
    strata = np.array(["a"] * 6 + ["b"] * 2 + ["c"] * 4)
    w = balance_weights(strata, np.arange(10), np.ones(12))
    sums = pd.Series(w[:10]).groupby(strata[:10]).sum()
    assert np.allclose(sums, 10 / 3)
    assert (w[10:] == 1).all()


@pytest.mark.parametrize("hard", [False, True])
def test_group_shift_equalises_group_means_on_its_data(hard):
    rng = np.random.default_rng(0)
    s = np.array(["a"] * 400 + ["b"] * 600)
    d = rng.normal(size=1000) + np.where(s == "a", 1.5, 0.0)
    shift = fit_group_shift(d, s, weight=np.ones(1000), p_human=None, metric="dp", hard=hard,
                            temperature=1.0)
    o = (np.sign(shift.apply(d, s)) + 1) / 2 if hard else 1 / (1 + np.exp(-shift.apply(d, s)))
    ma, mb = o[s == "a"].mean(), o[s == "b"].mean()
    assert abs(ma - mb) < (1 / 400 + 1e-9 if hard else 1e-8)
    assert shift.offsets["a"] > 0 > shift.offsets["b"]


def test_pareto_mask_known_answer():
    costs = np.array([[0.1, 0.5], [0.2, 0.4], [0.2, 0.6], [0.1, 0.5], [0.05, 0.9]])
    assert pareto_mask(costs).tolist() == [True, True, False, True, True]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(1, 4), st.integers(0, 10_000))
def test_pareto_mask_properties(n, k, seed):
    c = np.random.default_rng(seed).integers(0, 4, size=(n, k)).astype(float)
    mask = pareto_mask(c)
    assert mask.any()  # a minimum of the sum is never dominated
    for i in np.flatnonzero(mask):
        assert not any((c[j] <= c[i]).all() and (c[j] < c[i]).any() for j in range(n))
    for i in np.flatnonzero(~mask):
        assert any((c[j] <= c[i]).all() and (c[j] < c[i]).any() for j in range(n))
