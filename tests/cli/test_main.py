"""The console entry point's process set-up."""

from __future__ import annotations

import os

import pytest

from faro_audit.cli.main import main


def test_cli_lets_openmp_threads_sleep_by_default(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert main(["suites"]) == 0
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"


def test_cli_keeps_the_users_openmp_wait_policy(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    assert main(["suites"]) == 0
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_a_command_calling_sys_exit_is_exit_2_with_one_line(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """A scorer or plugin calling sys.exit(0) inside a command must not read as "certified"."""

    def bail(args):
        raise SystemExit(0)

    monkeypatch.setattr("faro_audit.cli.main._module", lambda name: _Fake(name, bail))
    assert main(["suites"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "sys.exit(0)" in err[0]


class _Fake:
    def __init__(self, name, func):
        self.name, self.func = name, func

    def add_parser(self, sub):
        sub.add_parser(self.name).set_defaults(func=self.func)


def test_errors_are_printed_without_control_characters(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from faro_audit.errors import FaroInputError

    def bad(args):
        raise FaroInputError("column '\x1b]0;owned\x07' \x1b[2J missing")

    monkeypatch.setattr("faro_audit.cli.main._module", lambda name: _Fake(name, bad))
    assert main(["suites"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err and "\\x1b" in err


def test_report_files_match_the_writer() -> None:
    from faro_audit.cli.options import REPORT_FILES
    from faro_audit.report.writer import FILENAMES

    assert set(REPORT_FILES) == set(FILENAMES.values())


def test_shared_model_options_on_every_command() -> None:
    from faro_audit.cli.main import build_parser

    parser = build_parser()
    base = ["--batch-size", "4", "--device", "cpu", "--dtype", "float32", "--max-length", "16"]
    for argv in (["score", "m", "--data", "d", "--out", "o.csv", "--beta", "0.2", "--template", "pair"],
                 ["report", "m", "--dpo-beta", "0.2", "--kl-beta", "0.1", "--mode", "reward"],
                 ["certify", "m", "--dpo-beta", "0.2", "--trust-config-code", "--no-cache"],
                 ["retrain", "m", "--data", "d", "--group", "g", "--max-gap", "dp=0.1", "--out", "o"]):
        args = parser.parse_args(argv + base)
        assert args.batch_size == 4 and args.device == "cpu"
    args = parser.parse_args(["report", "m"])
    assert args.batch_size is None and args.device is None and args.kl_beta is None
