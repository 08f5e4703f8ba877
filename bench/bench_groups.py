"""Benchmark: `certify --n-boot 0` time against the number of groups (issue 12).

    python bench/bench_groups.py [--rows 20000] [--groups 100,1000,10000] [--repeat 1]

For each group count K a responses scores table of ``--rows`` rows is written (K balanced
groups of ⌊rows/K⌋ or ⌈rows/K⌉ rows, unique prompts, standard-normal rewards, seed 0) and
``python -m faro_audit certify TABLE --group g --n-boot 0`` is timed in a child process (best
of ``--repeat``; process start and imports included). The ratio printed is

    growth(K) = t(K) / t(K₀),   K₀ = the first (smallest) group count, measured in this run,

next to K / K₀: linear cost gives growth ≤ K / K₀ (a fixed start-up cost makes it smaller),
quadratic cost gives growth near (K / K₀)². No wall time is asserted anywhere.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def write_table(path: Path, n_rows: int, n_groups: int, seed: int = 0) -> None:
    """A responses scores CSV with ``n_groups`` balanced groups."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    g = np.arange(n_rows) % n_groups
    rng.shuffle(g)
    pd.DataFrame({
        "prompt": [f"p{i}" for i in range(n_rows)],
        "response": [f"r{i}" for i in range(n_rows)],
        "g": [f"g{x}" for x in g],
        "reward": rng.normal(size=n_rows),
    }).to_csv(path, index=False)


def time_certify(path: Path, repeat: int) -> tuple[float, int]:
    """Best wall time of ``certify --n-boot 0`` and its exit code."""
    best, code = float("inf"), -1
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "faro_audit", "certify", str(path), "--group", "g",
                               "--n-boot", "0"], capture_output=True, text=True)
        best = min(best, time.perf_counter() - t0)
        code = proc.returncode
        if code not in (0, 1, 3):
            raise SystemExit(f"certify failed (exit {code}): {proc.stderr.strip()[-500:]}")
    return best, code


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--groups", default="100,1000,10000")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    counts = [int(x) for x in args.groups.split(",")]
    rows: list[tuple[int, float, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in counts:
            path = Path(tmp) / f"scores_{k}.csv"
            write_table(path, args.rows, k)
            t, code = time_certify(path, args.repeat)
            rows.append((k, t, code))
            print(f"K={k:>6}: {t:8.2f} s (exit {code})", flush=True)
    k0, t0, _ = rows[0]
    print(f"\n| groups | rows | time (s) | growth t(K)/t({k0}) | K/{k0} | (K/{k0})² |")
    print("|---|---|---|---|---|---|")
    for k, t, _ in rows:
        print(f"| {k:,} | {args.rows:,} | {t:.2f} | {t / t0:.2f} | {k / k0:g} | {(k / k0) ** 2:g} |")


if __name__ == "__main__":
    main()
