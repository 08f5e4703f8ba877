"""``faro-audit retrain`` on the command line, and ``certify`` of its output (slack check)."""

from __future__ import annotations

import json

import pytest

from faro_audit.cli.main import main

from .conftest import make_pairs


@pytest.fixture(scope="module")
def cli_run(biased_bert, tmp_path_factory):
    """``faro-audit retrain`` once; returns (exit code, stdout, paths)."""
    import contextlib
    import io

    tmp = tmp_path_factory.mktemp("cli")
    train = tmp / "train.csv"
    make_pairs(600, seed=11).to_csv(train, index=False)
    audit = tmp / "audit.jsonl"
    make_pairs(400, seed=12).to_json(audit, orient="records", lines=True)
    out = tmp / "fixed"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["retrain", str(biased_bert), "--data", str(train), "--group", "gender",
                 "--max-gap", "dp_anchored@gender=0.05", "--out", str(out), "--audit-data",
                 str(audit), "--steps", "100", "--lr", "0.05", "--eta-lambda", "2",
                 "--n-boot", "0", "--no-baselines", "--quiet", "--seed", "3"])
    return code, buf.getvalue(), tmp, audit, out


def test_cli_retrain_writes_model_and_summary(cli_run):
    code, text, _, _, out = cli_run
    assert code == 0
    assert "held-out comparison (audit table, 400 pairs)" in text and "declared slack" in text
    man = json.loads((out / "faro_manifest.json").read_text())
    assert man["settings"]["seed"] == 3 and man["settings"]["gda"]["steps"] == 100
    assert man["data"]["sha256"] and man["data"]["audit_sha256"]


def test_certify_checks_the_retrained_models_slack(cli_run):
    """certify finds faro_manifest.json in the model directory and checks the slack."""
    _, _, tmp_path, audit, out = cli_run
    man = json.loads((out / "faro_manifest.json").read_text())
    code = main(["certify", str(out), "--data", str(audit), "--group", "gender",
                 "--max-gap", "dp_anchored@gender=0.05", "--n-boot", "0", "--device", "cpu",
                 "--no-cache", "--json", str(tmp_path / "cert.json")])
    cert = json.loads((tmp_path / "cert.json").read_text())
    assert cert["slack_checks"] and cert["slack_checks"][0]["declared_slack"] == man["declared_slack"]
    assert code in (0, 3)


@pytest.mark.parametrize("argv, message", [
    (["--max-gap", "dp@gender=2"], "outside (0, 1]"),
    (["--max-gap", "dp@race=0.1"], "not a group column"),
    (["--max-gap", "dp@gender=0.1", "--sweep-factors", "a,b"], "--sweep-factors"),
    (["--max-gap", "dp@gender=0.1", "--margin", "0.5"], "--margin"),
])
def test_cli_usage_errors(tiny_bert, tmp_path, capsys, argv, message):
    train = tmp_path / "train.csv"
    make_pairs(60, seed=1).to_csv(train, index=False)
    code = main(["retrain", str(tiny_bert), "--data", str(train), "--group", "gender",
                 "--out", str(tmp_path / "o"), "--quiet", *argv])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_cli_quasi_newton_options_reach_the_settings():
    """--optimizer lbfgs --inner-iterations --multiplier-update augmented --pairs-per-step 0
    (the head-mode solver of bench/sample_retrain.py) map onto RetrainSettings."""
    import argparse

    from faro_audit.cli.retrain_cmd import add_parser, settings_from_args
    from faro_audit.retrain.settings import HEAD_QUASI_NEWTON

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args([
        "retrain", "m", "--data", "d.csv", "--group", "g", "--max-gap", "dp@g=0.05", "--out", "o",
        "--optimizer", "lbfgs", "--inner-iterations", "50", "--multiplier-update", "augmented",
        "--pairs-per-step", "0", "--steps", "20", "--eval-every", "1", "--lr", "1",
        "--eta-lambda", "10"])
    s = settings_from_args(args)
    assert s.gda == HEAD_QUASI_NEWTON and s.batch_size == 0
