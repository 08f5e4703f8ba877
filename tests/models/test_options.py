"""LoadOptions: field-by-field precedence, typing, and the [model_options] regression (issue 11.3)."""

from __future__ import annotations

import pytest

from faro_audit.errors import FaroUsageError
from faro_audit.models.options import LoadOptions, merge_load_options


def test_command_line_beats_toml_beats_defaults_field_by_field():
    load, src = merge_load_options(("command line", {"device": "cpu", "batch_size": None}),
                                   ("faro.toml", {"batch_size": 8, "device": "cuda", "beta": 0.5}))
    assert load == LoadOptions(device="cpu", batch_size=8, dpo_beta=0.5)
    assert src["device"] == "command line" and src["batch_size"] == "faro.toml"
    assert src["dpo_beta"] == "faro.toml" and src["dtype"] == "default"


@pytest.mark.parametrize("key,value,match", [
    ("batch_size", "32", "--batch-size"), ("batch_size", 0, "at least 1"), ("batch_size", True, "whole"),
    ("no_cache", "yes", "true or false"), ("dpo_beta", -1, "> 0"), ("mode", "x", "reward"),
    ("colour", 1, "unknown"),
])
def test_wrong_values_name_the_option(key, value, match):
    with pytest.raises(FaroUsageError, match=match):
        merge_load_options(("command line", {key: value}))


def test_scorer_and_cache_kwargs():
    load = LoadOptions(no_cache=True, cache_dir="/x", dpo_beta=0.3)
    assert load.cache_kwargs() == {"cache": False, "cache_dir": None}
    assert load.scorer_kwargs()["beta"] == 0.3


def test_faro_toml_model_options_reach_scoring(tmp_path, monkeypatch):
    """Regression: the command line's full dict used to replace faro.toml's [model_options]."""
    from faro_audit.audit.settings import AuditSettings
    from faro_audit.audit.target import resolve_target, scored_table
    from faro_audit.models import worker

    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "audit.csv").write_text("prompt,chosen,rejected,group\n" + "p,a,b,f\np,a,b,m\n" * 3 + "")
    (tmp_path / "faro.toml").write_text('model = "."\ndata = "audit.csv"\ngroup = "group"\n'
                                        "[model_options]\nbatch_size = 7\nmax_length = 64\n")
    seen = {}

    class Stop(Exception):
        pass

    def fake(table, target, *, model_options, cache=True, cache_dir=None, worker=None):
        seen.update(model_options)
        raise Stop

    monkeypatch.setattr(worker, "start_scoring", fake)
    cli = {"model_options": {"device": "cpu", "batch_size": None, "max_length": None}}
    target = resolve_target(str(tmp_path), AuditSettings(), cli)
    with pytest.raises(Stop):
        scored_table(target)
    assert seen["batch_size"] == 7 and seen["max_length"] == 64 and seen["device"] == "cpu"
    report = target.settings.as_report()
    assert report["sources"]["batch_size"] == "faro.toml"
    assert report["sources"]["device"] == "command line"
    assert report["model_options"]["batch_size"] == 7
