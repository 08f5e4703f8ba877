"""Scoring in a spawned worker process gives what scoring here gives (faro_audit.models.worker)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest

from faro_audit.errors import FaroInputError
from faro_audit.io.table import AuditTable
from faro_audit.models.worker import start_scoring, use_worker

SOURCE = textwrap.dedent("""
    def length_reward(prompts, responses):
        return [len(r) - 0.1 * len(p) for p, r in zip(prompts, responses)]

    def refuses(prompts, responses):
        return [1.0]
""")


@pytest.fixture()
def table_and_target(tmp_path: Path) -> tuple[AuditTable, Path]:
    path = tmp_path / "worker_rewards.py"
    path.write_text(SOURCE)
    frame = pd.DataFrame({"prompt": ["p", "qq", "p"], "chosen": ["long answer", "b", "cc"],
                          "rejected": ["x", "yy", "zzz"], "g": ["a", "b", "a"]})
    return AuditTable(frame=frame, shape="pairs", group_columns=("g",)), path


def test_worker_scores_equal_in_process_scores(table_and_target, tmp_path: Path) -> None:
    table, path = table_and_target
    opts = {"batch_size": 2}
    here = start_scoring(table, f"{path}:length_reward", model_options=opts, cache=False, worker=False)
    there = start_scoring(table, f"{path}:length_reward", model_options=opts, cache=False, worker=True)
    assert there.process is not None  # really another process
    a, b = here.result(), there.result()
    pd.testing.assert_frame_equal(a[0].frame, b[0].frame)
    assert a[2] == b[2] and a[3] == b[3]  # describe() and fingerprint
    assert a[1].n_scored == b[1].n_scored == 6
    assert there.process is None  # the worker has been joined


def test_worker_error_is_the_same_one_line_error(table_and_target) -> None:
    table, path = table_and_target
    messages = []
    for worker in (False, True):
        with pytest.raises(FaroInputError) as info:
            start_scoring(table, f"{path}:refuses", model_options={}, cache=False, worker=worker).result()
        messages.append(str(info.value))
    assert messages[0] == messages[1] and "\n" not in messages[0]


def test_stop_ends_a_running_worker(table_and_target) -> None:
    table, path = table_and_target
    job = start_scoring(table, f"{path}:length_reward", model_options={}, cache=False, worker=True)
    process = job.process
    job.stop()
    job.stop()  # twice is fine
    assert not process.is_alive()


def test_use_worker_only_before_torch_and_not_when_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "torch", sys)  # torch already here: nothing to overlap
    assert not use_worker()
    monkeypatch.delitem(sys.modules, "torch")
    monkeypatch.setenv("FARO_SCORE_IN_PROCESS", "1")
    assert not use_worker()
    monkeypatch.delenv("FARO_SCORE_IN_PROCESS")
    assert use_worker()
