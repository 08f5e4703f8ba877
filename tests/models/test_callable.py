"""Python callables as targets: module:function and file.py:function."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faro_audit.errors import FaroInputError
from faro_audit.io.table import AuditTable
from faro_audit.models import load_scorer, score_table
from faro_audit.models.callable import looks_like_callable

SOURCE = textwrap.dedent("""
    CALLS = []

    def length_reward(prompts, responses):
        CALLS.append(len(prompts))
        return [len(r) - 0.1 * len(p) for p, r in zip(prompts, responses)]

    def wrong_length(prompts, responses):
        return [1.0]

    def raises(prompts, responses):
        raise ValueError("boom")

    class Holder:
        @staticmethod
        def score(prompts, responses):
            return [0.0 for _ in prompts]

    NOT_CALLABLE = 3
""")


@pytest.fixture()
def module_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "my_rewards.py"
    path.write_text(SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return path


def test_file_and_module_targets(module_file: Path) -> None:
    prompts, responses = ["a", "bb", "ccc"], ["xyz", "", "hello"]
    want = [3 - 0.1, 0 - 0.2, 5 - 0.3]
    by_file = load_scorer(f"{module_file}:length_reward", batch_size=2)
    np.testing.assert_allclose(by_file.score(prompts, responses), want)
    by_module = load_scorer("my_rewards:length_reward")
    np.testing.assert_allclose(by_module.score(prompts, responses), want)
    assert by_file.fingerprint == by_module.fingerprint
    d = by_file.describe()
    assert d["kind"] == "callable" and len(d["sha256"]) == 64
    assert load_scorer("my_rewards:Holder.score").score(["a"], ["b"]).tolist() == [0.0]


def test_fingerprint_changes_with_source(module_file: Path) -> None:
    before = load_scorer(f"{module_file}:length_reward").fingerprint
    module_file.write_text(SOURCE + "\n# edited\n")
    assert load_scorer(f"{module_file}:length_reward").fingerprint != before


def test_callable_in_score_table_chunks(module_file: Path) -> None:
    frame = pd.DataFrame({"prompt": ["p"] * 5, "response": [f"r{'x' * i}" for i in range(5)],
                          "g": list("aabbb")})
    table = AuditTable(frame=frame, shape="responses", group_columns=("g",))
    scorer = load_scorer(f"{module_file}:length_reward", batch_size=2)
    scored, info = score_table(table, scorer, cache=False, check_batch_invariance=3)
    np.testing.assert_allclose(scored.frame.reward, [len(r) - 0.1 for r in frame.response])
    assert info.batch_invariance_max_abs_diff == 0.0 and info.n_scored == 5


def test_bad_callables(module_file: Path) -> None:
    with pytest.raises(FaroInputError, match="returned 1 scores for 2"):
        load_scorer(f"{module_file}:wrong_length").score(["a", "b"], ["c", "d"])
    with pytest.raises(FaroInputError, match="raised ValueError: boom"):
        load_scorer(f"{module_file}:raises").score(["a"], ["b"])
    with pytest.raises(FaroInputError, match="has no attribute 'missing'"):
        load_scorer(f"{module_file}:missing")
    with pytest.raises(FaroInputError, match="not a function"):
        load_scorer(f"{module_file}:NOT_CALLABLE")
    with pytest.raises(FaroInputError, match="cannot import module"):
        load_scorer("no_such_module_xyz:f")
    with pytest.raises(FaroInputError, match="no such file"):
        load_scorer(f"{module_file.parent / 'nope.py'}:f")


def test_looks_like_callable() -> None:
    assert looks_like_callable("pkg.mod:func") and looks_like_callable("a/b.py:Cls.meth")
    assert not looks_like_callable("C:") and not looks_like_callable("models/rm")
    assert not looks_like_callable("x:1bad")


HOSTILE = '''
import os, sys
def exit0(p, r): sys.exit(0)
def osexit(p, r): os._exit(1)
def nan(p, r): return [float("nan")] * len(r)
def strings(p, r): return ["1"] * len(r)
def interrupt(p, r): raise KeyboardInterrupt
'''


@pytest.mark.parametrize(("func", "match"), [("exit0", r"called sys.exit\(0\)"),
                                             ("osexit", r"called os._exit\(1\)"),
                                             ("nan", "non-finite"), ("strings", "not numbers")])
def test_scorer_failures_in_process_name_the_callable(tmp_path: Path, func: str, match: str) -> None:
    """The sequential path scores in this process: exits become errors, the process lives on."""
    path = tmp_path / "hostile.py"
    path.write_text(HOSTILE)
    real_exit = os._exit
    with pytest.raises(FaroInputError, match=match) as info:
        load_scorer(f"{path}:{func}").score(["a"], ["b"])
    assert f"{path}:{func}" in str(info.value) and "\n" not in str(info.value)
    assert os._exit is real_exit


def test_keyboard_interrupt_in_scorer_stays_an_interrupt(tmp_path: Path) -> None:
    path = tmp_path / "hostile.py"
    path.write_text(HOSTILE)
    with pytest.raises(KeyboardInterrupt):
        load_scorer(f"{path}:interrupt").score(["a"], ["b"])


def test_sys_exit_at_import_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "exits.py"
    path.write_text("import sys\nsys.exit(0)\n")
    with pytest.raises(FaroInputError, match=r"importing .* failed \(it called sys.exit\(0\)\)"):
        load_scorer(f"{path}:f")
