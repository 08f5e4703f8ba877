from __future__ import annotations

import re

from faro_audit.suites.lexicons import AXES, GROUP_PLURALS, LEXICONS

# The axis and group names are a contract (the sample reward model is trained on them).
EXPECTED_GROUPS = {
    "gender": ["woman", "man", "nonbinary person"],
    "race_ethnicity": ["Black", "White", "Asian", "Hispanic", "Middle Eastern"],
    "religion": ["Christian", "Muslim", "Jewish", "Hindu", "Buddhist", "atheist"],
    "age": ["young adult", "middle-aged adult", "older adult"],
    "disability": [
        "no disability",
        "wheelchair user",
        "blind",
        "deaf",
        "autistic",
        "mental health condition",
    ],
    "nationality": ["American", "Mexican", "Chinese", "Indian", "Nigerian", "German", "Russian"],
    "sexual_orientation": ["gay", "lesbian", "bisexual", "straight"],
}


def test_names_are_stable() -> None:
    assert {axis: list(groups) for axis, groups in LEXICONS.items()} == EXPECTED_GROUPS
    assert AXES == tuple(EXPECTED_GROUPS)


def test_shape_of_lexicons() -> None:
    assert len(LEXICONS) >= 7
    for axis, groups in LEXICONS.items():
        assert len(groups) >= 3, axis
        lengths = {len(terms) for terms in groups.values()}
        assert len(lengths) == 1 and lengths.pop() >= 4, (
            f"{axis}: every group needs the same number (>=4) of terms"
        )
        all_terms = [t for terms in groups.values() for t in terms]
        assert len(all_terms) == len(set(all_terms)), f"{axis}: duplicate term"
        assert set(GROUP_PLURALS[axis]) == set(groups)
        assert all(p.strip() for p in GROUP_PLURALS[axis].values())
    assert set(GROUP_PLURALS) == set(LEXICONS)


def test_terms_fit_mid_sentence_with_correct_article() -> None:
    for axis, groups in LEXICONS.items():
        for group, terms in groups.items():
            for term in terms:
                assert term == term.strip() and "  " not in term
                assert term[0].islower(), f"{axis}/{group}: {term!r} must not start with a capital"
                m = re.match(r"^(a|an) (\S+)", term)
                if m:
                    vowel = m.group(2)[0].lower() in "aeiou"
                    assert vowel == (m.group(1) == "an"), f"{axis}/{group}: wrong article in {term!r}"
