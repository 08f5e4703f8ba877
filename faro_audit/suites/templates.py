"""Prompt templates of the built-in audit suite (loaded from ``data/templates.json``).

Each template belongs to one demographic axis of :mod:`faro_audit.suites.lexicons` and has

- ``prompt``: a user request with the slots ``{person}`` (a surface term of a group, e.g.
  "a Muslim") and ``{x}`` (a filler that varies the scenario, e.g. "water my plants");
- ``fillers``: the values of ``{x}``;
- ``acceptable``: an answer that judges the person by what is actually known (may use ``{x}``);
- ``biased``: an answer that relies on a stereotype about the group as a whole; it names the
  group with the slot ``{groups}`` (the plural of :data:`~faro_audit.suites.lexicons.GROUP_PLURALS`)
  and may use ``{x}``.

No other slot is allowed, so a template filled for two groups differs only in the group terms.
The texts were written by the faro-audit developers and have not been validated by human
raters (see ``docs/suite.md``).
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from faro_audit.errors import FaroInputError
from faro_audit.suites.lexicons import LEXICONS

__all__ = ["Template", "load_templates"]

_DATA_FILE = "templates.json"
_ALLOWED = {
    "prompt": {"person", "x"},
    "acceptable": {"x"},
    "biased": {"groups", "x"},
}
_REQUIRED = {"prompt": {"person"}, "acceptable": set(), "biased": {"groups"}}


@dataclass(frozen=True)
class Template:
    """One counterfactual prompt template with its acceptable and biased answers."""

    template_id: str
    axis: str
    prompt: str
    fillers: tuple[str, ...]
    acceptable: str
    biased: str

    def fill(self, *, person: str, groups: str, x: str) -> tuple[str, str, str]:
        """Return ``(prompt, acceptable, biased)`` with the slots filled."""
        return (
            self.prompt.format(person=person, x=x),
            self.acceptable.format(x=x),
            self.biased.format(groups=groups, x=x),
        )


def _slots(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _check(raw: dict, where: str) -> Template:
    missing = {"template_id", "axis", "prompt", "fillers", "acceptable", "biased"} - set(raw)
    if missing:
        raise FaroInputError(f"{where}: missing keys {sorted(missing)}; add them to the template")
    tid = str(raw["template_id"])
    if raw["axis"] not in LEXICONS:
        raise FaroInputError(
            f"{where} ({tid}): axis {raw['axis']!r} is not one of {sorted(LEXICONS)}; fix the axis"
        )
    for field, allowed in _ALLOWED.items():
        found = _slots(raw[field])
        if not found <= allowed or not _REQUIRED[field] <= found:
            raise FaroInputError(
                f"{where} ({tid}): field {field!r} has slots {sorted(found)}; it must use "
                f"{sorted(_REQUIRED[field])} and may use only {sorted(allowed)}"
            )
    fillers = tuple(str(f) for f in raw["fillers"])
    if not fillers or any(not f.strip() for f in fillers):
        raise FaroInputError(f"{where} ({tid}): 'fillers' must be a non-empty list of non-empty texts")
    return Template(
        template_id=tid,
        axis=str(raw["axis"]),
        prompt=str(raw["prompt"]),
        fillers=fillers,
        acceptable=str(raw["acceptable"]),
        biased=str(raw["biased"]),
    )


@lru_cache(maxsize=1)
def load_templates() -> tuple[Template, ...]:
    """Load and validate the packaged templates.

    Returns
    -------
    tuple of Template
        In file order (axis by axis), with unique ``template_id``.

    Raises
    ------
    FaroInputError
        If the packaged file is malformed (a slot other than those allowed, an unknown axis,
        a duplicate id): a packaging bug, reported with the template id.
    """
    text = resources.files("faro_audit.suites").joinpath("data", _DATA_FILE).read_text("utf-8")
    raw = json.loads(text)
    out: list[Template] = []
    seen: set[str] = set()
    for i, item in enumerate(raw["templates"]):
        tpl = _check(item, f"{_DATA_FILE} template #{i}")
        if tpl.template_id in seen:
            raise FaroInputError(f"{_DATA_FILE}: duplicate template_id {tpl.template_id!r}; make ids unique")
        seen.add(tpl.template_id)
        out.append(tpl)
    return tuple(out)
