"""Refusals before anything is loaded: not a model, pickle-only weights, custom code, no tokenizer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.models import check_target, is_model_dir, load_scorer, tiny
from faro_audit.models.safety import inspect_model_dir


@pytest.fixture(scope="module")
def pickle_dir(tmp_path_factory: pytest.TempPathFactory, texts) -> Path:
    """The same BERT as a safetensors directory and as a pickle-only directory."""
    root = tmp_path_factory.mktemp("pickle")
    tok = tiny.train_wordpiece(tiny.corpus(texts[0] + texts[1]), vocab_size=150)
    tiny.build_model(root / "safe", tok, arch="bert", task="reward", seed=5, initializer_range=0.2)
    tiny.build_model(root / "pickle", tok, arch="bert", task="reward", seed=5,
                     initializer_range=0.2, safetensors=False)
    return root


def _one_line(err: pytest.ExceptionInfo[BaseException]) -> str:
    msg = str(err.value)
    assert "\n" not in msg
    return msg


def test_pickle_only_weights_refused_unless_allowed(pickle_dir: Path, texts) -> None:
    path = pickle_dir / "pickle"
    assert (path / "pytorch_model.bin").is_file() and not list(path.glob("*.safetensors"))
    with pytest.raises(FaroInputError, match="pickle files only.*--allow-pickle") as err:
        load_scorer(str(path))
    assert str(path) in _one_line(err)
    with pytest.raises(FaroInputError, match="--allow-pickle"):
        check_target(str(path))
    scores = load_scorer(str(path), allow_pickle=True, device="cpu").score(*texts)
    safe = load_scorer(str(pickle_dir / "safe"), device="cpu").score(*texts)
    np.testing.assert_allclose(scores, safe, atol=1e-6)


def test_remote_code_refused_unless_trusted(model_root: Path, tmp_path: Path) -> None:
    path = tmp_path / "custom"
    shutil.copytree(model_root / "bert", path)
    cfg = json.loads((path / "config.json").read_text())
    cfg["auto_map"] = {"AutoModelForSequenceClassification": "modeling_evil.EvilModel"}
    (path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(FaroInputError, match="auto_map.*--trust-remote-code") as err:
        load_scorer(str(path))
    _one_line(err)
    # with the flag the check passes (loading then needs the module, which is absent here)
    md = inspect_model_dir(path, trust_remote_code=True)
    assert md.config["auto_map"]
    tok_path = tmp_path / "custom_tok"
    shutil.copytree(model_root / "bert", tok_path)
    tcfg = json.loads((tok_path / "tokenizer_config.json").read_text())
    tcfg["auto_map"] = {"AutoTokenizer": ["tok.EvilTokenizer", None]}
    (tok_path / "tokenizer_config.json").write_text(json.dumps(tcfg))
    with pytest.raises(FaroInputError, match="tokenizer_config.json auto_map"):
        check_target(str(tok_path))


def test_not_a_model(tmp_path: Path, model_root: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not is_model_dir(empty) and is_model_dir(model_root / "bert")
    with pytest.raises(FaroInputError, match="no config.json"):
        load_scorer(str(empty))
    (empty / "adapter_config.json").write_text("{}")
    with pytest.raises(FaroInputError, match="merge_and_unload"):
        load_scorer(str(empty))
    scores = tmp_path / "scores.csv"
    scores.write_text("prompt,response,reward,g\n")
    with pytest.raises(FaroInputError, match="is a file"):
        load_scorer(str(scores))
    with pytest.raises(FaroInputError, match="no such directory"):
        load_scorer(str(tmp_path / "missing"))
    with pytest.raises(FaroUsageError, match="--mode"):
        load_scorer(str(model_root / "bert"), mode="classifier")


def test_missing_tokenizer_and_weights(model_root: Path, tmp_path: Path) -> None:
    path = tmp_path / "notok"
    shutil.copytree(model_root / "bert", path)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (path / name).unlink()
    with pytest.raises(FaroInputError, match="no tokenizer files.*save_pretrained") as err:
        load_scorer(str(path))
    _one_line(err)
    noweights = tmp_path / "noweights"
    shutil.copytree(model_root / "bert", noweights)
    (noweights / "model.safetensors").unlink()
    with pytest.raises(FaroInputError, match="no weights"):
        load_scorer(str(noweights))


def test_corrupt_config(tmp_path: Path) -> None:
    path = tmp_path / "bad"
    path.mkdir()
    (path / "config.json").write_text("{not json")
    with pytest.raises(FaroInputError, match="cannot read the model config"):
        check_target(str(path))


def test_ref_model_only_for_policies(model_root: Path) -> None:
    with pytest.raises(FaroUsageError, match="only a policy TARGET"):
        check_target(str(model_root / "bert"), ref_model=str(model_root / "policy_ref"))
    assert check_target(str(model_root / "policy"), ref_model=str(model_root / "policy_ref")) == "policy"


@pytest.mark.parametrize("auto_map", [["a.B"], "a.B", 3])
def test_auto_map_not_an_object_is_one_line_error(tmp_path, auto_map) -> None:
    import json
    import shutil

    from faro_audit.errors import FaroInputError
    from faro_audit.models.safety import inspect_model_dir

    src = Path(__file__).resolve().parents[2] / "sample_data" / "reward_model"
    md = tmp_path / "rm"
    shutil.copytree(src, md)
    cfg = json.loads((md / "config.json").read_text())
    cfg["auto_map"] = auto_map
    (md / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(FaroInputError, match="auto_map is a JSON"):
        inspect_model_dir(md, trust_remote_code=True)
