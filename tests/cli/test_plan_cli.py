"""`faro-audit plan`: rows needed per constraint (SPEC §5.8), exit 0; bad input exit 2, one line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from faro_audit.cli.main import build_parser, main
from faro_audit.stats.planning import plan_constraint
from tests.cli.helpers import pairs_scores, write


def _run(args, capsys):
    code = main(["plan", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _json(args, capsys):
    code, out, err = _run([*args, "--json"], capsys)
    assert code == 0, err
    return json.loads(out)


def test_plan_is_a_subcommand():
    assert "plan" in build_parser().format_help()


def test_prints_the_planned_rows_per_constraint(capsys):
    code, out, err = _run(["--max-gap", "dp=0.05", "--group", "gender=f,m", "--true-gap", "0.02", "--sd", "0.2"],
                          capsys)
    assert code == 0, err
    want = plan_constraint(metric="dp", method="between_groups", epsilon=0.05, true_gap=0.02, sd=0.2)
    assert "dp:soft@gender=0.05" in out
    assert f"{want.n} rows per group to certify" in out
    assert "power 0.8" in out and err == ""


def test_json_fields_and_delta_split(capsys):
    doc = _json(["--max-gap", "dp=0.05", "--max-gap", "cf:hard=0.1", "--group", "race=a,b,c",
                 "--true-gap", "0.02", "--delta", "0.1"], capsys)
    assert doc["n_gaps"] == 2 and doc["delta_per_constraint"] == pytest.approx(0.05)
    dp, cf = doc["plans"]
    assert dp["constraint"] == "dp:soft@race=0.05" and dp["n_groups"] == 3 and dp["status"] == "planned"
    assert dp["sd"] == 0.5 and dp["sources"]["sd"] == "worst case" and dp["sources"]["gap"] == "given"
    assert cf["design"] == "twin-set spreads" and cf["unit"] == "twin sets" and cf["outcome"] == "hard"
    assert cf["bound"] == "clopper-pearson"
    assert isinstance(dp["n"], int) and dp["achieved_power"] >= 0.8


def test_a_gap_given_twice_is_planned_once_as_certify_does(capsys):
    doc = _json(["--max-gap", "dp=0.05", "--max-gap", "dp=0.1"], capsys)
    assert doc["n_gaps"] == 1 and [p["epsilon"] for p in doc["plans"]] == [0.1]


def test_attribute_named_in_the_constraint_and_groups_per_attribute(capsys):
    doc = _json(["--max-gap", "dp_anchored@age=0.05", "--groups-per-attribute", "4"], capsys)
    (p,) = doc["plans"]
    assert p["attribute"] == "age" and p["n_groups"] == 4 and p["method"] == "to_overall"


def test_outcome_option_sets_unnamed_outcomes_only(capsys):
    doc = _json(["--max-gap", "dp=0.05", "--max-gap", "dp:soft=0.1", "--outcome", "hard"], capsys)
    assert [p["outcome"] for p in doc["plans"]] == ["hard", "soft"]


def test_paired_design_and_clustering_options(capsys):
    paired = _json(["--max-gap", "dp=0.05", "--design", "paired", "--sd", "0.1", "--true-gap", "0.02"], capsys)
    unpaired = _json(["--max-gap", "dp=0.05", "--sd", "0.2", "--true-gap", "0.02"], capsys)
    assert paired["plans"][0]["design"] == "paired" and paired["plans"][0]["unit"] == "twin sets"
    assert paired["plans"][0]["n"] < unpaired["plans"][0]["n"]
    clustered = _json(["--max-gap", "dp=0.05", "--sd", "0.2", "--true-gap", "0.02", "--icc", "0.2",
                       "--cluster-size", "5"], capsys)
    p = clustered["plans"][0]
    assert p["design_effect"] == pytest.approx(1.8) and p["n"] > unpaired["plans"][0]["n"]
    assert p["n_clusters"] == pytest.approx(p["n"] / 5, abs=1)


def test_undecidable_near_epsilon(capsys):
    code, out, _ = _run(["--max-gap", "dp=0.05", "--true-gap", "0.0499", "--sd", "0.2"], capsys)
    assert code == 0
    assert "undecidable near" in out
    assert not any(len(tok) >= 7 and tok.isdigit() for tok in out.replace(",", " ").split())


def test_default_constraints_without_options(capsys):
    doc = _json([], capsys)
    assert [p["metric"] for p in doc["plans"]] == ["dp", "eo", "cf"]
    assert doc["plans"][1]["unit"] == "rows per group in each label class"


@pytest.mark.parametrize("args, needle", [
    (["--max-gap", "dp=2"], "--max-gap"),
    (["--max-gap", "xx=0.1"], "unknown metric"),
    (["--power", "1.5"], "--power"),
    (["--delta", "0"], "--delta"),
    (["--true-gap", "-0.1"], "--true-gap"),
    (["--icc", "0.1"], "--cluster-size"),
    (["--icc", "2", "--cluster-size", "3"], "--icc"),
    (["--cluster-size", "0.5", "--icc", "0.1"], "--cluster-size"),
    (["--group", "gender=f"], "at least two"),
    (["--groups-per-attribute", "1"], "--groups-per-attribute"),
    (["--max-gap", "dp=0.05", "--bound", "clopper-pearson"], "clopper-pearson"),
    (["--pilot", "no/such/file.csv", "--group", "g"], "no such file"),
    (["--pilot", "scores.csv"], "--group"),
])
def test_bad_input_exits_2_with_one_line(args, needle, capsys):
    code, _out, err = _run(args, capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("faro-audit plan: error:")
    assert needle in err


# ----------------------------------------------------------------------------------------------
# Pilot scores files, read with the audit's reader
# ----------------------------------------------------------------------------------------------


def test_pilot_unpaired_estimates_gap_and_sd(tmp_path, capsys):
    path = write(pairs_scores(400, bias=0.3, seed=3), tmp_path)
    doc = _json(["--pilot", path, "--group", "group", "--max-gap", "dp=0.05"], capsys)
    (p,) = doc["plans"]
    assert doc["pilot"] == path and p["design"] == "unpaired"
    assert p["sources"]["gap"].startswith("pilot") and p["sources"]["sd"].startswith("pilot")
    # The pilot's own gap of soft outcomes, recomputed here: sigmoid(margin), margins N(1, 1) − bias.
    import pandas as pd

    df = pd.read_csv(path)
    soft = 1 / (1 + np.exp(-(df["reward_chosen"] - df["reward_rejected"])))
    means = soft.groupby(df["group"]).mean()
    assert p["true_gap"] == pytest.approx(float(means.max() - means.min()), abs=1e-9)
    assert 0.1 < p["sd"] < 0.3 and p["icc"] == 0.0


def test_pilot_twin_sets_give_the_paired_design(tmp_path, capsys):
    path = write(pairs_scores(300, bias=0.1, seed=4, twins=True), tmp_path)
    doc = _json(["--pilot", path, "--group", "group", "--max-gap", "dp=0.05", "--max-gap", "cf=0.2"], capsys)
    dp, cf = doc["plans"]
    assert dp["design"] == "paired" and dp["unit"] == "twin sets"
    assert cf["design"] == "twin-set spreads"
    forced = _json(["--pilot", path, "--group", "group", "--max-gap", "dp=0.05", "--design", "unpaired"], capsys)
    assert forced["plans"][0]["design"] == "unpaired"


def test_pilot_without_twins_cannot_be_forced_paired(tmp_path, capsys):
    path = write(pairs_scores(100, seed=5), tmp_path)
    code, _, err = _run(["--pilot", path, "--group", "group", "--max-gap", "dp=0.05", "--design", "paired"], capsys)
    assert code == 2 and "--design paired" in err
    code, _, err = _run(["--pilot", path, "--group", "group", "--max-gap", "cf=0.05"], capsys)
    assert code == 2 and "cf_id" in err


def test_pilot_clusters_estimate_the_design_effect(tmp_path, capsys):
    rng = np.random.default_rng(6)
    rows = []
    for g in ("f", "m"):
        for c in range(200):
            effect = rng.normal(0, 1.0)
            for i in range(4):
                rows.append({"prompt": f"{g} prompt {c}", "chosen": "a", "rejected": "b", "group": g,
                             "reward_chosen": float(1 + effect + rng.normal(0, 0.7)), "reward_rejected": 0.0})
    import pandas as pd

    path = write(pd.DataFrame(rows), tmp_path)
    doc = _json(["--pilot", path, "--group", "group", "--max-gap", "dp=0.05"], capsys)
    p = doc["plans"][0]
    assert p["cluster_size"] == pytest.approx(4.0) and 0.3 < p["icc"] < 0.9 and p["design_effect"] > 1.9
    code, out, _ = _run(["--pilot", path, "--group", "group", "--max-gap", "dp=0.05"], capsys)
    assert code == 0 and "pilot" in out


def test_pilot_with_saturated_soft_outcomes_is_not_planned(tmp_path, capsys):
    df = pairs_scores(100, seed=7)
    df["reward_chosen"] = df["reward_chosen"] * 40  # margins in the tens: sigmoid saturates
    path = write(df, tmp_path)
    code, out, _ = _run(["--pilot", path, "--group", "group", "--max-gap", "dp=0.05"], capsys)
    assert code == 0 and "saturated" in out and "--temperature" in out
