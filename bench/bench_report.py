"""Benchmark of the report command (issue: `faro-audit report model/`).

1. Cold wall time of the quick-start command `faro-audit report sample_data/reward_model/`
   (a fresh process, score cache off, so the model is loaded and the whole suite scored);
   target ≤ 15 s on a 2-core CPU machine. The baseline measured in the same run is the bare
   interpreter start plus `import torch, transformers` (what any model tool pays), so the
   ratio says how much the audit itself adds.
2. Size of report.html for a 100,000-row audit (synthetic scores: 8 groups × 2 attributes,
   twin sets, labels); target < 2 MB, since the report holds aggregates only.

Run: python bench/bench_report.py [--rows 100000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def _timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=REPO)
    return time.perf_counter() - t0


LOAD_ONLY = (
    "from transformers import AutoModelForSequenceClassification, AutoTokenizer; "
    "AutoTokenizer.from_pretrained('sample_data/reward_model', local_files_only=True); "
    "AutoModelForSequenceClassification.from_pretrained('sample_data/reward_model', local_files_only=True)"
)


def quick_start(repeat: int) -> tuple[float, float, float]:
    """Best-of-``repeat`` wall times of the quick start and of the two baselines, interleaved
    so that a burst of load on a shared machine hits all three alike."""
    report, base, load = [], [], []
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "faro_audit", "report", "sample_data/reward_model/", "--out", out, "--no-cache"]
        for _ in range(repeat):
            report.append(_timed(cmd))
            base.append(_timed([sys.executable, "-c", "import torch, transformers"]))
            load.append(_timed([sys.executable, "-c", LOAD_ONLY]))
    return min(report), min(base), min(load)


def big_report(rows: int) -> tuple[int, float]:
    rng = np.random.default_rng(0)
    g = rng.choice([f"group {k}" for k in range(8)], rows)
    h = rng.choice(["u", "v"], rows)
    d = rng.normal(0.5, 1.0, rows) - 0.1 * (g == "group 7")
    frame = pd.DataFrame({
        "prompt": [f"prompt number {i // 4}" for i in range(rows)],
        "chosen": [f"a chosen response text {i}" for i in range(rows)],
        "rejected": [f"a rejected response text {i}" for i in range(rows)],
        "g": g, "h": h, "reward_chosen": d, "reward_rejected": 0.0,
        "cf_id": [f"t{i // 2}" for i in range(rows)],
    })
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scores.parquet"
        frame.to_parquet(path)
        out = Path(tmp) / "out"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "faro_audit", "report", str(path), "--group", "g", "--group", "h",
                        "--out", str(out), "--beta", "0.1"], check=True, capture_output=True, cwd=REPO)
        seconds = time.perf_counter() - t0
        return (out / "report.html").stat().st_size, seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    report, base, load = quick_start(args.repeat)
    print(f"quick start (faro-audit report sample_data/reward_model/, cold, no cache): {report:.1f} s "
          f"(target <= 15 s: {'met' if report <= 15 else 'NOT met'})")
    print(f"baseline (python -c 'import torch, transformers'): {base:.1f} s; ratio report/baseline {report / base:.1f}x")
    print(f"baseline (load the sample model and tokenizer with transformers, nothing else): {load:.1f} s; "
          f"ratio report/baseline {report / load:.1f}x; the audit adds {report - load:.1f} s")
    size, seconds = big_report(args.rows)
    print(f"report.html for a {args.rows:,}-row audit: {size / 1e6:.2f} MB in {seconds:.1f} s "
          f"(target < 2 MB: {'met' if size < 2e6 else 'NOT met'})")


if __name__ == "__main__":
    main()
