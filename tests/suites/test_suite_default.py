from __future__ import annotations

import hashlib
import re

import pandas as pd
import pytest

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.suites import default as default_module
from faro_audit.suites.default import GROUP_COLUMNS, SUITE_VERSION, default_suite, describe_suite
from faro_audit.suites.lexicons import GROUP_PLURALS, LEXICONS
from faro_audit.suites.templates import load_templates

#: sha256 of the suite's texts and ids (see test_content_matches_version): a text that changes
#: without a new SUITE_VERSION fails here. Add the new version's hash when you bump it.
CONTENT_SHA256 = {
    "2.0.0": "a88cbd69156c5823b2155950c1def4dab05776c5600aa1e16b7406fffefe1932",
}


@pytest.fixture(scope="module")
def pairs() -> pd.DataFrame:
    return default_suite("pairs")


@pytest.fixture(scope="module")
def responses() -> pd.DataFrame:
    return default_suite("responses")


def test_template_counts() -> None:
    templates = load_templates()
    assert len(templates) >= 126
    per_axis = pd.Series([t.axis for t in templates]).value_counts()
    assert set(per_axis.index) == set(LEXICONS) and len(per_axis) >= 7
    assert per_axis.min() >= 18 and per_axis.min() == per_axis.max()
    assert {len(t.fillers) for t in templates} == {4}
    assert all(len(set(t.fillers)) == len(t.fillers) for t in templates)
    assert len({t.template_id for t in templates}) == len(templates)


def test_columns_and_sizes(pairs: pd.DataFrame, responses: pd.DataFrame) -> None:
    base = ["pair_id", "cf_id", "axis", "template_id", *GROUP_COLUMNS]
    assert list(pairs.columns) == ["prompt", "chosen", "rejected", *base]
    assert list(responses.columns) == ["prompt", "response", "label", *base]
    assert len(pairs) >= 9000
    assert len(responses) == 2 * len(pairs)
    assert pairs["pair_id"].is_unique
    info = describe_suite()
    assert info["rows"] == {"pairs": len(pairs), "responses": len(responses)}
    assert info["version"] == SUITE_VERSION
    assert info["twin_sets"]["pairs"] == pairs["cf_id"].nunique()
    assert info["twin_sets"]["responses"] == responses["cf_id"].nunique()
    assert sum(info["templates_per_axis"].values()) == info["n_templates"] == pairs["template_id"].nunique()


def test_paired_design(pairs: pd.DataFrame) -> None:
    """Every twin set holds every group of its axis exactly once (so twin sets are the blocks
    of a paired design), each axis has 250-300 sets, and groups are balanced."""
    info = describe_suite()
    templates = load_templates()
    for axis in GROUP_COLUMNS:
        rows = pairs[pairs["axis"] == axis]
        groups = sorted(LEXICONS[axis])
        per_set = rows.groupby("cf_id")[axis].agg(lambda g: sorted(g))
        assert all(g == groups for g in per_set), f"{axis}: a twin set lacks or repeats a group"
        n_sets = len(per_set)
        assert 250 <= n_sets <= 300, (axis, n_sets)
        expected = sum(len(t.fillers) for t in templates if t.axis == axis) * info["terms_per_group"][axis]
        assert n_sets == expected == info["twin_sets_per_axis"][axis]
        assert (rows[axis].value_counts() == n_sets).all() and len(rows) == n_sets * len(groups)
        assert info["rows_per_group"][axis] == {g: n_sets for g in LEXICONS[axis]}
    assert sum(info["twin_sets_per_axis"].values()) == info["twin_sets"]["pairs"]


def test_unequal_term_counts_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = {**LEXICONS, "age": {**LEXICONS["age"], "older adult": LEXICONS["age"]["older adult"][:-1]}}
    monkeypatch.setattr(default_module, "LEXICONS", broken)
    with pytest.raises(FaroInputError, match="'age'.*same number"):
        default_module._terms_per_group("age")


def test_content_matches_version(pairs: pd.DataFrame) -> None:
    cols = ["prompt", "chosen", "rejected", "pair_id", "cf_id", "axis", "template_id"]
    text = "\n".join("\t".join(row) for row in pairs[cols].itertuples(index=False))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert SUITE_VERSION in CONTENT_SHA256, f"add the hash of version {SUITE_VERSION}: {digest}"
    assert digest == CONTENT_SHA256[SUITE_VERSION], (
        f"the suite's texts changed (sha256 {digest}) but SUITE_VERSION is still {SUITE_VERSION}; "
        "bump it and record the new hash"
    )


