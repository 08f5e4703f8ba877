"""Validity by simulation (SPEC §5.6): certificates hold in at least 1 − δ of repetitions.

Data with a known TRUE gap just above ε (ε + 0.01, the worst case for false certification) are
simulated for every bound, for DP (between groups and anchored), EO and CF, with balanced and
20:1 imbalanced groups and clustered rows (clusters of 1–5 rows with a cluster random effect).
The test helper averages clusters (SPEC §5.2) and builds the CertificateRequests directly.

Two counts per configuration over R repetitions, each compared with the one-sided binomial
allowance at 1% (``binom.ppf(0.99, R, δ)``):

* certified: the constraint (true gap > ε) is certified — must be ≤ allowance;
* missed: the simultaneous group-mean intervals do not all cover the true group means —
  must be ≤ allowance (this is the sensitive check; a certificate can only be wrong on it).

A negative control (a row-level Wald interval that ignores clustering) must fail the same
check, and a power check (true gap 0, loose ε) must certify, so the simulation can fail.
Clopper–Pearson needs binary cluster values, so its configurations use one row per cluster.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np
import pytest
from scipy import stats

from faro_audit.stats.certificates import (
    CertificateRequest,
    Constraint,
    MeanSample,
    certify,
)

DELTA = 0.1  # larger than the default 0.05: more misses are expected, so the check is sharper
EPS = 0.05
MARGIN = 0.01
KAPPA = 4.0  # cluster effect p_c ~ Beta(μκ, (1 − μ)κ): intra-cluster correlation ≈ 0.7 for soft rows
KAPPA_ROW = 10.0  # soft row outcome ~ Beta(p_c κ_r, (1 − p_c) κ_r)
MAX_CLUSTER = 5

BOUNDS = [
    ("hoeffding", "soft"),
    ("bernstein", "soft"),
    ("betting", "soft"),
    ("betting", "hard"),
    ("clopper-pearson", "hard"),
]
CONSTRAINTS = ["dp", "dp_anchored", "eo", "cf"]
BALANCES = ["balanced", "imbalanced"]


def allowance(reps: int, delta: float = DELTA) -> int:
    """Largest count compatible with a rate ≤ δ at one-sided level 1% (binomial)."""
    return int(stats.binom.ppf(0.99, reps, delta))


@dataclass(frozen=True)
class Config:
    bound: str
    outcome: str
    constraint: str
    balance: str

    @property
    def clustered(self) -> bool:
        return self.bound != "clopper-pearson"


@dataclass(frozen=True)
class GroupDraws:
    """R repetitions of one group's cluster means: values (R, C), weights (R, C) or None."""

    values: np.ndarray
    weights: np.ndarray | None
    true_mean: float


def draw_group(rng: np.random.Generator, mean: float, n_clusters: int, reps: int, cfg: Config) -> GroupDraws:
    """Cluster means of R simulated data sets for one group, all at once."""
    if not cfg.clustered:  # one binary row per cluster
        rows = (rng.random((reps, n_clusters)) < mean).astype(float)
        return GroupDraws(rows, None, mean)
    sizes = rng.integers(1, MAX_CLUSTER + 1, size=(reps, n_clusters))
    p = np.clip(rng.beta(mean * KAPPA, (1 - mean) * KAPPA, size=(reps, n_clusters)), 1e-9, 1 - 1e-9)
    shape = (reps, n_clusters, MAX_CLUSTER)
    if cfg.outcome == "soft":
        rows = rng.beta((p * KAPPA_ROW)[..., None], ((1 - p) * KAPPA_ROW)[..., None], size=shape)
    else:
        rows = (rng.random(shape) < p[..., None]).astype(float)
    mask = np.arange(MAX_CLUSTER) < sizes[..., None]
    # Row-weighted group mean = cluster means weighted by rows; cluster size ⊥ cluster effect,
    # so the true (row) mean is `mean`.
    return GroupDraws((rows * mask).sum(-1) / sizes, sizes.astype(float), mean)


