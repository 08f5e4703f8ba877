"""``faro-audit score``: scores file written atomically; refusals exit 2 with one line."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")
pytest.importorskip("tokenizers")

from faro_audit.cli.score_cmd import add_parser, run
from faro_audit.models import load_scorer, tiny


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="faro-audit")
    sub = parser.add_subparsers(dest="command")
    add_parser(sub)
    return parser.parse_args(["score", *argv])


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("score_cli")
    prompts, responses = tiny.sample_texts(12, seed=4)
    tok = tiny.train_wordpiece(tiny.corpus(prompts + responses), vocab_size=150)
    tiny.build_model(root / "rm", tok, arch="bert", task="reward", initializer_range=0.2)
    tiny.build_model(root / "rm_pickle", tok, arch="bert", task="reward", safetensors=False)
    data = root / "pairs.csv"
    pd.DataFrame({"prompt": prompts[:6], "chosen": responses[:6], "rejected": responses[6:],
                  "gender": ["woman", "man"] * 3}).to_csv(data, index=False)
    return {"root": root, "rm": root / "rm", "pickle": root / "rm_pickle", "data": data}


@pytest.mark.parametrize("ext", [".csv", ".jsonl.gz", ".parquet"])
def test_score_writes_scores_file(setup: dict[str, Path], tmp_path: Path, ext: str,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / f"scores{ext}"
    rc = run(_args([str(setup["rm"]), "--data", str(setup["data"]), "--out", str(out),
                    "--group", "gender", "--cache-dir", str(tmp_path / "cache"), "--device", "cpu",
                    "--batch-size", "4"]))
    assert rc == 0
    from faro_audit.io.readers import read_frame

    frame = read_frame(out)
    data = pd.read_csv(setup["data"])
    scorer = load_scorer(str(setup["rm"]), device="cpu")
    np.testing.assert_allclose(frame.reward_chosen, scorer.score(list(data.prompt), list(data.chosen)),
                               atol=1e-6)
    np.testing.assert_allclose(frame.reward_rejected,
                               scorer.score(list(data.prompt), list(data.rejected)), atol=1e-6)
    assert list(frame.columns[:4]) == ["prompt", "chosen", "rejected", "gender"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp left
    assert "12 scored" in capsys.readouterr().out
    rc = run(_args([str(setup["rm"]), "--data", str(setup["data"]), "--out", str(out),
                    "--group", "gender", "--cache-dir", str(tmp_path / "cache"), "--device", "cpu"]))
    assert rc == 0 and "12 from cache, 0 scored" in capsys.readouterr().out


def test_pickle_refused_in_a_subprocess(setup: dict[str, Path], tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "faro_audit.cli.score_cmd", str(setup["pickle"]), "--data",
         str(setup["data"]), "--out", str(tmp_path / "s.csv"), "--group", "gender"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "--allow-pickle" in lines[0] and str(setup["pickle"]) in lines[0]
    assert not (tmp_path / "s.csv").exists()


def test_remote_code_and_bad_options_exit_2(setup: dict[str, Path], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    custom = tmp_path / "custom"
    custom.mkdir()
    for f in setup["rm"].iterdir():
        (custom / f.name).write_bytes(f.read_bytes())
    cfg = json.loads((custom / "config.json").read_text())
    cfg["auto_map"] = {"AutoModelForSequenceClassification": "x.Y"}
    (custom / "config.json").write_text(json.dumps(cfg))
    cases = [
        ([str(custom)], "--trust-remote-code"),
        ([str(setup["rm"]), "--max-length", "100000"], "--max-length"),
        ([str(setup["rm"]), "--template", "chat"], "no chat template"),
        ([str(setup["rm"]), "--out", str(tmp_path / "s.xlsx")], "unknown output type"),
        ([str(setup["data"])], "is a file"),
    ]
    for extra, needle in cases:
        argv = [*extra[:1], "--data", str(setup["data"]), "--out", str(tmp_path / "s.csv"),
                "--group", "gender", "--device", "cpu", "--no-cache", *extra[1:]]
        assert run(_args(argv)) == 2, needle
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and needle in err[0], (needle, err)
    assert not (tmp_path / "s.csv").exists()
