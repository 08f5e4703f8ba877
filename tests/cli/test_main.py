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