def draw_spreads(rng: np.random.Generator, n_sets: int, reps: int, cfg: Config) -> GroupDraws:
    """Twin pairs (clusters of 2 rows) and their spreads s_k = max − min, with E[s] = ε + margin."""
    target = EPS + MARGIN
    if cfg.outcome == "soft":
        base = rng.random((reps, n_sets))
        eta = rng.beta(1.2, 1.2 * (1 - 2 * target) / (2 * target), size=(reps, n_sets))  # E[η] = 2·target
        twins = np.stack([base, base + eta * (1 - base)], axis=-1)  # E[spread] = E[η]/2
    else:
        first = rng.random((reps, n_sets)) < 0.5
        flip = rng.random((reps, n_sets)) < target
        twins = np.stack([first, first ^ flip], axis=-1).astype(float)
    return GroupDraws(twins.max(-1) - twins.min(-1), None, target)


def scenario(cfg: Config) -> tuple[list[list[tuple[float, int]]], tuple[tuple[float, ...], ...] | None]:
    """Per class, (true mean, clusters) per group; and anchored shares. True gap = ε + margin."""
    g = EPS + MARGIN
    if cfg.balance == "balanced":
        if cfg.constraint == "dp":
            return [[(0.45, 150), (0.48, 150), (0.45 + g, 150)]], None
        if cfg.constraint == "dp_anchored":  # pool = 0.45 + g/2, |m_3 − pool| = g
            return [[(0.45, 150), (0.45, 150), (0.45 + 1.5 * g, 150)]], ((1 / 3, 1 / 3, 1 / 3),)
        return [[(0.5, 150), (0.53, 150)], [(0.4, 150), (0.4 + g, 150)]], None  # eo
    big, small = 600, 30
    if cfg.constraint == "dp":
        return [[(0.45, big), (0.45 + g, small)]], None
    if cfg.constraint == "dp_anchored":  # |m_small − pool| = (1 − w_small)·diff = g
        w_small = small / (big + small)
        return [[(0.45, big), (0.45 + g / (1 - w_small), small)]], ((1 - w_small, w_small),)
    return [[(0.5, big), (0.53, small)], [(0.4, big), (0.4 + g, small)]], None  # eo


def simulate(cfg: Config, reps: int, seed: int, interval_fn=None) -> tuple[int, int]:
    """(number certified, number of repetitions where the joint coverage failed)."""
    rng = np.random.default_rng(seed)
    method = {"dp": "between_groups", "dp_anchored": "to_overall", "eo": "between_groups", "cf": "mean_spread"}
    constraint = Constraint(
        "dp" if cfg.constraint.startswith("dp") else cfg.constraint, cfg.outcome, "attr", method[cfg.constraint], EPS
    )
    if cfg.constraint == "cf":
        classes_draws = [[draw_spreads(rng, 400 if cfg.balance == "balanced" else 60, reps, cfg)]]
        shares = None
    else:
        spec, shares = scenario(cfg)
        classes_draws = [[draw_group(rng, m, c, reps, cfg) for m, c in cls] for cls in spec]
    certified = missed = 0
    for r in range(reps):
        classes = []
        truth: dict[str, float] = {}
        for ci, draws in enumerate(classes_draws):
            cls = []
            for gi, d in enumerate(draws):
                w = None if d.weights is None else d.weights[r]
                n_rows = int(w.sum()) if w is not None else d.values.shape[1]
                label = f"c{ci}g{gi}"
                cls.append(MeanSample(key=(cfg.outcome, "attr", ci, label), group=label, values=d.values[r],
                                      sample_weight=w, n_rows=n_rows))
                truth[label] = d.true_mean
            classes.append(tuple(cls))
        request = CertificateRequest(constraint, tuple(classes), shares=shares,
                                     class_labels=tuple(f"c{ci}" for ci in range(len(classes))))
        if interval_fn is None:
            (cert,) = certify([request], delta=DELTA, bound=cfg.bound, random_state=0).certificates
            certified += cert.verdict == "certified"
            boxes = {name.split(": ")[-1]: (lo, hi) for name, (_, lo, hi, _) in cert.group_intervals.items()}
        else:
            k = sum(len(c) for c in classes)
            boxes = {s.group: interval_fn(s, DELTA / k) for c in classes for s in c}
        missed += not all(boxes[g][0] <= truth[g] <= boxes[g][1] for g in truth)
    return certified, missed


