"""Hostile model-side inputs (issue 12): scorers that fail or exit, broken chat templates,
tokenizers beyond the embedding table, unusable score caches, ``auto_map`` of the wrong type.

Every failure of the model side ends as exit 2 with one error line; a cache that cannot be
used is skipped with a warning and the audit finishes with its own exit code.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from helpers import pairs_scores  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_data"

SCORERS = '''
import os, signal, sys
def ok(p, r): return [float(len(x)) for x in r]
def exit0(p, r): sys.exit(0)
def exit1(p, r): sys.exit(1)
def exit3(p, r): sys.exit(3)
def osexit0(p, r): os._exit(0)
def killed(p, r): os.kill(os.getpid(), signal.SIGKILL)
def raises(p, r): raise ValueError("bad\\x1b[2J value")
def short(p, r): return [1.0]
def nan(p, r): return [float("nan")] * len(r)
def strings(p, r): return ["1.0"] * len(r)
def none(p, r): return None
'''


@pytest.fixture
def audit_data(tmp_path: Path) -> tuple[Path, Path]:
    """A scorer file and a small pairs CSV (no scores) in ``tmp_path``."""
    data = tmp_path / "data.csv"
    pairs_scores(12).drop(columns=["reward_chosen", "reward_rejected"]).to_csv(data, index=False)
    code = tmp_path / "scorers.py"
    code.write_text(SCORERS)
    (tmp_path / "broken.py").write_text("import no_such_module_xyz\ndef f(p, r): return r\n")
    return code, data


def _cmd(command: str, target: str, data: Path, tmp_path: Path) -> list[str]:
    if command == "score":
        return ["score", target, "--data", str(data), "--group", "group", "--out", str(tmp_path / "out.csv"),
                "--no-cache"]
    extra = ["--out", str(tmp_path / "rep")] if command == "report" else []
    return [command, target, "--data", str(data), "--group", "group", "--n-boot", "0", "--no-cache", *extra]


CASES = [("exit0", "sys.exit(0)"), ("exit1", "sys.exit(1)"), ("exit3", "sys.exit(3)"),
         ("osexit0", "os._exit(0)"), ("killed", "signal 9"), ("raises", "ValueError"),
         ("short", "1 scores"), ("nan", "non-finite"), ("strings", "not numbers"),
         ("none", "not numbers"), ("missing_fn", "no attribute")]


@pytest.mark.parametrize("command", ["certify", "report", "score"])
@pytest.mark.parametrize(("func", "match"), CASES)
def test_failing_scorer_is_exit_2(hostile, tmp_path, audit_data, command, func, match):
    if func == "killed" and command == "score":
        pytest.skip("score scores in its own process: a SIGKILL there ends it, nothing can report")
    code, data = audit_data
    target = f"{code}:{func}"
    hostile(_cmd(command, target, data, tmp_path), inputs=[code, data], code=2, match=match,
            subprocess=True)


def test_scorer_file_that_fails_to_import(hostile, tmp_path, audit_data):
    code, data = audit_data
    hostile(_cmd("certify", f"{tmp_path / 'broken.py'}:f", data, tmp_path),
            inputs=[code, data, tmp_path / "broken.py"], code=2, match="ModuleNotFoundError",
            subprocess=True)


def _copy_model(tmp_path: Path, name: str = "reward_model") -> Path:
    dst = tmp_path / name
    shutil.copytree(SAMPLE / name, dst)
    return dst


@pytest.mark.parametrize(("template", "match"), [("{% if %}", "TemplateSyntaxError"),
                                                 ("{{ raise_exception('nope') }}", "nope")])
def test_bad_chat_template(hostile, tmp_path, template, match):
    md = _copy_model(tmp_path)
    cfg = json.loads((md / "tokenizer_config.json").read_text())
    cfg["chat_template"] = template
    (md / "tokenizer_config.json").write_text(json.dumps(cfg))
    hostile(["certify", str(md), "--n-boot", "0", "--no-cache"], inputs=[md], code=2,
            match="chat template", subprocess=True)


def test_tokenizer_ids_beyond_embedding(hostile, tmp_path):
    md = _copy_model(tmp_path)
    tok = json.loads((md / "tokenizer.json").read_text())
    vocab = json.loads((md / "config.json").read_text())["vocab_size"]
    tok["added_tokens"].append({"id": vocab, "content": "<beyond>", "single_word": False,
                                "lstrip": False, "rstrip": False, "normalized": False, "special": True})
    (md / "tokenizer.json").write_text(json.dumps(tok))
    hostile(["certify", str(md), "--n-boot", "0", "--no-cache"], inputs=[md], code=2,
            match="embedding table", subprocess=True)


@pytest.mark.parametrize("auto_map", [["modeling.MyModel"], "modeling.MyModel", 3])
def test_auto_map_not_an_object(hostile, tmp_path, auto_map):
    md = _copy_model(tmp_path)
    cfg = json.loads((md / "config.json").read_text())
    cfg["auto_map"] = auto_map
    (md / "config.json").write_text(json.dumps(cfg))
    hostile(["certify", str(md), "--n-boot", "0"], inputs=[md], code=2, match="auto_map")


def _corrupt(cache: Path) -> None:
    (cache / "scores.sqlite3").write_bytes(b"not a database at all" * 100)


def _other_schema(cache: Path) -> None:
    db = sqlite3.connect(cache / "scores.sqlite3")
    db.execute("CREATE TABLE scores (a TEXT, b TEXT)")
    db.commit()
    db.close()


@pytest.mark.parametrize("spoil", [_corrupt, _other_schema])
def test_unusable_cache_falls_back(hostile, tmp_path, audit_data, spoil):
    code, data = audit_data
    cache = tmp_path / "cache"
    cache.mkdir()
    spoil(cache)
    res = hostile(["certify", f"{code}:ok", "--data", str(data), "--group", "group", "--n-boot", "0",
                   "--cache-dir", str(cache)], inputs=[code, data, cache], code=3, subprocess=True)
    assert "warning: score cache" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_locked_cache_falls_back_fast(hostile, tmp_path, audit_data):
    import time

    code, data = audit_data
    cache = tmp_path / "cache"
    cache.mkdir()
    db = sqlite3.connect(cache / "scores.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=DELETE")
    db.execute("CREATE TABLE scores (fingerprint TEXT NOT NULL, key TEXT NOT NULL, score REAL NOT NULL, "
               "truncated INTEGER NOT NULL, PRIMARY KEY (fingerprint, key)) WITHOUT ROWID")
    db.execute("BEGIN EXCLUSIVE")
    try:
        t0 = time.monotonic()
        res = hostile(["certify", f"{code}:ok", "--data", str(data), "--group", "group", "--n-boot",
                       "0", "--cache-dir", str(cache)], inputs=[code, data], code=3, subprocess=True)
        assert time.monotonic() - t0 < 30
        assert "locked" in res.stderr
    finally:
        db.rollback()
        db.close()
