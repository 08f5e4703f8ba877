"""Parse ``--max-gap`` constraint strings (SPEC §9) and expand them over attributes.

Grammar: ``METRIC[:OUTCOME][@ATTRIBUTE]=EPSILON`` with METRIC one of ``dp``, ``eo``, ``cf``,
``dp_anchored``, ``eo_anchored``; OUTCOME ``soft`` (default) or ``hard``; ATTRIBUTE defaulting to
every group attribute; EPSILON in (0, 1].
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from faro_audit.errors import FaroUsageError

METRICS: dict[str, tuple[str, str]] = {
    "dp": ("dp", "between_groups"),
    "dp_anchored": ("dp", "to_overall"),
    "eo": ("eo", "between_groups"),
    "eo_anchored": ("eo", "to_overall"),
    "cf": ("cf", "mean_spread"),
}
OUTCOMES = ("soft", "hard")
DEFAULT_SPECS = ("dp=0.05", "eo=0.05", "cf=0.05")

_PATTERN = re.compile(r"^(?P<metric>[a-z_]+)(?::(?P<outcome>[a-z]+))?(?:@(?P<attr>[^=]+))?=(?P<eps>.+)$")


@dataclass(frozen=True)
class ConstraintSpec:
    """A parsed ``--max-gap`` value; ``attribute`` ``None`` means every attribute."""

    metric: str
    method: str
    outcome: str
    attribute: str | None
    epsilon: float
    text: str


def parse_constraint(text: str) -> ConstraintSpec:
    """Parse one ``--max-gap`` value.

    Examples
    --------
    >>> parse_constraint("dp_anchored:hard@gender=0.1")
    ConstraintSpec(metric='dp', method='to_overall', outcome='hard', attribute='gender', epsilon=0.1, text='dp_anchored:hard@gender=0.1')
    """
    m = _PATTERN.match(text.strip())
    if not m:
        raise FaroUsageError(
            f"--max-gap {text!r}: not of the form METRIC[:OUTCOME][@ATTRIBUTE]=EPSILON, e.g. dp=0.05 or eo:hard@gender=0.1"
        )
    name = m["metric"]
    if name not in METRICS:
        raise FaroUsageError(
            f"--max-gap {text!r}: unknown metric {name!r}; use one of {', '.join(METRICS)}"
        )
    outcome = m["outcome"] or "soft"
    if outcome not in OUTCOMES:
        raise FaroUsageError(f"--max-gap {text!r}: unknown outcome {outcome!r}; use 'soft' or 'hard'")
    try:
        eps = float(m["eps"])
    except ValueError:
        raise FaroUsageError(f"--max-gap {text!r}: tolerance {m['eps']!r} is not a number; give e.g. 0.05") from None
    if not 0 < eps <= 1:
        raise FaroUsageError(f"--max-gap {text!r}: tolerance {eps:g} is outside (0, 1]; gaps of bounded outcomes lie in [0, 1]")
    metric, method = METRICS[name]
    return ConstraintSpec(metric, method, outcome, m["attr"], eps, text.strip())


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
    """
    out: dict[tuple, ConstraintSpec] = {}
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
