"""Benchmark: how tight the certificates are (issue 10), against baselines computed in the same run.

    python bench/bench_certify.py [--n 1000] [--delta 0.05] [--reps 200] [--no-suite]

(a) Interval half-width / oracle normal half-width at n values, miscoverage δ (two-sided), for
    the bound ``--bound auto`` picks: the oracle is z_{1−δ/2}·σ/√n with the TRUE σ (the best a
    normal interval could do if the variance were known). Hard outcomes p = 0.1 and 0.5
    (auto → Clopper–Pearson; target ≤ 1.05×), soft outcomes with sd 0.05 around 0.5 and 0.8
    (auto → betting; target ≤ 1.3×). Mean over ``--reps`` seeded data sets; coverage of the
    true mean is printed too (must be ≥ 1 − δ within binomial noise).
(b) Paired versus box certificates on the built-in suite scored by the sample reward model:
    for every DP constraint of the default audit, the ratio (UCB − estimate) paired / box, and
    the verdicts of both designs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats

from faro_audit.stats.bounds import mean_interval, resolve_bound


def oracle_ratio(kind: str, param: float, *, n: int, delta: float, reps: int, seed: int) -> tuple[str, float, float]:
    rng = np.random.default_rng(seed)
    if kind == "hard":
        mean, sd = param, np.sqrt(param * (1 - param))
    else:
        mean, sd = param, 0.05
    binary = kind == "hard"
    method = resolve_bound("auto", binary=binary, weighted=False)
    oracle = stats.norm.ppf(1 - delta / 2) * sd / np.sqrt(n)
    ratios, covered = [], 0
    for r in range(reps):
        if binary:
            x = (rng.random(n) < mean).astype(float)
        else:
            k = mean * (1 - mean) / sd**2 - 1  # Beta with the given mean and sd
            x = rng.beta(mean * k, (1 - mean) * k, n)
        iv = mean_interval(x, delta=delta, method=method, random_state=np.random.default_rng([seed, r]))
        ratios.append((iv.upper - iv.lower) / 2 / oracle)
        covered += iv.lower <= mean <= iv.upper
    return method, float(np.mean(ratios)), covered / reps


def suite_comparison() -> list[tuple[str, float, str, str, float, float]]:
    """(constraint, ratio, paired verdict, box verdict, paired UCB, box UCB) on the sample model."""
    from faro_audit.audit.arrays import build_arrays
    from faro_audit.audit.attribute import analyse_attribute, attribute_list
    from faro_audit.audit.certify import build_requests
    from faro_audit.audit.constraints import DEFAULT_SPECS, expand_constraints
    from faro_audit.audit.settings import AuditSettings
    from faro_audit.audit.target import _audit_table
    from faro_audit.models import load_scorer, score_table
    from faro_audit.stats.certificates import certify

    table, _ = _audit_table(AuditSettings())
    scored, _ = score_table(table, load_scorer("sample_data/reward_model"), cache=False)
    settings = AuditSettings(group=scored.group_columns, n_boot=0)
    arrays = build_arrays(scored)
    analyses = [analyse_attribute(scored, arrays, a, settings=settings) for a in attribute_list(scored)]
    specs = [s for s in expand_constraints(DEFAULT_SPECS, attributes=[a.attribute for a in analyses],
                                           has_twins=True, has_labels=True, explicit=False) if s.metric == "dp"]
    groups = {a.attribute: (a.rows, a.labels, a.codes_full) for a in analyses}
    out = []
    paired = certify(build_requests(specs, arrays, groups, {}, paired=True), delta=0.05).certificates
    box = certify(build_requests(specs, arrays, groups, {}, paired=False), delta=0.05).certificates
    for p, b in zip(paired, box):
        assert p.design == "paired" and b.design == "unpaired"
        out.append((f"dp@{p.attribute}", (p.upper - p.estimate) / (b.upper - b.estimate), p.verdict, b.verdict,
                    p.upper, b.upper))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--delta", type=float, default=0.05)
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--no-suite", action="store_true", help="skip (b) (needs torch and the sample model)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    print(f"(a) half-width / oracle normal half-width, n = {args.n}, delta = {args.delta}, {args.reps} data sets")
    print(f"{'outcome':<26} {'auto bound':<16} {'ratio':>6} {'target':>7} {'coverage':>9}")
    for kind, param, target in (("hard", 0.1, 1.05), ("hard", 0.5, 1.05), ("soft", 0.5, 1.3), ("soft", 0.8, 1.3)):
        name = f"hard p={param}" if kind == "hard" else f"soft mean={param} sd=0.05"
        method, ratio, cov = oracle_ratio(kind, param, n=args.n, delta=args.delta, reps=args.reps, seed=1)
        flag = "ok" if ratio <= target else "ABOVE"
        print(f"{name:<26} {method:<16} {ratio:>6.3f} {target:>6.2f}x {cov:>9.3f}  {flag}")
    if not args.no_suite:
        print("\n(b) paired vs box on the built-in suite (sample reward model), DP constraints at eps 0.05")
        print(f"{'constraint':<26} {'(UCB-est) paired/box':>21} {'paired':>13} {'box':>13} {'UCB p':>7} {'UCB b':>7}")
        rows = suite_comparison()
        for name, ratio, pv, bv, pu, bu in rows:
            print(f"{name:<26} {ratio:>21.3f} {pv:>13} {bv:>13} {pu:>7.3f} {bu:>7.3f}")
        print(f"median ratio {np.median([r[1] for r in rows]):.3f}")
    print(f"\nwall time {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
