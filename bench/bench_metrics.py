"""Benchmark: faro-audit's parity metrics and bootstrap against fairlearn on the same data.

    python bench/bench_metrics.py [--rows N] [--groups K] [--n-boot B] [--fairlearn-boot F]

Seeded synthetic data: binary labels, a margin with a small group effect, soft outcomes
σ(margin) in [0, 1] and hard outcomes 1[margin > 0]; group labels are strings.

(a) Point estimates: faro ``encode_groups`` + ``dp_gap`` + ``eo_gap`` against fairlearn
    ``demographic_parity_difference`` + ``equalized_odds_difference`` on the hard outcomes
    (target ≥ 50× faster); the values must agree.
(b) Bootstrap: faro's clustered, group-stratified bootstrap with B resamples (group means, the DP
    gap and the EO gap, each with a 95% percentile interval) against fairlearn's
    ``MetricFrame(..., n_boot=F, ci_quantiles=[0.025, 0.975])`` with the metrics the DP and EO
    gaps need, plus ``difference_ci()`` (target: faro faster overall and ≥ 100× per resample).
    Run for hard outcomes (few distinct values: the exact multinomial path) and soft outcomes
    (continuous: every cluster draw is made; the expensive case).

Times are wall-clock (time.perf_counter); faro's cheap runs are best of ``--repeats``, fairlearn
and faro's soft bootstrap run once (fairlearn takes minutes at 1e6 rows).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from faro_audit.metrics.groups import encode_groups
from faro_audit.metrics.parity import dp_gap, eo_gap
from faro_audit.stats.bootstrap import (
    bootstrap_class_group_means,
    bootstrap_eo_gap,
    bootstrap_gap,
    bootstrap_group_means,
)


def make_data(n: int, k: int, seed: int) -> dict[str, np.ndarray]:
    """Seeded synthetic audit outcomes."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, k, n)
    y_true = rng.integers(0, 2, n)
    margin = rng.normal(0.0, 1.5, n) + np.linspace(-0.2, 0.2, k)[codes] + 0.8 * (2 * y_true - 1)
    return {
        "group": np.array([f"group_{j}" for j in range(k)])[codes],
        "y_true": y_true,
        "soft": 1.0 / (1.0 + np.exp(-margin)),
        "hard": (margin > 0).astype(np.float64),
    }


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Best wall time of ``repeats`` runs, and the last result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def faro_point(d: dict[str, np.ndarray]) -> tuple[float, float]:
    enc = encode_groups(d["group"])
    return (dp_gap(d["hard"], sensitive_features=enc),
            eo_gap(d["hard"], d["y_true"], sensitive_features=enc))


def fairlearn_point(d: dict[str, np.ndarray]) -> tuple[float, float]:
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

    return (
        float(demographic_parity_difference(d["y_true"], d["hard"], sensitive_features=d["group"])),
        float(equalized_odds_difference(d["y_true"], d["hard"], sensitive_features=d["group"])),
    )


def faro_boot(d: dict[str, np.ndarray], outcome: str, n_boot: int) -> dict[str, Any]:
    enc = encode_groups(d["group"])
    means = bootstrap_group_means(d[outcome], sensitive_features=enc, n_boot=n_boot)
    by_class = bootstrap_class_group_means(d[outcome], d["y_true"], sensitive_features=enc,
                                           n_boot=n_boot)
    return {"means": means, "dp": bootstrap_gap(means), "eo": bootstrap_eo_gap(by_class)}


def _mean(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_pred))


def _mean_pos(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_pred[np.asarray(y_true) == 1]))


def _mean_neg(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_pred[np.asarray(y_true) == 0]))


