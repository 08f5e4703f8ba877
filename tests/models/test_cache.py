"""The score cache: keyed by fingerprint and text, resumes an interrupted run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from faro_audit.io.table import AuditTable
from faro_audit.models import load_scorer, score_table
from faro_audit.models.cache import ScoreCache, default_cache_dir
from faro_audit.models.fingerprint import text_key


class CountingScorer:
    """Reward = length of the response; raises KeyboardInterrupt at call ``fail_at``."""

    def __init__(self, fingerprint: str = "fp-count", batch_size: int = 4,
                 fail_at: int | None = None) -> None:
        self.fingerprint = fingerprint
        self.batch_size = batch_size
        self.fail_at = fail_at
        self.calls = 0
        self.scored: list[str] = []

    def describe(self) -> dict[str, Any]:
        return {"kind": "test", "settings": {"batch_size": self.batch_size}}

    def score(self, prompts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if self.fail_at is not None and self.calls == self.fail_at:
            raise KeyboardInterrupt
        self.scored.extend(responses)
        return np.array([len(r) + 0.5 * len(p) for p, r in zip(prompts, responses)], dtype=float)


def _table(n: int = 10) -> AuditTable:
    frame = pd.DataFrame({
        "prompt": [f"prompt {i % 4}" for i in range(n)],
        "chosen": [f"chosen answer {'x' * i}" for i in range(n)],
        "rejected": [f"rejected {'y' * (n - i)}" for i in range(n)],
        "g": ["a", "b"] * (n // 2),
    })
    return AuditTable(frame=frame, shape="pairs", group_columns=("g",))


def test_cache_roundtrip_and_keys(tmp_path: Path) -> None:
    with ScoreCache(tmp_path) as cache:
        cache.put("fp", [("k1", 1.5, False), ("k2", -2.0, True)])
        assert cache.get("fp", ["k1", "k2", "k3"]) == {"k1": (1.5, False), "k2": (-2.0, True)}
        assert cache.get("other", ["k1"]) == {}
        assert cache.count("fp") == 2
        keys = [f"k{i}" for i in range(1200)]  # more than one SELECT chunk
        cache.put("big", [(k, float(i), False) for i, k in enumerate(keys)])
        got = cache.get("big", keys)
        assert len(got) == 1200 and got["k1199"] == (1199.0, False)
    assert text_key("ab", "c") != text_key("a", "bc")
    assert text_key("a", "b") == text_key("a", "b")


def test_default_cache_dir_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FARO_AUDIT_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("FARO_AUDIT_CACHE")
    assert default_cache_dir() == Path.home() / ".cache" / "faro-audit"


def test_interrupted_run_resumes(tmp_path: Path) -> None:
    table = _table(10)  # 20 distinct texts, batches of 4
    full, _ = score_table(table, CountingScorer(), cache=False, check_batch_invariance=0)
    broken = CountingScorer(fail_at=3)
    with pytest.raises(KeyboardInterrupt):
        score_table(table, broken, cache_dir=str(tmp_path), check_batch_invariance=0)
    assert len(broken.scored) == 8  # two batches finished before the interruption
    with ScoreCache(tmp_path) as cache:
        assert cache.count("fp-count") == 8
    resumed = CountingScorer()
    scored, info = score_table(table, resumed, cache_dir=str(tmp_path), check_batch_invariance=0)
    assert info.n_from_cache == 8 and info.n_scored == 12 and len(resumed.scored) == 12
    assert not set(resumed.scored) & set(broken.scored)
    pd.testing.assert_frame_equal(scored.frame, full.frame)
    again = CountingScorer()
    scored2, info2 = score_table(table, again, cache_dir=str(tmp_path), check_batch_invariance=2)
    assert info2.n_scored == 0 and info2.n_from_cache == 20 and again.calls == 0
    assert info2.batch_invariance_max_abs_diff is None and np.isnan(info2.rows_per_second)
    pd.testing.assert_frame_equal(scored2.frame, full.frame)
    other = CountingScorer(fingerprint="fp-other")
    _, info3 = score_table(table, other, cache_dir=str(tmp_path), check_batch_invariance=0)
    assert info3.n_from_cache == 0 and info3.n_scored == 20


def test_duplicate_texts_scored_once(tmp_path: Path) -> None:
    frame = pd.DataFrame({"prompt": ["p", "p", "q"], "response": ["r", "r", "r"], "g": ["a", "b", "a"]})
    table = AuditTable(frame=frame, shape="responses", group_columns=("g",))
    scorer = CountingScorer()
    scored, info = score_table(table, scorer, cache=False, check_batch_invariance=0)
    assert info.n_texts == 2 and scorer.scored == ["r", "r"]
    assert scored.frame.reward.tolist() == [1.5, 1.5, 1.5]


def test_non_finite_scores_are_an_error(tmp_path: Path) -> None:
    from faro_audit.errors import FaroInputError

    class NaNScorer(CountingScorer):
        def score(self, prompts, responses):  # type: ignore[override]
            out = super().score(prompts, responses)
            out[-1] = np.nan
            return out

    with pytest.raises(FaroInputError, match="non-finite reward"):
        score_table(_table(4), NaNScorer(), cache_dir=str(tmp_path))


def test_hf_model_interrupted_and_resumed(model_root: Path, texts, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    prompts, responses = texts
    frame = pd.DataFrame({"prompt": prompts, "response": responses,
                          "g": ["a", "b", "c"] * (len(prompts) // 3)})
    table = AuditTable(frame=frame, shape="responses", group_columns=("g",))
    scorer = load_scorer(str(model_root / "gpt2_nopad_concat"), batch_size=5, device="cpu")
    want = scorer.score(prompts, responses)
    cls = type(scorer)
    real = cls._forward
    calls = {"n": 0}

    def flaky(self, idx, enc):  # crash in the third batch
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("simulated crash")
        return real(self, idx, enc)

    monkeypatch.setattr(cls, "_forward", flaky)
    with pytest.raises(RuntimeError, match="simulated crash"):
        score_table(table, scorer, cache_dir=str(tmp_path), progress=False)
    monkeypatch.setattr(cls, "_forward", real)
    scored, info = score_table(table, scorer, cache_dir=str(tmp_path), progress=False)
    assert info.n_from_cache == 10 and info.n_scored == len(prompts) - 10
    np.testing.assert_allclose(scored.frame.reward, want, atol=1e-6)
    _, info2 = score_table(table, scorer, cache_dir=str(tmp_path), progress=False)
    assert info2.n_scored == 0


def test_progress_bar_only_when_asked_or_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    score_table(_table(6), CountingScorer(), cache=False, progress=True, check_batch_invariance=0)
    err = capsys.readouterr().err
    assert "12/12" in err and "row/s" in err
    score_table(_table(6), CountingScorer(), cache=False, progress=None, check_batch_invariance=0)
    assert capsys.readouterr().err == ""  # stderr is captured, not a terminal


def test_unusable_caches_are_skipped_with_one_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import sqlite3

    from faro_audit.models.cache import ScoreCache

    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "scores.sqlite3").write_bytes(b"garbage" * 200)
    other = tmp_path / "other"
    other.mkdir()
    db = sqlite3.connect(other / "scores.sqlite3")
    db.execute("CREATE TABLE scores (a, b)")
    db.commit()
    db.close()
    before = (other / "scores.sqlite3").read_bytes()
    for directory, why in ((corrupt, "not a database"), (other, "another schema")):
        with ScoreCache(directory) as cache:
            assert cache.disabled and why in cache.disabled
            cache.put("fp", [("k", 1.0, False)])
            assert cache.get("fp", ["k"]) == {} and cache.count("fp") == 0
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "warning: score cache" in err
    assert (other / "scores.sqlite3").read_bytes() == before
