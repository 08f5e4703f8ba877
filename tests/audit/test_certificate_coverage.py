"""Coverage of the audit's certificates by simulation (SPEC §5; issue 10's "must show").

Tables with a known true gap are simulated and certified through the audit's own request
builder (:func:`faro_audit.audit.certify.build_requests`, so the estimand, cluster weights and
the paired/unpaired choice are the ones a real audit uses), then :func:`certify`:

* ``above``: true gap = ε + 0.01. A ``certified`` verdict is wrong; the count must stay within
  the one-sided binomial allowance of rate δ/2 (each side of a constraint gets δ_j/2, and a
  single constraint has δ_j = δ).
* ``below``: true gap = ε − 0.01 (or 0). A ``violated`` verdict is wrong; same allowance.
* always: [LCB, UCB] must cover the true gap in ≥ 1 − δ of the repetitions (allowance at δ).

Designs: DP between groups and anchored, EO (label classes), CF; soft and hard outcomes;
balanced and 20:1 groups; clusters of one row, of equal size, and of **informative** size
(big clusters have higher outcomes, so the row mean differs from the mean of cluster means);
with and without row weights; twin sets that hold every group once (paired), also joined by
shared clusters; rows given sorted by outcome; and sequential looks at growing prefixes in a
random order, counting a wrong verdict at *any* look.

Negative controls show the simulation can fail: the estimand bug of the old certificate
(cluster means averaged without their sizes when the table has no ``weight`` column) falsely
certifies almost every informative-cluster audit, and a Wald interval that ignores clustering
undercovers.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, replace

import numpy as np
import pytest
from scipy import stats

from faro_audit.audit.arrays import AuditArrays
from faro_audit.audit.certify import build_requests
from faro_audit.audit.constraints import ConstraintSpec
from faro_audit.stats.certificates import (
    CertificateRequest,
    Constraint,
    MeanSample,
    certify,
)

DELTA = 0.1  # larger than the default 0.05: more errors are expected, so the check is sharper
EPS = 0.05
MARGIN = 0.01
SLOW = bool(os.environ.get("FARO_SLOW"))


def allowance(reps: int, rate: float) -> int:
    """Largest count compatible with an error rate ≤ ``rate`` at one-sided level 1%."""
    return int(stats.binom.ppf(0.99, reps, rate))


@dataclass(frozen=True)
class Design:
    metric: str = "dp"  # dp, dp_anchored, eo
    outcome: str = "soft"
    balance: str = "balanced"  # balanced (K = 3) or imbalanced (K = 2, 20:1)
    clusters: str = "none"  # none, equal, informative; paired: none or linked
    weighted: bool = False
    paired: bool = False
    sorted_rows: bool = False
    truth: str = "above"  # above (gap ε + m), below (gap ε − m), zero
    n: int = 150  # rows (unpaired, per small group) or twin sets (paired)
    bound: str = "auto"

    @property
    def gap(self) -> float:
        return {"above": EPS + MARGIN, "below": EPS - MARGIN, "zero": 0.0}[self.truth]

    @property
    def label(self) -> str:
        bits = [self.metric, self.outcome, self.balance, self.clusters, "weighted" if self.weighted else "",
                "paired" if self.paired else "", "sorted" if self.sorted_rows else "", self.truth, self.bound]
        return "-".join(b for b in bits if b)


def _offsets(d: Design) -> list[np.ndarray]:
    """Per label class, the true group means (row means) with the design's true gap."""
    g = d.gap
    k = 2 if d.balance == "imbalanced" else 3
    if d.metric == "dp_anchored":
        # Balanced shares: m_3 − pool = (2/3)·1.5g = g. Imbalanced (shares 20:1): m_small − pool = (20/21)·diff.
        top = np.array([0.45, 0.45, 0.45 + 1.5 * g]) if k == 3 else np.array([0.45, 0.45 + g * 21 / 20])
        return [top]
    first = np.array([0.45, 0.45 + g / 2, 0.45 + g])[:k] if k == 3 else np.array([0.45, 0.45 + g])
    if d.metric == "eo":  # the worst class carries the gap; the other class has a smaller one
        return [first, first * 0 + np.linspace(0.5, 0.5 + g / 2, k)]
    return [first]