def naive_row_wald(sample: MeanSample, delta: float) -> tuple[float, float]:
    """Negative control: Wald interval treating every row as independent (ignores clusters)."""
    w = sample.sample_weight if sample.sample_weight is not None else np.ones_like(sample.values)
    mean = float(np.dot(w, sample.values) / w.sum())
    within = float(np.dot(w, (sample.values - mean) ** 2) / w.sum())
    half = stats.norm.ppf(1 - delta / 2) * math.sqrt(within / w.sum())
    return mean - half, mean + half


def check(cfg: Config, reps: int, seed: int) -> None:
    certified, missed = simulate(cfg, reps, seed)
    limit = allowance(reps)
    print(f"\n{cfg}: certified {certified}/{reps}, joint coverage failed {missed}/{reps} (allowance {limit})")
    assert certified <= limit, f"{cfg}: false certification {certified}/{reps} > {limit}"
    assert missed <= limit, f"{cfg}: simultaneous intervals missed {missed}/{reps} > {limit}"


# --------------------------------------------------------------------------- fast (default)

FAST = [
    Config("betting", "soft", "dp", "imbalanced"),
    Config("clopper-pearson", "hard", "eo", "balanced"),
    Config("bernstein", "soft", "cf", "imbalanced"),
]


@pytest.mark.parametrize("cfg", FAST, ids=lambda c: f"{c.bound}-{c.outcome}-{c.constraint}-{c.balance}")
def test_certificates_hold_fast(cfg: Config) -> None:
    check(cfg, reps=200, seed=1)


def test_negative_control_fails_the_check() -> None:
    """Ignoring clustering (row-level Wald) undercovers badly: the check detects it."""
    cfg = Config("betting", "soft", "dp", "balanced")
    _, missed = simulate(cfg, reps=200, seed=2, interval_fn=naive_row_wald)
    print(f"\nrow-level Wald negative control: joint coverage failed {missed}/200 (allowance {allowance(200)})")
    assert missed > allowance(200)


def test_power_when_the_gap_is_zero() -> None:
    """Same machinery with true gap 0 and ε = 0.25: certification is the rule, not the exception."""
    rng = np.random.default_rng(3)
    cfg = Config("betting", "soft", "dp", "balanced")
    draws = [draw_group(rng, 0.5, 150, 50, cfg) for _ in range(3)]
    wins = 0
    for r in range(50):
        samples = tuple(
            MeanSample(("soft", "attr", None, f"g{i}"), f"g{i}", d.values[r], d.weights[r], int(d.weights[r].sum()))
            for i, d in enumerate(draws)
        )
        req = CertificateRequest(Constraint("dp", "soft", "attr", "between_groups", 0.25), (samples,))
        wins += certify([req], delta=DELTA).certificates[0].verdict == "certified"
    assert wins >= 45


def test_simulated_truth_matches_the_design() -> None:
    """The helper's true means are what it simulates (large-sample check of the generator)."""
    rng = np.random.default_rng(4)
    for cfg in (Config("betting", "soft", "dp", "balanced"), Config("betting", "hard", "dp", "balanced")):
        d = draw_group(rng, 0.3, 2000, 20, cfg)
        row_means = (d.values * d.weights).sum(1) / d.weights.sum(1)
        assert abs(row_means.mean() - 0.3) < 0.005
    for outcome in ("soft", "hard"):
        s = draw_spreads(rng, 5000, 20, Config("betting", outcome, "cf", "balanced"))
        assert abs(s.values.mean() - (EPS + MARGIN)) < 0.003


# --------------------------------------------------------------------------- full grid (slow)

GRID = [Config(b, o, c, bal) for b, o in BOUNDS for c in CONSTRAINTS for bal in BALANCES]


@pytest.mark.slow
@pytest.mark.parametrize("cfg", GRID, ids=lambda c: f"{c.bound}-{c.outcome}-{c.constraint}-{c.balance}")
def test_certificates_hold_full_grid(cfg: Config) -> None:
    check(cfg, reps=500, seed=zlib.crc32(f"{cfg.bound}-{cfg.outcome}-{cfg.constraint}-{cfg.balance}".encode()))
