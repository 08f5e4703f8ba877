"""Parse ``--max-gap`` constraint strings (SPEC §9) and expand them over attributes.

Grammar: ``METRIC[:OUTCOME][@ATTRIBUTE]=EPSILON`` with METRIC one of ``dp``, ``eo``, ``cf``,
``dp_anchored``, ``eo_anchored``; OUTCOME ``soft`` (default) or ``hard``; ATTRIBUTE defaulting to
every group attribute; EPSILON in (0, 1]. The grammar, the metric spellings and the constraint
type are :mod:`faro_audit.vocabulary`'s (:meth:`~faro_audit.vocabulary.Constraint.parse`);
this module adds the source text and the expansion over a table's attributes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from faro_audit.errors import FaroUsageError
from faro_audit.vocabulary import CLI_METRICS, DEFAULT_CONSTRAINTS, OUTCOMES, Constraint

__all__ = ["DEFAULT_SPECS", "METRICS", "OUTCOMES", "ConstraintSpec", "expand_constraints", "parse_constraint"]

#: The ``--max-gap`` METRIC spellings → (metric, method) (alias of
#: :data:`faro_audit.vocabulary.CLI_METRICS`).
METRICS = CLI_METRICS
#: Alias of :data:`faro_audit.vocabulary.DEFAULT_CONSTRAINTS`.
DEFAULT_SPECS = DEFAULT_CONSTRAINTS


@dataclass(frozen=True, init=False)
class ConstraintSpec(Constraint):
    """A parsed ``--max-gap`` value: a :class:`~faro_audit.vocabulary.Constraint` plus its text.

    ``attribute`` None means every attribute. The positional order of the constructor is the
    historical one, ``(metric, method, outcome, attribute, epsilon, text)``; keywords are
    the same as the fields.

    Attributes
    ----------
    text : str
        The value as the user wrote it (stripped), quoted in error messages; after
        :func:`expand_constraints` every attribute's spec keeps the text it came from.
    """

    text: str = ""

    def __init__(self, metric: str, method: str, outcome: str, attribute: str | None, epsilon: float,
                 text: str = "") -> None:
        super().__init__(metric, outcome, attribute, method, epsilon)
        object.__setattr__(self, "text", str(text) or self.label)

    @classmethod
    def from_constraint(cls, c: Constraint, text: str = "") -> ConstraintSpec:
        """The spec of a constraint.

        Parameters
        ----------
        c : Constraint
        text : str
            The source text (default: the constraint's label).

        Returns
        -------
        ConstraintSpec
        """
        return cls(c.metric, c.method, c.outcome, c.attribute, c.epsilon, text)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields plus ``label`` and ``text``.

        Returns
        -------
        dict
        """
        return {**super().as_dict(), "text": self.text}


def parse_constraint(text: str) -> ConstraintSpec:
    """Parse one ``--max-gap`` value (:meth:`faro_audit.vocabulary.Constraint.parse`).

    Parameters
    ----------
    text : str
        ``METRIC[:OUTCOME][@ATTRIBUTE]=EPSILON``.

    Returns
    -------
    ConstraintSpec

    Examples
    --------
    >>> s = parse_constraint("dp_anchored:hard@gender=0.1")
    >>> (s.metric, s.method, s.outcome, s.attribute, s.epsilon, s.text)
    ('dp', 'to_overall', 'hard', 'gender', 0.1, 'dp_anchored:hard@gender=0.1')
    """
    return ConstraintSpec.from_constraint(Constraint.parse(text), str(text).strip())


def expand_constraints(
    specs: Iterable[str | ConstraintSpec],
    *,
    attributes: Sequence[str],
    has_twins: bool,
    has_labels: bool,
    explicit: bool,
) -> list[ConstraintSpec]:
    """One spec per attribute, in a stable order, without duplicates.

    Defaults (``explicit=False``) skip what the data cannot measure (``cf`` without twins,
    ``eo`` without labels); explicit requests for them are an error naming the fix.

    Parameters
    ----------
    specs : iterable of str or ConstraintSpec
        ``--max-gap`` values (parsed here when strings).
    attributes : sequence of str
        The table's group columns; a spec without ``@ATTRIBUTE`` expands over all of them.
    has_twins : bool
        The table has a ``cf_id`` column (cf is measurable).
    has_labels : bool
        The table has labels (eo is measurable).
    explicit : bool
        The specs were given by the user (an unmeasurable one is an error) rather than the
        defaults (it is skipped).

    Returns
    -------
    list of ConstraintSpec
        Each with an attribute; a later spec for the same (metric, method, outcome,
        attribute) replaces an earlier one in place.
    """
    out: dict[tuple[str, str, str, str], ConstraintSpec] = {}
    for raw in specs:
        spec = parse_constraint(raw) if isinstance(raw, str) else raw
        if spec.attribute is not None and spec.attribute not in attributes:
            raise FaroUsageError(
                f"--max-gap {spec.text!r}: attribute {spec.attribute!r} is not a group column; "
                f"use one of {', '.join(attributes)} (given with --group)"
            )
        if spec.metric == "cf" and not has_twins:
            if explicit:
                raise FaroUsageError(
                    f"--max-gap {spec.text!r}: the data has no 'cf_id' column, so there are no "
                    "counterfactual twins; add cf_id or drop the cf constraint"
                )
            continue
        if spec.metric == "eo" and not has_labels:
            if explicit:
                raise FaroUsageError(
                    f"--max-gap {spec.text!r}: equalized odds needs a 'label' column in a responses table; "
                    "add labels or use dp"
                )
            continue
        for attr in [spec.attribute] if spec.attribute else list(attributes):
            key = (spec.metric, spec.method, spec.outcome, attr)
            out[key] = ConstraintSpec(spec.metric, spec.method, spec.outcome, attr, spec.epsilon, spec.text)
    return list(out.values())