def test_group_columns_defined_only_on_own_axis(pairs: pd.DataFrame, responses: pd.DataFrame) -> None:
    for frame in (pairs, responses):
        defined = frame[list(GROUP_COLUMNS)].notna()
        assert (defined.sum(axis=1) == 1).all()
        for axis in GROUP_COLUMNS:
            own = frame["axis"] == axis
            assert defined.loc[own, axis].all() and not defined.loc[~own, axis].any()
            assert set(frame.loc[own, axis]) == set(LEXICONS[axis])


def test_no_empty_or_unfilled_text(pairs: pd.DataFrame, responses: pd.DataFrame) -> None:
    for frame, cols in ((pairs, ["prompt", "chosen", "rejected"]), (responses, ["prompt", "response"])):
        for col in cols:
            text = frame[col]
            assert (text.str.strip().str.len() > 0).all(), col
            assert not text.str.contains(r"[{}]|\s\s").any(), col
    assert (pairs["chosen"] != pairs["rejected"]).all()


def test_articles_agree(pairs: pd.DataFrame) -> None:
    for col in ("prompt", "chosen", "rejected"):
        text = pairs[col]
        assert not text.str.contains(r"\b[Aa] [aeiouAEIOU]").any(), text[
            text.str.contains(r"\b[Aa] [aeiouAEIOU]")
        ].iloc[0]
        assert not text.str.contains(r"\b[Aa]n [^aeiouAEIOU\s]").any(), text[
            text.str.contains(r"\b[Aa]n [^aeiouAEIOU\s]")
        ].iloc[0]


def _term_of(prompt: str, terms: tuple[str, ...]) -> int:
    found = [i for i, t in enumerate(terms) if t in prompt]
    assert found, f"no surface term in {prompt!r}"
    return max(found, key=lambda i: len(terms[i]))


def test_twin_sets_differ_only_in_group_term(pairs: pd.DataFrame) -> None:
    sets: dict[str, list[dict]] = {}
    for rec in pairs.to_dict("records"):
        sets.setdefault(rec["cf_id"], []).append(rec)
    words = {
        (axis, group): re.compile(rf"\b{re.escape(plural)}\b")
        for axis, plurals in GROUP_PLURALS.items()
        for group, plural in plurals.items()
    }
    for cf_id, twins in sets.items():
        axis = twins[0]["axis"]
        assert {t["axis"] for t in twins} == {axis} and len({t["template_id"] for t in twins}) == 1
        groups = [t[axis] for t in twins]
        assert sorted(groups) == sorted(LEXICONS[axis]), f"{cf_id}: one row per group"
        masked = set()
        term_index = set()
        for row, group in zip(twins, groups, strict=True):
            terms = LEXICONS[axis][group]
            i = _term_of(row["prompt"], terms)
            term_index.add(i)
            word = words[(axis, group)]
            assert row["prompt"].count(terms[i]) == 1 and len(word.findall(row["rejected"])) == 1
            masked.add(
                (row["prompt"].replace(terms[i], "<P>"), row["chosen"], word.sub("<G>", row["rejected"]))
            )
        assert len(term_index) == 1, f"{cf_id}: twins use different term positions"
        assert len(masked) == 1, f"{cf_id}: twins differ beyond the group term"


def test_responses_shape_links(responses: pd.DataFrame, pairs: pd.DataFrame) -> None:
    assert set(responses["label"]) == {0, 1}
    by_pair = responses.groupby("pair_id")["label"].agg(["count", "sum"])
    assert (by_pair["count"] == 2).all() and (by_pair["sum"] == 1).all()
    # twin sets link responses of one kind only, one per group
    kinds = responses.groupby("cf_id")["label"].nunique()
    assert (kinds == 1).all()
    sizes = responses.groupby("cf_id").size()
    expected = responses.groupby("cf_id")["axis"].first().map(lambda a: len(LEXICONS[a]))
    assert (sizes == expected).all()
    acc = responses[responses["label"] == 1].reset_index(drop=True)
    assert (acc["response"] == pairs["chosen"]).all()
    assert (acc["prompt"] == pairs["prompt"]).all()


def test_deterministic() -> None:
    pd.testing.assert_frame_equal(default_suite("pairs"), default_suite("pairs"))
    pd.testing.assert_frame_equal(default_suite("responses"), default_suite("responses"))


def test_bad_shape() -> None:
    with pytest.raises(FaroUsageError, match="shape"):
        default_suite("triples")
