"""The built-in counterfactual audit suite (``--suite default``).

Every template of :mod:`faro_audit.suites.templates` is filled, for each filler ``x`` and each
surface-term index ``i``, once per group of its axis with term ``i`` of that group
(:data:`~faro_audit.suites.lexicons.LEXICONS`). The rows of one (template, filler, term index)
form a **counterfactual twin set**: the same text with only the group term (and, in the biased
answer, the group's plural noun) swapped; they share ``cf_id`` (SPEC §1). Every group of the axis
is in every twin set exactly once, so a twin set is one block of a paired design and every group
of an axis has the same number of rows (one per twin set). Construction is pure enumeration in a
fixed order: no randomness, the same frame on every call.

Shapes (SPEC §1):

- ``pairs``: ``prompt``, ``chosen`` (the acceptable answer), ``rejected`` (the biased answer),
  ``pair_id``, ``cf_id``, ``axis``, ``template_id`` and one group column per axis, named after
  the axis, holding the group on that axis's rows and missing (``pd.NA``) elsewhere.
- ``responses``: each pair gives two rows, ``response`` = the acceptable answer with
  ``label`` 1 and the biased answer with ``label`` 0. ``cf_id`` is the pair's twin-set id with
  ``-acc`` / ``-bias`` appended, so twin sets link responses of the same kind; ``pair_id`` is
  kept, so both rows of a pair form one cluster.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.suites.lexicons import AXES, GROUP_PLURALS, LEXICONS
from faro_audit.suites.templates import load_templates

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SUITE_VERSION", "default_suite", "describe_suite", "GROUP_COLUMNS"]

#: Version of the suite's content (lexicons + templates). Bump it whenever a text changes.
#: 2.0.0: 126 templates (18 per axis), 4 fillers each, 4 terms per group on every axis
#: (288 twin sets per axis); 1.0.0: 63 templates, 3 fillers, 3-4 terms (81-108 sets per axis).
SUITE_VERSION = "2.0.0"

#: The group columns of the suite: one per axis, named after the axis.
GROUP_COLUMNS: tuple[str, ...] = AXES

_SHAPES = ("pairs", "responses")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


@lru_cache(maxsize=1)
def _pair_records() -> tuple[dict[str, Any], ...]:
    """All pairs of the suite as plain records, in a fixed order."""
    records: list[dict[str, Any]] = []
    for tpl in load_templates():
        groups = LEXICONS[tpl.axis]
        n_terms = _terms_per_group(tpl.axis)
        for fi, x in enumerate(tpl.fillers):
            for ti in range(n_terms):
                cf_id = f"{tpl.template_id}-f{fi}-t{ti}"
                for group, terms in groups.items():
                    prompt, chosen, rejected = tpl.fill(
                        person=terms[ti], groups=GROUP_PLURALS[tpl.axis][group], x=x
                    )
                    records.append(
                        {
                            "prompt": prompt,
                            "chosen": chosen,
                            "rejected": rejected,
                            "pair_id": f"{cf_id}-{_slug(group)}",
                            "cf_id": cf_id,
                            "axis": tpl.axis,
                            "template_id": tpl.template_id,
                            "group": group,
                        }
                    )
    return tuple(records)


def _terms_per_group(axis: str) -> int:
    """The number of surface terms of every group of ``axis`` (one twin set per term index)."""
    lengths = {group: len(terms) for group, terms in LEXICONS[axis].items()}
    if len(set(lengths.values())) != 1:
        raise FaroInputError(
            f"lexicon {axis!r}: groups have different numbers of terms {lengths}; give every group "
            "the same number, so that each twin set has every group exactly once"
        )
    return next(iter(lengths.values()))


def _frame(rows: list[dict[str, Any]], text_columns: list[str]) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=text_columns)
    for axis in GROUP_COLUMNS:
        frame[axis] = pd.array([r["group"] if r["axis"] == axis else None for r in rows], dtype="string")
    return frame


def default_suite(shape: str = "pairs") -> pd.DataFrame:
    """Build the built-in counterfactual audit suite.

    Parameters
    ----------
    shape : {"pairs", "responses"}
        ``pairs``: one row per (prompt, acceptable, biased) triple; ``responses``: two labelled
        rows per pair (acceptable → ``label`` 1, biased → ``label`` 0).

    Returns
    -------
    pandas.DataFrame
        SPEC §1 columns (see the module docstring), one group column per axis of
        :data:`GROUP_COLUMNS`. A new frame on every call; identical content on every call.

    Raises
    ------
    FaroUsageError
        If ``shape`` is not ``"pairs"`` or ``"responses"``.
    """
    if shape not in _SHAPES:
        raise FaroUsageError(f"shape: got {shape!r}; use one of {list(_SHAPES)} for the default suite")
    pairs = _pair_records()
    if shape == "pairs":
        cols = ["prompt", "chosen", "rejected", "pair_id", "cf_id", "axis", "template_id"]
        return _frame(list(pairs), cols)
    rows: list[dict[str, Any]] = []
    for rec in pairs:
        for kind, text, label in (("acc", rec["chosen"], 1), ("bias", rec["rejected"], 0)):
            rows.append(
                {
                    "prompt": rec["prompt"],
                    "response": text,
                    "label": label,
                    "pair_id": rec["pair_id"],
                    "cf_id": f"{rec['cf_id']}-{kind}",
                    "axis": rec["axis"],
                    "template_id": rec["template_id"],
                    "group": rec["group"],
                }
            )
    cols = ["prompt", "response", "label", "pair_id", "cf_id", "axis", "template_id"]
    return _frame(rows, cols)


def describe_suite() -> dict[str, Any]:
    """Describe the default suite without building a DataFrame.

    Returns
    -------
    dict
        ``name``, ``version`` (:data:`SUITE_VERSION`), ``axes`` (list), ``group_columns``,
        ``templates_per_axis`` {axis: n}, ``n_templates``, ``groups`` {axis: [group, ...]},
        ``terms_per_group`` {axis: n}, ``rows`` {"pairs": n, "responses": 2n},
        ``twin_sets`` {"pairs": n, "responses": 2n}, ``twin_sets_per_axis`` {axis: n} and
        ``rows_per_group`` {axis: {group: n}} (``pairs`` rows per group: the axis's number of
        twin sets for every group, since each set has every group once).
    """
    templates = load_templates()
    pairs = _pair_records()
    per_axis = {axis: sum(t.axis == axis for t in templates) for axis in AXES}
    n_sets = len({r["cf_id"] for r in pairs})
    sets_per_axis = {axis: len({r["cf_id"] for r in pairs if r["axis"] == axis}) for axis in AXES}
    counts = Counter((r["axis"], r["group"]) for r in pairs)
    rows_per_group = {axis: {g: counts[(axis, g)] for g in LEXICONS[axis]} for axis in AXES}
    return {
        "name": "default",
        "version": SUITE_VERSION,
        "axes": list(AXES),
        "group_columns": list(GROUP_COLUMNS),
        "templates_per_axis": per_axis,
        "n_templates": len(templates),
        "groups": {axis: list(LEXICONS[axis]) for axis in AXES},
        "terms_per_group": {axis: _terms_per_group(axis) for axis in AXES},
        "rows": {"pairs": len(pairs), "responses": 2 * len(pairs)},
        "twin_sets": {"pairs": n_sets, "responses": 2 * n_sets},
        "twin_sets_per_axis": sets_per_axis,
        "rows_per_group": rows_per_group,
    }
