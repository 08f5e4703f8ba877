"""Hypothesis property tests of the gap metrics (SPEC §3)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from faro_audit.metrics import cf_gap, dp_gap, ece, eo_gap, group_auc

SETTINGS = settings(max_examples=60, deadline=None)
TOL = 1e-12
METHODS = ("between_groups", "to_overall")

outcome = st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 0.5, 1.0]))


@st.composite
def grouped(draw: st.DrawFn, with_label: bool = False) -> dict[str, np.ndarray | None]:
    n = draw(st.integers(2, 40))
    y = np.array(draw(st.lists(outcome, min_size=n, max_size=n)))
    g = np.array(draw(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=n, max_size=n)))
    weighted = draw(st.booleans())
    w = None
    if weighted:
        w = np.array(draw(st.lists(st.floats(0.01, 10.0), min_size=n, max_size=n)))
    label = None
    if with_label:
        label = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    perm = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).permutation(n)
    return {"y": y, "g": g, "w": w, "label": label, "perm": perm}


def _rename(g: np.ndarray) -> np.ndarray:
    mapping = {"a": "zeta", "b": "alpha", "c": "Ω", "d": "0"}  # changes the sort order too
    return np.array([mapping[v] for v in g], dtype=object)


@SETTINGS
@given(grouped())
def test_dp_gap_bounds_and_invariances(data: dict) -> None:
    y, g, w, p = data["y"], data["g"], data["w"], data["perm"]
    gaps = {}
    for m in METHODS:
        v = dp_gap(y, sensitive_features=g, sample_weight=w, method=m)
        assert 0.0 <= v <= 1.0
        wp = None if w is None else w[p]
        vp = dp_gap(y[p], sensitive_features=g[p], sample_weight=wp, method=m)
        assert abs(v - vp) <= TOL
        vr = dp_gap(y, sensitive_features=_rename(g), sample_weight=w, method=m)
        assert abs(v - vr) <= TOL
        gaps[m] = v
    assert gaps["between_groups"] <= 2 * gaps["to_overall"] + TOL
    assert gaps["to_overall"] <= gaps["between_groups"] + TOL


@SETTINGS
@given(grouped(with_label=True))
def test_eo_gap_bounds_and_invariances(data: dict) -> None:
    y, g, w, lab, p = data["y"], data["g"], data["w"], data["label"], data["perm"]
    b = eo_gap(y, lab, sensitive_features=g, sample_weight=w)
    a = eo_gap(y, lab, sensitive_features=g, sample_weight=w, method="to_overall")
    assert 0.0 <= a <= b + TOL <= 1.0 + 2 * TOL
    assert b <= 2 * a + TOL
    bp = eo_gap(y[p], lab[p], sensitive_features=g[p], sample_weight=None if w is None else w[p])
    assert abs(b - bp) <= TOL
    assert abs(b - eo_gap(y, lab, sensitive_features=_rename(g), sample_weight=w)) <= TOL


@SETTINGS
@given(st.lists(outcome, min_size=1, max_size=15), st.integers(2, 5), st.booleans())
def test_zero_gap_when_every_group_has_the_same_outcomes(base: list, k: int, lab: bool) -> None:
    y = np.tile(np.array(base), k)
    g = np.repeat(np.arange(k), len(base))
    labels = np.tile(np.arange(len(base)) % 2, k)
    for m in METHODS:
        assert dp_gap(y, sensitive_features=g, method=m) <= TOL
        if lab:
            assert eo_gap(y, labels, sensitive_features=g, method=m) <= TOL


@st.composite
def twin_sets(draw: st.DrawFn) -> dict[str, np.ndarray]:
    sizes = draw(st.lists(st.integers(2, 4), min_size=1, max_size=12))
    n = sum(sizes)
    ids = np.repeat(np.arange(len(sizes)) * 7 + 3, sizes)
    y = np.array(draw(st.lists(outcome, min_size=n, max_size=n)))
    seed = draw(st.integers(0, 2**32 - 1))
    return {"y": y, "id": ids, "perm": np.random.default_rng(seed).permutation(n)}


@SETTINGS
@given(twin_sets())
def test_cf_gap_bounds_and_row_order(data: dict) -> None:
    y, ids, p = data["y"], data["id"], data["perm"]
    hard = (y > 0.5) + 0.5 * (y == 0.5)
    res = cf_gap(y, cf_id=ids, hard=hard, reward=y)
    assert 0.0 <= res.gap <= res.max_spread <= 1.0
    assert 0.0 <= res.flip_rate <= 1.0
    assert res.mean_abs_reward_diff <= np.max(res.reward_spreads) + TOL
    rp = cf_gap(y[p], cf_id=ids[p], hard=hard[p], reward=y[p])
    assert abs(res.gap - rp.gap) <= TOL and res.flip_rate == rp.flip_rate
    assert abs(res.mean_abs_reward_diff - rp.mean_abs_reward_diff) <= 1e-9
    np.testing.assert_array_equal(res.spreads, rp.spreads)
    # set ids are sorted, so the worst set is the same one, and its rows map back
    assert res.max_spread_set == rp.max_spread_set
    np.testing.assert_array_equal(np.sort(p[rp.max_spread_rows]), res.max_spread_rows)


@SETTINGS
@given(grouped(with_label=True))
def test_ece_and_auc_row_order(data: dict) -> None:
    y, g, w, lab, p = data["y"], data["g"], data["w"], data["label"], data["perm"]
    d = np.round((y - 0.5) * 8, 1)  # margins with ties
    wp = None if w is None else w[p]
    e = ece(d, sample_weight=w)
    assert 0.0 <= e <= 1.0
    assert abs(e - ece(d[p], sample_weight=wp)) <= TOL
    a = group_auc(lab, d, sensitive_features=g, sample_weight=w)
    ap = group_auc(lab[p], d[p], sensitive_features=g[p], sample_weight=wp)
    np.testing.assert_allclose(a.auc, ap.auc, atol=TOL)
