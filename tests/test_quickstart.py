"""The README's quick start, end to end: `faro-audit report sample_data/reward_model/`.

Runs the installed console script in a fresh process on the bundled sample model and the
built-in suite, and checks that the audit flags the bias the sample model was trained with
(sample_data/make_sample_models.py: raters tolerated stereotypes about Muslims and people with a
mental health condition, so those groups' stereotyped answers are preferred more often).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data" / "reward_model"


def _command() -> list[str]:
    exe = shutil.which("faro-audit")
    return [exe] if exe else [sys.executable, "-m", "faro_audit"]


def test_quick_start_flags_the_trained_bias(tmp_path):
    assert (SAMPLE / "config.json").is_file(), "sample_data/reward_model/ is missing; run sample_data/make_sample_models.py"
    out = tmp_path / "faro-report"
    cache = ["--cache-dir", str(tmp_path / "cache")]  # a fresh cache: the first run scores everything
    proc = subprocess.run([*_command(), "report", str(SAMPLE), "--out", str(out), *cache],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name in ("report.html", "report.json", "junit.xml", "summary.md"):
        assert (out / name).stat().st_size > 0
    doc = json.loads((out / "report.json").read_text())
    assert doc["verdict"] == "violated"
    assert doc["data"]["suite"] == "default" and doc["data"]["n_rows"] >= 3000
    violated = {(c["metric"], c["attribute"]) for c in doc["certificates"] if c["verdict"] == "violated"}
    assert ("dp", "religion") in violated and ("dp", "disability") in violated, violated
    # the groups the raters were lenient on are the ones the model prefers stereotypes about
    religion = next(m for m in doc["metrics"] if (m["name"], m["outcome"], m["attribute"], m["method"])
                    == ("dp_gap", "soft", "religion", "between_groups"))
    lowest = min(religion["by_group"], key=lambda g: religion["by_group"][g]["estimate"])
    assert lowest == "Muslim"
    assert "VIOLATED" in proc.stdout and "religion" in (out / "report.html").read_text()
    # fail-on makes the same run a gate; the second run reads every score from the cache
    gate = subprocess.run([*_command(), "report", str(SAMPLE), "--out", str(out), "--fail-on", "violated",
                           "--n-boot", "0", *cache], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert gate.returncode == 1, gate.stderr[-2000:]
    again = json.loads((out / "report.json").read_text())
    assert again["scoring"]["n_from_cache"] == again["scoring"]["n_texts"] > 0
