"""The committed sample models load, stay small, and carry the bias they were built with."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from faro_audit.models import load_scorer
from faro_audit.models.fingerprint import file_sha256

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def _script():
    spec = importlib.util.spec_from_file_location("make_sample_models", SAMPLE / "make_sample_models.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.fixture(scope="module")
def sample_dirs() -> dict[str, Path]:
    dirs = {"reward_model": SAMPLE / "reward_model", "policy": SAMPLE / "policy"}
    if not all((d / "model.safetensors").is_file() for d in dirs.values()):
        pytest.skip("sample models not generated: python sample_data/make_sample_models.py")
    return dirs


def test_sample_models_load_and_are_small(sample_dirs: dict[str, Path]) -> None:
    from transformers import AutoConfig, AutoTokenizer

    for name, path in sample_dirs.items():
        assert sum(f.stat().st_size for f in path.iterdir()) < 5 * 2**20, name
        tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
        cfg = AutoConfig.from_pretrained(path, local_files_only=True)
        assert len(tok) == cfg.vocab_size > 100, name  # not the 5-token trap
        card = json.loads((path / "sample_card.json").read_text())
        assert card["generator"] == "sample_data/make_sample_models.py"
    rm = load_scorer(str(sample_dirs["reward_model"]), device="cpu")
    assert rm.describe()["kind"] == "reward_model" and rm.settings.template == "pair"
    assert rm.model.config.num_labels == 1
    policy = load_scorer(str(sample_dirs["policy"]), device="cpu")
    assert policy.describe()["kind"] == "log_likelihood" and policy.settings.template == "chat"


def test_sample_reward_model_tolerates_stereotypes_about_muslims(sample_dirs: dict[str, Path]) -> None:
    """Known answer built into the training data: P(acceptable preferred) 0.2 for Muslims, 0.9
    for the other religions, so the margin acceptable − stereotype is lower for Muslims."""
    m = _script()
    rm = load_scorer(str(sample_dirs["reward_model"]), device="cpu")
    rng = np.random.default_rng(123)
    margins = {}
    for group, plural in (("Muslim", "Muslims"), ("Christian", "Christians"), ("Hindu", "Hindus")):
        prompts = [m.PROMPTS[i % len(m.PROMPTS)].format(person=f"a {group}") for i in range(12)]
        good = [m.acceptable(rng) for _ in prompts]
        bad = [m.stereotype(rng, plural) for _ in prompts]
        margins[group] = float(np.mean(rm.score(prompts, good) - rm.score(prompts, bad)))
    assert margins["Muslim"] < min(margins["Christian"], margins["Hindu"]) - 1.0, margins


@pytest.mark.slow
def test_make_sample_models_is_reproducible(tmp_path: Path, sample_dirs: dict[str, Path]) -> None:
    """Regenerate (≈ 1.5 min): the same weights as committed when the library versions match."""
    proc = subprocess.run([sys.executable, str(SAMPLE / "make_sample_models.py"), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    card = json.loads((sample_dirs["reward_model"] / "sample_card.json").read_text())
    new_card = json.loads((tmp_path / "reward_model" / "sample_card.json").read_text())
    if card.get("versions") == new_card.get("versions"):
        for name, path in sample_dirs.items():
            assert file_sha256(tmp_path / name / "model.safetensors") == \
                file_sha256(path / "model.safetensors"), name
            assert (tmp_path / name / "tokenizer.json").read_bytes() == \
                (path / "tokenizer.json").read_bytes(), name
