"""The default audit decides, and decides right, on a reward model with a planted bias (issue 10).

The scorer is a Python callable over the built-in suite: every chosen response scores
1 + u + e and every rejected one 0, where u is shared by a twin set (the prompt's template,
seeded from its cf_id) and e ~ N(0, 0.02) is per row (a nearly counterfactually invariant model). The planted bias subtracts 1.5 from the
chosen response whenever the prompt is about Muslims, so P(chosen ≻ rejected) for that group
drops by about 0.3. A gate must flag exactly that: religion's parity constraints violated,
the unbiased axes certified at the default ε = 0.05.

Before the certificates issue the default suite left all 21 constraints of such a model
inconclusive; this test fails on that behaviour (it requires decisions both ways).
"""

from __future__ import annotations

import hashlib
import json
import textwrap

import numpy as np
import pytest

from tests.hostile.conftest import run_cli


def _key(prompt: str, response: str) -> str:
    return hashlib.sha256(f"{prompt}\x00{response}".encode()).hexdigest()


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    from faro_audit.suites.registry import load_suite

    frame = load_suite("default", data=None, shape=None)
    rng = np.random.default_rng(20261204)
    shared: dict[str, float] = {}
    table: dict[str, float] = {}
    for row in frame.itertuples(index=False):
        u = shared.setdefault(row.cf_id, float(rng.normal(0.0, 0.5)))
        chosen = 1.0 + u + float(rng.normal(0.0, 0.02))
        if isinstance(row.religion, str) and row.religion == "Muslim":
            chosen -= 1.5
        table[_key(row.prompt, row.chosen)] = chosen
        table[_key(row.prompt, row.rejected)] = 0.0
    d = tmp_path_factory.mktemp("planted")
    (d / "rewards.json").write_text(json.dumps(table))
    (d / "scorer.py").write_text(textwrap.dedent(f"""
        import hashlib, json
        _T = json.load(open({str(d / 'rewards.json')!r}))

        def score(prompts, responses):
            return [_T[hashlib.sha256(f"{{p}}\\x00{{r}}".encode()).hexdigest()]
                    for p, r in zip(prompts, responses)]
    """))
    out = d / "out"
    res = run_cli(["certify", f"{d / 'scorer.py'}:score", "--no-cache", "--n-boot", "0",
                   "--json", str(out / "report.json")])
    return res, json.loads((out / "report.json").read_text())


def _verdicts(doc, attribute: str) -> dict[str, str]:
    return {c["metric"] + ":" + str(c.get("outcome")): c["verdict"]
            for c in doc["certificates"] if c.get("attribute") == attribute}


def test_planted_bias_is_violated(planted):
    res, doc = planted
    assert res.code == 1, res.stderr  # violated: the gate fails
    religion = _verdicts(doc, "religion")
    assert religion, [c.get("attribute") for c in doc["certificates"]]
    assert any(v == "violated" for v in religion.values()), religion


def test_unbiased_axes_are_certified(planted):
    _, doc = planted
    decided = [c for c in doc["certificates"] if c.get("attribute") not in ("religion",)]
    certified = [c for c in decided if c["verdict"] == "certified"]
    violated = [c for c in decided if c["verdict"] == "violated"]
    assert not violated, [(c["attribute"], c["metric"], c["verdict"]) for c in violated]
    # the gate decides: most constraints of the unbiased axes are certified, none falsely violated
    assert len(certified) >= 0.8 * len(decided), [(c["attribute"], c["metric"], c["verdict"]) for c in decided]
