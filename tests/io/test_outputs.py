"""io/outputs: outputs never overwrite inputs; CSV formula neutralisation."""

from __future__ import annotations

import pandas as pd
import pytest

from faro_audit.errors import FaroUsageError
from faro_audit.io.outputs import Output, check_outputs, csv_safe, csv_safe_cell


def test_same_path_and_symlink_are_refused(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("x")
    link = tmp_path / "link.csv"
    link.symlink_to(data)
    for out in (data, link):
        with pytest.raises(FaroUsageError, match="--data"):
            check_outputs([Output("--out", str(out))], {"--data": str(data)})


def test_inside_input_dir_and_dir_files(tmp_path):
    model = tmp_path / "m"
    model.mkdir()
    with pytest.raises(FaroUsageError, match="lies inside"):
        check_outputs([Output("--out", str(model / "fixed"), is_dir=True)], {"MODEL": str(model)})
    (tmp_path / "report.json").write_text("{}")
    with pytest.raises(FaroUsageError, match="would overwrite"):
        check_outputs([Output("--out", str(tmp_path), is_dir=True, files=("report.json",))],
                      {"TARGET": str(tmp_path / "report.json")})
    check_outputs([Output("--out", str(tmp_path / "rep"), is_dir=True, files=("report.json",))],
                  {"TARGET": str(tmp_path / "report.json")})


def test_unwritable_locations(tmp_path):
    f = tmp_path / "f"
    f.write_text("x")
    for path in (str(f / "out"), "/dev/null/x", "/dev/null"):
        with pytest.raises(FaroUsageError, match="--json"):
            check_outputs([Output("--json", path)], {})
    with pytest.raises(FaroUsageError, match="create it first"):
        check_outputs([Output("--out", str(tmp_path / "no" / "s.csv"), must_exist_parent=True)], {})


def test_csv_safe():
    df = pd.DataFrame({"t": ["=1+1", "ok", "-x", None], "n": [-1.0, 2.0, 3.0, 4.0]})
    out = csv_safe(df)
    assert list(out["t"][:3]) == ["'=1+1", "ok", "'-x"] and out["t"].isna()[3]
    assert list(out["n"]) == [-1.0, 2.0, 3.0, 4.0] and df["t"][0] == "=1+1"
    assert csv_safe_cell(-3) == -3 and csv_safe_cell("@a") == "'@a"


def test_retrain_api_refuses_out_inside_the_model_before_any_work(tmp_path):
    from faro_audit.io.readers import read_table
    from faro_audit.retrain.api import retrain
    from tests.cli.helpers import pairs_scores, write

    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    table = read_table(write(pairs_scores(20), tmp_path), group=["group"], shape="pairs")
    with pytest.raises(FaroUsageError, match="lies inside the input model"):
        retrain(model, table, constraints=["dp@group=0.1"], out=model / "fixed")
    assert sorted(p.name for p in model.iterdir()) == ["config.json"]