def fairlearn_boot(d: dict[str, np.ndarray], outcome: str, n_boot: int) -> Any:
    from fairlearn.metrics import (
        MetricFrame,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    metrics = (
        {"selection_rate": selection_rate, "tpr": true_positive_rate, "fpr": false_positive_rate}
        if outcome == "hard" else {"mean": _mean, "mean_pos": _mean_pos, "mean_neg": _mean_neg}
    )
    mf = MetricFrame(metrics=metrics, y_true=d["y_true"], y_pred=d[outcome],
                     sensitive_features=d["group"], n_boot=n_boot,
                     ci_quantiles=[0.025, 0.975], random_state=0)
    mf.difference_ci()
    return mf


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--groups", type=int, default=8)
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--fairlearn-boot", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--outcomes", default="hard,soft", help="bootstrap outcomes to run")
    args = ap.parse_args(argv)
    import fairlearn

    print(f"# bench_metrics: rows={args.rows:,} groups={args.groups} n_boot={args.n_boot} "
          f"fairlearn n_boot={args.fairlearn_boot}")
    print(f"# python {platform.python_version()}, numpy {np.__version__}, fairlearn "
          f"{fairlearn.__version__}, {os.cpu_count()} CPU(s), load average "
          f"{os.getloadavg()[0]:.1f}")
    d = make_data(args.rows, args.groups, args.seed)
    ok = True

    t_faro, (dp_f, eo_f) = timed(lambda: faro_point(d), args.repeats)
    t_enc, enc = timed(lambda: encode_groups(d["group"]), args.repeats)
    t_gaps, _ = timed(lambda: (dp_gap(d["hard"], sensitive_features=enc),
                               eo_gap(d["hard"], d["y_true"], sensitive_features=enc)),
                      args.repeats)
    t_fl, (dp_l, eo_l) = timed(lambda: fairlearn_point(d), 1)
    agree = abs(dp_f - dp_l) < 1e-12 and abs(eo_f - eo_l) < 1e-12
    ratio = t_fl / t_faro
    ok &= agree and ratio >= 50
    print(f"(a) point DP+EO gaps, hard outcomes: faro {t_faro:.3f} s, fairlearn {t_fl:.2f} s "
          f"-> faro {ratio:.0f}x faster (target >= 50x) "
          f"[{'PASS' if ratio >= 50 else 'FAIL'}]")
    print(f"    faro breakdown: encode_groups {t_enc:.3f} s, dp_gap + eo_gap on the codes "
          f"{t_gaps:.3f} s ({t_fl / t_gaps:.0f}x fairlearn)")
    print(f"    values: dp faro {dp_f:.12f} fairlearn {dp_l:.12f}; eo faro {eo_f:.12f} "
          f"fairlearn {eo_l:.12f} -> {'agree' if agree else 'DISAGREE'}")

    for outcome in [o.strip() for o in args.outcomes.split(",") if o.strip()]:
        reps = args.repeats if outcome == "hard" else 1
        t_fb, res = timed(lambda o=outcome: faro_boot(d, o, args.n_boot), reps)
        t_lb, mf = timed(lambda o=outcome: fairlearn_boot(d, o, args.fairlearn_boot), 1)
        col = "selection_rate" if outcome == "hard" else "mean"
        same = np.allclose(res["means"].estimate, mf.by_group[col].to_numpy(), atol=1e-12)
        overall = t_lb / t_fb
        per = (t_lb / args.fairlearn_boot) / (t_fb / args.n_boot)
        passed = same and overall > 1 and per >= 100
        ok &= passed
        print(f"(b) bootstrap, {outcome} outcomes: faro B={args.n_boot} {t_fb:.2f} s "
              f"({t_fb / args.n_boot * 1e3:.2f} ms/resample), fairlearn n_boot="
              f"{args.fairlearn_boot} {t_lb:.1f} s ({t_lb / args.fairlearn_boot:.2f} s/resample)"
              f" -> overall {overall:.1f}x, per resample {per:.0f}x (target: faster, >= 100x) "
              f"[{'PASS' if passed else 'FAIL'}]")
        dp, eo = res["dp"], res["eo"]
        print(f"    faro DP gap {dp.estimate:.5f} [{dp.lower:.5f}, {dp.upper:.5f}], EO gap "
              f"{eo.estimate:.5f} [{eo.lower:.5f}, {eo.upper:.5f}]; group means "
              f"{'agree with' if same else 'DIFFER from'} fairlearn's by_group")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
