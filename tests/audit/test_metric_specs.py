"""The metric-spec extension point: a spec registered from this file alone reaches report.json and
report.html (issue 11, item 1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faro_audit.audit.metric_specs import (
    METRIC_SPECS,
    MetricInput,
    MetricSpec,
    MetricValue,
    gap_of_means,
    register_metric,
    unregister_metric,
)
from faro_audit.cli.main import main
from faro_audit.metrics.groups import encode_groups
from tests.cli.helpers import pairs_scores, write


def mean_margin_gap(x: MetricInput) -> MetricValue:
    """Max minus min over groups of the group mean of the soft outcome (unweighted)."""
    means = [float(x.y[x.groups.codes == k].mean()) for k in range(x.groups.n_groups)]
    return MetricValue(max(means) - min(means), tuple(means))


TOY = MetricSpec("mean_margin_gap", mean_margin_gap, outcomes=(("soft", "soft"),), methods=("max_minus_min",))


@pytest.fixture
def toy() -> Iterator[MetricSpec]:
    register_metric(TOY)
    try:
        yield TOY
    finally:
        unregister_metric(TOY.name)


def _hand_table() -> pd.DataFrame:
    """Margins chosen so the soft outcome σ(d) has known group means: f → σ(0)=½, m → σ(ln 3)=¾."""
    df = pairs_scores(20, groups=("f", "m"), seed=1)
    df["reward_rejected"] = 0.0
    df.loc[df["group"] == "f", "reward_chosen"] = 0.0
    df.loc[df["group"] == "m", "reward_chosen"] = float(np.log(3.0))
    return df


def test_registered_toy_spec_reaches_report_json_and_html(toy: MetricSpec, tmp_path: Path) -> None:
    scores = write(_hand_table(), tmp_path)
    out = tmp_path / "out"
    rc = main(["report", scores, "--group", "group", "--n-boot", "0", "--out", str(out)])
    assert rc in (0, 1, 3)
    report = json.loads((out / "report.json").read_text())
    (m,) = [m for m in report["metrics"] if m["name"] == "mean_margin_gap"]
    assert m["attribute"] == "group" and m["outcome"] == "soft" and m["method"] == "max_minus_min"
    assert m["estimate"] == pytest.approx(0.25, abs=1e-12)
    assert m["by_group"]["f"]["estimate"] == pytest.approx(0.5)
    assert m["by_group"]["m"]["estimate"] == pytest.approx(0.75)
    assert m["ci"] == [None, None]
    html = (out / "report.html").read_text()
    assert "mean margin gap" in html  # report/fmt.metric_name falls back to the key
    assert "0.250" in html
    # the built-in specs still ran
    assert {"dp_gap", "eo_gap", "pairwise_accuracy"} <= {m["name"] for m in report["metrics"]}


def test_unregistered_after_fixture() -> None:
    assert "mean_margin_gap" not in METRIC_SPECS


def test_register_and_unregister() -> None:
    spec = MetricSpec("toy_unit", mean_margin_gap)
    assert register_metric(spec) is spec
    try:
        assert METRIC_SPECS["toy_unit"] is spec
        with pytest.raises(ValueError, match="'toy_unit' is already registered"):
            register_metric(MetricSpec("toy_unit", mean_margin_gap))
        with pytest.raises(ValueError, match="already registered"):
            register_metric(MetricSpec("dp_gap", mean_margin_gap))
    finally:
        assert unregister_metric("toy_unit") is spec
    assert "toy_unit" not in METRIC_SPECS
    with pytest.raises(KeyError, match="not registered"):
        unregister_metric("toy_unit")


@pytest.mark.parametrize("kwargs, match", [
    ({"outcomes": (("soft", "agree_soft"),)}, "only for pairs"),
    ({"outcomes": (("soft", "nope"),)}, "unknown outcome column"),
    ({"shapes": ("triples",)}, "shapes"),
    ({"interval": "wide"}, "interval"),
    ({"interval": "gap", "methods": ("mean",)}, "gap methods"),
])
def test_invalid_specs_are_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        MetricSpec("bad", mean_margin_gap, **kwargs)


def test_builtin_gap_spec_function_is_the_engine_estimate() -> None:
    """For interval='gap' the engine reports the shared bootstrap's plug-in gap; the spec's own
    function gives the same number."""
    from faro_audit.audit.run import audit_table
    from faro_audit.audit.settings import AuditSettings
    from faro_audit.io.readers import validate_table

    df = pairs_scores(30, bias=0.5, seed=2)
    table = validate_table(df, group=["group"])
    res = audit_table(table, settings=AuditSettings(group=("group",)), n_boot=0)
    margin = df["reward_chosen"].to_numpy() - df["reward_rejected"].to_numpy()
    soft = 1 / (1 + np.exp(-margin))
    enc = encode_groups(df["group"].to_numpy().astype(str))
    for method in ("between_groups", "to_overall"):
        (m,) = [m for m in res.metrics if m.name == "dp_gap" and m.outcome == "soft" and m.method == method]
        v = gap_of_means(MetricInput(y=soft, groups=enc, weight=np.ones(len(df)), weighted=False,
                                     margin=margin, method=method))
        assert m.estimate == pytest.approx(v.estimate, abs=1e-12)
