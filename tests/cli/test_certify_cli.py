"""`faro-audit certify` on scores files: exit codes 0/1/3/2 (SPEC §8) and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from faro_audit.cli.main import main
from tests.cli.helpers import pairs_scores, write


def _run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_exit_0_on_large_fair_table(tmp_path, capsys):
    path = write(pairs_scores(4000, bias=0.0), tmp_path)
    code, out, _ = _run(["certify", path, "--group", "group", "--max-gap", "dp=0.05", "--n-boot", "50"], capsys)
    assert code == 0, out
    assert "certified" in out


def test_exit_1_on_clearly_biased_table(tmp_path, capsys):
    path = write(pairs_scores(2000, bias=1.5), tmp_path)
    code, out, _ = _run(["certify", path, "--group", "group", "--max-gap", "dp=0.05", "--n-boot", "50"], capsys)
    assert code == 1, out
    assert "violated" in out


def test_exit_3_when_groups_too_small(tmp_path, capsys):
    path = write(pairs_scores(12, bias=0.0), tmp_path)
    code, out, _ = _run(["certify", path, "--group", "group", "--max-gap", "dp=0.2", "--n-boot", "50"], capsys)
    assert code == 3, out
    assert "inconclusive" in out


def test_json_output_has_spec_fields(tmp_path, capsys):
    path = write(pairs_scores(300, bias=0.5), tmp_path)
    out_json = tmp_path / "cert.json"
    code, _, _ = _run(["certify", path, "--group", "group", "--n-boot", "50", "--json", str(out_json)], capsys)
    doc = json.loads(out_json.read_text())
    for key in ("schema_version", "faro_audit_version", "target", "data", "settings", "metrics",
                "certificates", "verdict"):
        assert key in doc
    assert doc["target"]["sha256"] and doc["data"]["n_rows"] == 600
    assert {"delta", "temperature", "bound", "seed", "n_boot", "reference"} <= set(doc["settings"])
    # dp_gap and eo_gap for both outcomes and both methods, whatever constraints were asked.
    have = {(m["name"], m["outcome"], m["method"]) for m in doc["metrics"] if m["attribute"] == "group"}
    for name in ("dp_gap", "eo_gap"):
        for outcome in ("soft", "hard"):
            for method in ("between_groups", "to_overall"):
                assert (name, outcome, method) in have
    cert = doc["certificates"][0]
    for key in ("metric", "outcome", "attribute", "method", "epsilon", "delta", "estimate", "lower",
                "upper", "verdict", "n_required"):
        assert key in cert
    assert code == {"certified": 0, "violated": 1, "inconclusive": 3}[doc["verdict"]]


@pytest.mark.parametrize("mutate, extra, pattern", [
    (lambda d: d.drop(columns=["reward_chosen"]), [], "reward_chosen"),
    (lambda d: d.assign(reward_chosen=["oops"] + list(d.reward_chosen[1:])), [], "not numeric"),
    (lambda d: d.assign(reward_chosen=[float("nan")] + list(d.reward_chosen[1:])), [], "NaN"),
    (lambda d: d, ["--max-gap", "parity=0.1"], "unknown metric"),
    (lambda d: d.drop(columns=["group"]), [], "group column 'group' is missing"),
])
def test_exit_2_with_one_line_error(tmp_path, capsys, mutate, extra, pattern):
    path = write(mutate(pairs_scores(50)), tmp_path)
    code, out, err = _run(["certify", path, "--group", "group", "--n-boot", "20", *extra], capsys)
    assert code == 2
    lines = [l for l in err.strip().splitlines() if l]
    assert len(lines) == 1 and pattern in lines[0], err
    assert "Traceback" not in err


def test_exit_2_on_empty_file_via_console_script(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    proc = subprocess.run([sys.executable, "-m", "faro_audit", "certify", str(empty), "--group", "g"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "empty" in proc.stderr
