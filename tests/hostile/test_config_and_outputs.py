"""Hostile inputs (issue 12): faro.toml code and typing, outputs over inputs, --n-boot memory,
terminal escapes, CSV formulas. Each case: exit code, one-line stderr, no traceback, inputs
byte-identical (the ``hostile`` fixture)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.cli.helpers import pairs_scores, write

REPO = Path(__file__).resolve().parents[2]
SAMPLE_RM = REPO / "sample_data" / "reward_model"

SCORER = '''
from pathlib import Path
def score(prompts, responses):
    Path(__file__).with_name("MARKER").write_text("ran")
    return [float(len(r)) for r in responses]
'''


@pytest.fixture
def scores(tmp_path: Path) -> str:
    return write(pairs_scores(40, seed=1), tmp_path)


def _config_dir(tmp_path: Path, toml: str, *, model: bool = False) -> Path:
    d = tmp_path / "cfg"
    if model:
        shutil.copytree(SAMPLE_RM, d)
    else:
        d.mkdir()
    df = pairs_scores(40, seed=2)
    df.to_csv(d / "scores.csv", index=False)
    df.drop(columns=["reward_chosen", "reward_rejected"]).to_csv(d / "audit.csv", index=False)
    (d / "scorer.py").write_text(SCORER)
    (d / "faro.toml").write_text(toml)
    return d


# ---------------------------------------------------------------------------------------------
# 1. code in faro.toml never runs without --trust-config-code

CODE_TOMLS = {
    "file_model": 'model = "scorer.py:score"\ndata = "audit.csv"\ngroup = "group"\n',
    "abs_file_model": 'model = "{dir}/scorer.py:score"\ndata = "audit.csv"\ngroup = "group"\n',
    "module_model": 'model = "os.path:join"\ndata = "audit.csv"\ngroup = "group"\n',
    "scores_callable": 'scores = "scorer.py:score"\ngroup = "group"\n',
    "trust_remote_code": 'model = "."\ndata = "audit.csv"\ngroup = "group"\n'
                         '[model_options]\ntrust_remote_code = true\n',
    "allow_pickle": 'model = "."\ndata = "audit.csv"\ngroup = "group"\n[model_options]\nallow_pickle = true\n',
}


@pytest.mark.parametrize("command", ["certify", "report"])
@pytest.mark.parametrize("case", sorted(CODE_TOMLS))
def test_faro_toml_code_is_refused_without_the_flag(hostile, tmp_path, command, case):
    d = _config_dir(tmp_path, "", model=True)
    (d / "faro.toml").write_text(CODE_TOMLS[case].replace("{dir}", str(d)))
    extra = ["--out", str(tmp_path / "rep")] if command == "report" else []
    hostile([command, str(d), "--n-boot", "0", *extra], inputs=[d], code=2, match="--trust-config-code")
    assert not (d / "MARKER").exists()
    assert not (tmp_path / "rep").exists()


def test_faro_toml_code_runs_with_the_flag(tmp_path):
    from tests.hostile.conftest import run_cli

    d = _config_dir(tmp_path, 'model = "scorer.py:score"\ndata = "audit.csv"\ngroup = "group"\n'
                              'max_gap = "dp=0.9"\n')
    res = run_cli(["certify", str(d), "--n-boot", "0", "--no-cache", "--trust-config-code"])
    assert "Traceback" not in res.stderr
    assert res.code in (0, 1, 3), res.stderr
    assert (d / "MARKER").read_text() == "ran"


# ---------------------------------------------------------------------------------------------
# 2. wrongly typed faro.toml values name the file and the key

BAD_TOML = {
    "delta_str": ('delta = "abc"', "'delta'"),
    "delta_range": ("delta = 2.0", "'delta'"),
    "delta_bool": ("delta = true", "'delta'"),
    "n_boot_float": ("n_boot = 1.5", "'n_boot'"),
    "n_boot_negative": ("n_boot = -1", "'n_boot'"),
    "seed_str": ('seed = "0"', "'seed'"),
    "group_int": ("group = 3", "'group'"),
    "group_list_int": ("group = [1, 2]", "'group'"),
    "sequential_str": ('sequential = "yes"', "'sequential'"),
    "min_group_size": ("min_group_size = 1", "'min_group_size'"),
    "temperature": ("temperature = 0", "'temperature'"),
    "bound_unknown": ('bound = "magic"', "'bound'"),
    "beta_negative": ("beta = -1.0", "'beta'"),
    "unknown_key": ("colour = 1", "'colour'"),
    "batch_size_str": ('[model_options]\nbatch_size = "32"', "'batch_size'"),
    "batch_size_zero": ("[model_options]\nbatch_size = 0", "'batch_size'"),
    "model_options_not_table": ("model_options = 3", "'model_options'"),
    "no_cache_str": ('[model_options]\nno_cache = "true"', "'no_cache'"),
    "template_unknown": ('[model_options]\ntemplate = "weird"', "'template'"),
    "not_toml": ("delta = = 1", "faro.toml"),
}


@pytest.mark.parametrize("case", sorted(BAD_TOML))
def test_faro_toml_wrong_types(hostile, tmp_path, case):
    body, key = BAD_TOML[case]
    d = _config_dir(tmp_path, "")
    head = 'scores = "scores.csv"\n' + ('group = "group"\n' if "group" not in case else "")
    (d / "faro.toml").write_text(body + "\n" if body.startswith("[") else head + body + "\n")
    if body.startswith("["):
        (d / "faro.toml").write_text(head + body + "\n")
    res = hostile(["certify", str(d)], inputs=[d], code=2, match=key)
    assert "faro.toml" in res.stderr
    assert "--" + key.strip("'").replace("_", "-") not in res.stderr.split("error:", 1)[1].split(";")[0]


def test_faro_toml_group_string_is_one_group(tmp_path):
    from tests.hostile.conftest import run_cli

    d = _config_dir(tmp_path, 'scores = "scores.csv"\ngroup = "group"\nmax_gap = "dp=0.9"\n')
    res = run_cli(["certify", str(d), "--n-boot", "0", "--json", str(tmp_path / "r.json")])
    assert res.code in (0, 1, 3), res.stderr
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["settings"]["group"] == ["group"]
    assert doc["settings"]["sources"]["group"] == "faro.toml"
    assert doc["settings"]["sources"]["delta"] == "default"


# ---------------------------------------------------------------------------------------------
# 5. outputs never overwrite inputs; unwritable outputs are refused up front


def _report_json_input(tmp_path: Path) -> Path:
    d = tmp_path / "X"
    d.mkdir()
    pairs_scores(40).to_json(d / "report.json", orient="records", lines=True)
    p = d / "data.jsonl"
    pairs_scores(40).to_json(p, orient="records", lines=True)
    return d


def _cases(tmp_path: Path, scores: str) -> dict[str, tuple[list[str], list, str]]:
    base = Path(scores).parent
    model = tmp_path / "model"
    shutil.copytree(SAMPLE_RM, model)
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    data = base / "audit.csv"
    pairs_scores(40).drop(columns=["reward_chosen", "reward_rejected"]).to_csv(data, index=False)
    return {
        "report_out_is_data_dir": (["report", scores, "--group", "group", "--out", str(base / "scores.csv")],
                                   [scores], "--out"),
        "report_out_in_model": (["report", str(model), "--data", str(data), "--group", "group",
                                 "--out", str(model / "rep")], [model, data], "--out"),
        "report_out_under_file": (["report", scores, "--group", "group", "--out", str(blocker / "r")],
                                  [scores, blocker], "--out"),
        "report_out_dev_null": (["report", scores, "--group", "group", "--out", "/dev/null/r"],
                                [scores], "--out"),
        "certify_json_is_data": (["certify", scores, "--group", "group", "--json", scores], [scores], "--json"),
        "certify_json_under_file": (["certify", scores, "--group", "group", "--json",
                                     str(blocker / "r.json")], [scores, blocker], "--json"),
        "certify_json_dev_null": (["certify", scores, "--group", "group", "--json", "/dev/null"],
                                  [scores], "--json"),
        "score_out_is_data": (["score", str(model), "--data", str(data), "--group", "group",
                               "--out", str(data)], [model, data], "--out"),
        "score_out_in_model": (["score", str(model), "--data", str(data), "--group", "group",
                                "--out", str(model / "s.csv")], [model, data], "--out"),
        "score_out_under_file": (["score", str(model), "--data", str(data), "--group", "group",
                                  "--out", str(blocker / "s.csv")], [model, data, blocker], "--out"),
        "retrain_out_in_model": (["retrain", str(model), "--data", scores, "--group", "group",
                                  "--max-gap", "dp@group=0.1", "--out", str(model / "fixed")],
                                 [model, scores], "--out"),
        "retrain_out_is_data": (["retrain", str(model), "--data", scores, "--group", "group",
                                 "--max-gap", "dp@group=0.1", "--out", scores], [model, scores], "--out"),
        "retrain_out_contains_data": (["retrain", str(model), "--data", scores, "--group", "group",
                                       "--max-gap", "dp@group=0.1", "--out", str(base)],
                                      [model, scores], "--out"),
    }


CASE_NAMES = ["report_out_is_data_dir", "report_out_in_model", "report_out_under_file",
              "report_out_dev_null", "certify_json_is_data", "certify_json_under_file",
              "certify_json_dev_null", "score_out_is_data", "score_out_in_model",
              "score_out_under_file", "retrain_out_in_model", "retrain_out_is_data",
              "retrain_out_contains_data"]


@pytest.mark.parametrize("case", CASE_NAMES)
def test_outputs_never_overwrite_inputs(hostile, tmp_path, scores, case):
    argv, inputs, match = _cases(tmp_path, scores)[case]
    hostile(argv, inputs=inputs, code=2, match=match)


def test_report_over_its_own_report_json_input(hostile, tmp_path):
    d = _report_json_input(tmp_path)
    hostile(["report", str(d / "report.json"), "--group", "group", "--out", str(d)],
            inputs=[d], code=2, match="would overwrite")


@pytest.mark.parametrize("argv,match", [
    (["--delta", "2"], "--delta"),
    (["--pilot", "{missing}"], "--pilot"),
    (["--pilot", "{pilot}", "--group", "gr\x1b[2Jp"], None),
])
def test_plan_bad_options(hostile, tmp_path, scores, argv, match):
    argv = [a.replace("{missing}", str(tmp_path / "none.csv")).replace("{pilot}", scores) for a in argv]
    res = hostile(["plan", *argv], inputs=[scores], code=2, match=match)
    assert "\x1b" not in res.stderr


# ---------------------------------------------------------------------------------------------
# 6. --n-boot too large for memory


@pytest.mark.parametrize("command", ["certify", "report"])
def test_n_boot_too_large(hostile, tmp_path, scores, command):
    extra = ["--out", str(tmp_path / "rep")] if command == "report" else []
    hostile([command, scores, "--group", "group", "--n-boot", str(10**15), *extra],
            inputs=[scores], code=2, match="--n-boot")
    assert not (tmp_path / "rep").exists()


def test_n_boot_too_large_from_faro_toml(hostile, tmp_path):
    d = _config_dir(tmp_path, f'scores = "scores.csv"\ngroup = "group"\nn_boot = {10**15}\n')
    hostile(["certify", str(d)], inputs=[d], code=2, match="'n_boot'")


# ---------------------------------------------------------------------------------------------
# 7. escape sequences in the data never reach the terminal raw


@pytest.mark.parametrize("evil", ["\x1b]0;pwned\x07", "\x1b[2J", "\x9b31m", "a\rb", "x\x00y"])
def test_error_messages_escape_control_characters(hostile, tmp_path, evil):
    df = pairs_scores(40)
    path = write(df, tmp_path)
    res = hostile(["certify", path, "--group", "grp" + evil], inputs=[path], code=2)
    assert "\x1b" not in res.stderr and "\x9b" not in res.stderr


# ---------------------------------------------------------------------------------------------
# 8. CSV formula neutralisation (unit-level: the score writer)


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_score_csv_neutralises_formulas(tmp_path, cell):
    from faro_audit.cli.score_cmd import write_scores

    df = pd.DataFrame({"prompt": [cell, "plain"], "reward": [-1.5, 2.0]})
    out = tmp_path / "s.csv"
    write_scores(df, str(out))
    with open(out, newline="", encoding="utf-8") as fh:
        raw = fh.read()
    first = raw.split("\n")[1]
    assert first.lstrip('"').startswith("'" + cell[0]), first
    assert "\nplain,2.0" in raw and ",-1.5" in first


def test_beta_is_a_deprecated_alias_of_kl_beta(tmp_path, scores):
    from tests.hostile.conftest import run_cli

    res = run_cli(["certify", scores, "--group", "group", "--n-boot", "0", "--beta", "0.1",
                   "--json", str(tmp_path / "r.json")])
    assert res.code in (0, 1, 3), res.stderr
    assert "DeprecationWarning: --beta" in res.stderr and "--kl-beta" in res.stderr
    assert json.loads((tmp_path / "r.json").read_text())["settings"]["beta"] == 0.1