def _rows(rng: np.random.Generator, mean: float, n_units: int, d: Design, *, sign: float) -> tuple[np.ndarray, np.ndarray]:
    """(outcomes, cluster index) of one group, with row mean ``mean`` in expectation."""
    kappa_row = 10.0
    if d.clusters == "none":
        p, sizes = np.full(n_units, mean), np.ones(n_units, dtype=int)
    elif d.clusters == "equal":
        p = rng.beta(mean * 4.0, (1 - mean) * 4.0, n_units)
        sizes = np.full(n_units, 3)
    else:  # informative: big clusters (5 rows) sit higher (sign +1) or lower (sign -1)
        big = rng.random(n_units) < 0.5
        shift = 0.015 * sign  # cluster means shift by ∓2·shift: the cluster-mean gap is g − 0.06
        p = np.where(big, mean + shift, mean - 5 * shift)
        sizes = np.where(big, 5, 1)
    p_rows = np.repeat(p, sizes)
    cluster = np.repeat(np.arange(n_units), sizes)
    if d.outcome == "soft":
        o = rng.beta(p_rows * kappa_row, (1 - p_rows) * kappa_row)
    else:
        o = (rng.random(p_rows.size) < p_rows).astype(float)
    return o, cluster


def simulate_table(rng: np.random.Generator, d: Design) -> tuple[AuditArrays, dict, float]:
    """One simulated audit table: (arrays, attribute_groups entry, true gap given the realised shares)."""
    classes = _offsets(d)
    k = classes[0].size
    out_o, out_g, out_c, out_set, out_label = [], [], [], [], []
    next_cluster = 0
    for ci, means in enumerate(classes):
        if d.paired:
            base = rng.uniform(0.25, 0.65, d.n) - 0.45  # set effects, mean 0
            for gi, m in enumerate(means):
                p = np.clip(m + base, 1e-6, 1 - 1e-6)
                o = rng.beta(p * 20.0, (1 - p) * 20.0) if d.outcome == "soft" else (rng.random(d.n) < p).astype(float)
                sets = np.arange(d.n)
                # linked: sets 2j and 2j + 1 share one cluster in every group (one unit of two sets)
                cl = next_cluster + (sets // 2 if d.clusters == "linked" else sets)
                out_o.append(o)
                out_g.append(np.full(d.n, gi))
                out_c.append(cl)
                out_set.append(np.array([f"c{ci}-s{s}" for s in sets]))
                out_label.append(np.full(d.n, ci))
            next_cluster += d.n
            continue
        for gi, m in enumerate(means):
            n_units = d.n * (20 if (d.balance == "imbalanced" and gi == 0) else 1)
            sign = 1.0 if gi == k - 1 else -1.0  # the top group's big clusters sit high, the others' low
            o, cl = _rows(rng, m, n_units, d, sign=sign)
            out_o.append(o)
            out_g.append(np.full(o.size, gi))
            out_c.append(cl + next_cluster)
            out_label.append(np.full(o.size, ci))
            next_cluster += n_units
    o = np.concatenate(out_o)
    groups = np.concatenate(out_g)
    clusters = np.concatenate(out_c)
    label = np.concatenate(out_label)
    cf_id = np.concatenate(out_set) if d.paired else None
    n = o.size
    weight = rng.uniform(0.5, 2.0, n) if d.weighted else np.ones(n)
    if d.sorted_rows:
        order = np.argsort(o, kind="stable")
        o, groups, clusters, label, weight = o[order], groups[order], clusters[order], label[order], weight[order]
        cf_id = None if cf_id is None else cf_id[order]
    arrays = AuditArrays(
        shape="responses" if d.metric == "eo" else "pairs", margin=o, soft=o, hard=o, agree_soft=o, agree_hard=o,
        reward=o, reward_rejected=None, weight=weight, weighted=d.weighted, clusters=clusters.astype(np.int64),
        prompt_ids=clusters.astype(np.int64), label=label.astype(np.int64) if d.metric == "eo" else None,
        p_human=None, cf_id=cf_id, reference=None,
    )
    labels = np.array([f"g{i}" for i in range(k)])
    truth = 0.0
    for ci, means in enumerate(classes):
        if d.metric == "dp_anchored":
            sel = label == ci
            w = np.bincount(groups[sel], weights=weight[sel], minlength=k)
            w = w / w.sum()
            truth = max(truth, float(np.max(np.abs(means - w @ means))))
        else:
            truth = max(truth, float(means.max() - means.min()))
    return arrays, {"attr": (np.arange(n), labels, groups)}, truth


def spec_of(d: Design) -> ConstraintSpec:
    method = "to_overall" if d.metric == "dp_anchored" else "between_groups"
    metric = "eo" if d.metric == "eo" else "dp"
    return ConstraintSpec(metric=metric, method=method, outcome=d.outcome, attribute="attr", epsilon=EPS, text="sim")


def old_estimand(req: CertificateRequest) -> CertificateRequest:
    """The defect being fixed: cluster means averaged with equal weights (no ``weight`` column)."""
    classes = tuple(tuple(replace_sample(s) for s in cls) for cls in req.classes)
    return CertificateRequest(req.constraint, classes, shares=req.shares, class_labels=req.class_labels)


def replace_sample(s: MeanSample) -> MeanSample:
    return MeanSample(key=s.key, group=s.group, values=s.values, sample_weight=None, n_rows=s.n_rows)


@dataclass
class Tally:
    reps: int = 0
    certified: int = 0
    violated: int = 0
    missed: int = 0
    designs: set = None  # type: ignore[assignment]

    def check(self, d: Design, truth: float) -> None:
        print(f"\n{d.label}: certified {self.certified}, violated {self.violated}, missed {self.missed} "
              f"of {self.reps} (designs {sorted(self.designs)})")
        side = allowance(self.reps, DELTA / 2)
        if truth > EPS:
            assert self.certified <= side, f"{d.label}: false certification {self.certified}/{self.reps} > {side}"
        else:
            assert self.violated <= side, f"{d.label}: false violation {self.violated}/{self.reps} > {side}"
        limit = allowance(self.reps, DELTA)
        assert self.missed <= limit, f"{d.label}: [LCB, UCB] missed the true gap {self.missed}/{self.reps} > {limit}"


def run(d: Design, reps: int, seed: int, *, transform=None) -> tuple[Tally, float]:
    rng = np.random.default_rng(seed)
    t = Tally(designs=set())
    truth = 0.0
    for r in range(reps):
        arrays, groups, truth = simulate_table(rng, d)
        (req,) = build_requests([spec_of(d)], arrays, groups, {})
        if transform is not None:
            req = transform(req)
        (cert,) = certify([req], delta=DELTA, bound=d.bound, random_state=r, plan_rows=False).certificates
        t.reps += 1
        t.designs.add(cert.design)
        t.certified += cert.verdict == "certified"
        t.violated += cert.verdict == "violated"
        t.missed += not (cert.lower <= truth + 1e-12 and truth <= cert.upper + 1e-12)
    return t, truth


def _seed(d: Design) -> int:
    return zlib.crc32(d.label.encode())


# --------------------------------------------------------------------------- fast (default suite)

FAST = [
    Design(metric="dp", outcome="soft", clusters="informative", n=150),
    Design(metric="dp", outcome="hard", balance="imbalanced", n=40),  # Clopper–Pearson (auto)
    Design(metric="dp_anchored", outcome="soft", clusters="equal", weighted=True, n=120),
    Design(metric="eo", outcome="hard", clusters="equal", truth="below", n=300),
    Design(metric="dp", outcome="soft", paired=True, n=200),
    Design(metric="dp", outcome="hard", paired=True, clusters="linked", sorted_rows=True, truth="below", n=400),
    Design(metric="eo", outcome="soft", paired=True, truth="below", n=300),
]


@pytest.mark.parametrize("d", FAST, ids=lambda d: d.label)
def test_certificates_hold_fast(d: Design) -> None:
    tally, truth = run(d, reps=150, seed=_seed(d))
    tally.check(d, truth)
    assert tally.designs == {"paired" if d.paired else "unpaired"}


def test_negative_control_old_estimand_certifies_falsely() -> None:
    """Before the fix (cluster means without their sizes), informative cluster sizes make the
    certificate bound the wrong mean: with the true row-mean gap at ε + 0.01 it certifies most
    audits. The same check passes after the fix (test above, first design)."""
    d = Design(metric="dp", outcome="soft", balance="imbalanced", clusters="informative", n=300)
    old, truth = run(d, reps=60, seed=11, transform=old_estimand)
    new, _ = run(d, reps=60, seed=11)
    print(f"\nold estimand: certified {old.certified}/60, missed {old.missed}/60; "
          f"row mean: certified {new.certified}/60, missed {new.missed}/60")
    assert old.missed > allowance(60, DELTA) and old.certified > allowance(60, DELTA / 2)
    new.check(d, truth)


def test_negative_control_ignoring_clusters_undercovers() -> None:
    """Rows of a cluster treated as independent (every row its own cluster) undercover: a Wald
    interval of a group mean on the request's sample misses its truth far more often than
    the same interval on cluster means (intra-cluster correlation ≈ 0.7)."""
    d = Design(metric="dp", outcome="soft", clusters="equal", truth="zero", n=200)
    reps = 150
    missed = {"rows as independent": 0, "clustered": 0}
    rng = np.random.default_rng(5)
    for r in range(reps):
        arrays, groups, _ = simulate_table(rng, d)
        naive = replace(arrays, clusters=np.arange(arrays.soft.size), prompt_ids=np.arange(arrays.soft.size))
        for name, arr in (("rows as independent", naive), ("clustered", arrays)):
            (req,) = build_requests([spec_of(d)], arr, groups, {})
            g0 = next(m for m in req.classes[0] if m.group == "g0")
            half = stats.norm.ppf(1 - DELTA / 2) * g0.values.std(ddof=1) / np.sqrt(g0.values.size)
            missed[name] += not abs(g0.values.mean() - 0.45) <= half
    print(f"\ngroup g0 interval missed its mean: {missed} of {reps}")
    assert missed["rows as independent"] > allowance(reps, DELTA) >= missed["clustered"]


def test_power_paired_certifies_a_small_gap() -> None:
    """True gap 0 on 300 twin sets: the paired certificate certifies ε = 0.05 nearly always."""
    d = Design(metric="dp", outcome="soft", paired=True, truth="zero", n=300)
    tally, _ = run(d, reps=40, seed=3)
    assert tally.certified >= 36


def test_cf_spread_certificate_holds() -> None:
    rng = np.random.default_rng(7)
    reps, miss, cert_wrong = 150, 0, 0
    target = EPS + MARGIN
    for r in range(reps):
        base = rng.random(300)
        eta = rng.beta(1.2, 1.2 * (1 - 2 * target) / (2 * target), 300)  # E[η] = 2·target
        spreads = eta * (1 - base)  # twins base and base + η(1 − base): E[spread] = target
        s = MeanSample(("cf", "attr", None, "twin sets"), "twin sets", spreads, None, 300)
        (c,) = certify([CertificateRequest(Constraint("cf", "soft", "attr", "mean_spread", EPS), ((s,),))],
                       delta=DELTA, random_state=r, plan_rows=False).certificates
        cert_wrong += c.verdict == "certified"
        miss += not c.lower <= target <= c.upper
    assert cert_wrong <= allowance(reps, DELTA / 2) and miss <= allowance(reps, DELTA)


# --------------------------------------------------------------------------- sequential looks

def test_sequential_looks_never_decide_wrongly_more_than_delta() -> None:
    """Looks at 10%, 20%, …, 100% of twin sets (random order, ``sequential=True``): a wrong
    verdict at *any* look counts. Anytime-valid betting sequences keep it within δ/2."""
    reps = 80 if not SLOW else 300
    rng = np.random.default_rng(9)
    for truth in ("above", "below"):
        d = Design(metric="dp", outcome="soft", paired=True, truth=truth, n=300)
        wrong = 0
        for r in range(reps):
            arrays, groups, gap = simulate_table(rng, d)
            # The table is in the random order in which a sequential audit scores it; every
            # twin set is one unit, so prefixes of sets are prefixes of the value sequence.
            order = np.argsort([int(s.split("-s")[1]) for s in arrays.cf_id], kind="stable")
            sets = np.array([int(s.split("-s")[1]) for s in arrays.cf_id])[order]
            for frac in np.linspace(0.1, 1.0, 10):
                keep = order[sets < int(frac * d.n)]
                sub = replace(arrays, soft=arrays.soft[keep], hard=arrays.hard[keep], margin=arrays.margin[keep],
                              agree_soft=arrays.soft[keep], agree_hard=arrays.soft[keep], reward=arrays.soft[keep],
                              weight=arrays.weight[keep], clusters=arrays.clusters[keep],
                              prompt_ids=arrays.prompt_ids[keep], cf_id=arrays.cf_id[keep])
                _, labels, codes = groups["attr"]
                (req,) = build_requests([spec_of(d)], sub, {"attr": (np.arange(keep.size), labels, codes[keep])}, {})
                (c,) = certify([req], delta=DELTA, random_state=r, sequential=True, plan_rows=False).certificates
                bad = "certified" if gap > EPS else "violated"
                if c.verdict == bad:
                    wrong += 1
                    break
                if c.verdict != "inconclusive":
                    break
        print(f"\nsequential {truth}: wrong verdict at some look {wrong}/{reps}")
        assert wrong <= allowance(reps, DELTA / 2)


# --------------------------------------------------------------------------- full grid (slow)

GRID = [
    Design(metric=m, outcome=o, balance=b, clusters=c, weighted=w, truth=t, n=150 if b == "balanced" else 40,
           sorted_rows=s)
    for m in ("dp", "dp_anchored", "eo")
    for o in ("soft", "hard")
    for b in ("balanced", "imbalanced")
    for c in ("none", "equal", "informative")
    for w in (False, True)
    for t in ("above", "below")
    for s in (False,)
    if not (w and c == "none" and o == "hard")
] + [
    Design(metric=m, outcome=o, paired=True, clusters=c, truth=t, sorted_rows=s, n=300)
    for m in ("dp", "dp_anchored", "eo")
    for o in ("soft", "hard")
    for c in ("none", "linked")
    for t in ("above", "below")
    for s in (False, True)
] + [
    Design(metric="dp", outcome="soft", clusters="equal", truth=t, bound=b, paired=p, n=200)
    for b in ("betting", "bernstein", "hoeffding")
    for t in ("above", "below")
    for p in (False, True)
]


@pytest.mark.slow
@pytest.mark.parametrize("d", GRID, ids=lambda d: d.label)
def test_certificates_hold_full_grid(d: Design) -> None:
    tally, truth = run(d, reps=300, seed=_seed(d))
    tally.check(d, truth)
