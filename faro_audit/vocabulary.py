"""The words every layer shares: metrics, gap methods, outcomes, bounds, verdicts, constraints.

One place owns each spelling, so that the CLI, the audit, the statistics, the report and the
retrainer cannot drift apart (issue 11). This module is pure: it imports nothing beyond the
standard library and :mod:`faro_audit.errors`, so any layer may import it.

Vocabulary
----------
* Metrics (SPEC §3): :data:`METRICS` ``dp``, ``eo`` (gaps of group means, between groups or
  anchored to the pooled mean) and ``cf`` (mean spread over twin sets).
* Gap methods (SPEC §3, §5): :data:`GAP_METHODS` — ``between_groups``
  Δ = max_a m_a − min_a m_a, and ``to_overall`` Δ = max_a |m_a − Σ_b w_b m_b| (Faro's
  anchoring); cf uses :data:`CF_METHOD` ``mean_spread`` = mean_k (max_{i∈S_k} o_i − min_{i∈S_k} o_i).
* Outcomes (SPEC §2): :data:`OUTCOMES` ``soft`` σ(d/T) and ``hard`` 1[d > 0] (ties ½).
* Bounds (SPEC §5.2–§5.3): :data:`BOUND_METHODS` in one order, and :data:`BOUND_CHOICES`
  = ``auto`` + those, what ``--bound`` accepts.
* Verdicts (SPEC §5.4, §8): :data:`VERDICTS` and the process exit code of each,
  :data:`EXIT_CODES` (0 certified, 1 violated, 3 inconclusive; 2 is a usage or input error).
* Constraints (SPEC §5, §9): :class:`Constraint`, gap(metric, outcome, attribute, method) ≤ ε,
  parsed from and labelled as the CLI spelling ``METRIC[:OUTCOME][@ATTRIBUTE]=EPSILON`` with
  METRIC one of :data:`CLI_METRICS` (``dp``, ``dp_anchored``, ``eo``, ``eo_anchored``, ``cf``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from faro_audit.errors import FaroUsageError

__all__ = [
    "BOUND_CHOICES",
    "BOUND_METHODS",
    "CF_METHOD",
    "CLI_METRICS",
    "DEFAULT_CONSTRAINTS",
    "EXIT_CODES",
    "GAP_METHODS",
    "METRICS",
    "METRIC_METHODS",
    "OUTCOMES",
    "VERDICTS",
    "Constraint",
    "constraint_label",
    "exit_code",
    "metric_name",
    "overall_verdict",
]

#: Fairness metrics with a gap (SPEC §3).
METRICS: tuple[str, ...] = ("dp", "eo", "cf")
#: Gap methods of the group-mean metrics dp and eo (SPEC §3): between groups, and anchored.
GAP_METHODS: tuple[str, ...] = ("between_groups", "to_overall")
#: The one method of cf: the mean over twin sets of the spread max − min.
CF_METHOD: str = "mean_spread"
#: metric → the methods that apply to it.
METRIC_METHODS: Mapping[str, tuple[str, ...]] = {"dp": GAP_METHODS, "eo": GAP_METHODS, "cf": (CF_METHOD,)}
#: Bounded outcomes (SPEC §2): soft σ(d/T), hard 1[d > 0] with ties ½.
OUTCOMES: tuple[str, ...] = ("soft", "hard")
#: The four confidence bounds on a mean in [0, 1] (SPEC §5.2), in the order the CLI lists them.
BOUND_METHODS: tuple[str, ...] = ("hoeffding", "bernstein", "betting", "clopper-pearson")
#: What ``--bound`` accepts: ``auto`` (SPEC §5.3, the default) first, then :data:`BOUND_METHODS`.
BOUND_CHOICES: tuple[str, ...] = ("auto", *BOUND_METHODS)
#: Verdicts of a constraint and of a certificate set (SPEC §5.4).
VERDICTS: tuple[str, ...] = ("certified", "violated", "inconclusive")
#: Verdict → process exit code (SPEC §8); 2 is reserved for usage and input errors.
EXIT_CODES: Mapping[str, int] = {"certified": 0, "violated": 1, "inconclusive": 3}
#: The METRIC spellings of ``--max-gap`` → (metric, method).
CLI_METRICS: Mapping[str, tuple[str, str]] = {
    "dp": ("dp", "between_groups"),
    "dp_anchored": ("dp", "to_overall"),
    "eo": ("eo", "between_groups"),
    "eo_anchored": ("eo", "to_overall"),
    "cf": ("cf", CF_METHOD),
}
#: The constraints an audit certifies when none is given (SPEC §9).
DEFAULT_CONSTRAINTS: tuple[str, ...] = ("dp=0.05", "eo=0.05", "cf=0.05")

_PATTERN = re.compile(r"^(?P<metric>[a-z_]+)(?::(?P<outcome>[a-z]+))?(?:@(?P<attr>[^=]+))?=(?P<eps>.+)$")


def exit_code(verdict: str) -> int:
    """The process exit code of a verdict (SPEC §8).

    Parameters
    ----------
    verdict : {"certified", "violated", "inconclusive"}

    Returns
    -------
    int
        0 certified, 1 violated, 3 inconclusive.

    Raises
    ------
    FaroUsageError
        For any other string.
    """
    try:
        return EXIT_CODES[str(verdict)]
    except KeyError:
        raise FaroUsageError(f"unknown verdict {verdict!r}; expected one of {', '.join(VERDICTS)}") from None


def overall_verdict(verdicts: Iterable[str]) -> str:
    """The verdict of a set of constraints (SPEC §5.4).

    Parameters
    ----------
    verdicts : iterable of str
        One verdict per constraint, each in :data:`VERDICTS`.

    Returns
    -------
    str
        ``violated`` if any is, else ``inconclusive`` if any is, else ``certified``.

    Raises
    ------
    FaroUsageError
        When ``verdicts`` is empty (an empty set certifies nothing) or holds an unknown verdict.
    """
    vs = list(verdicts)
    if not vs:
        raise FaroUsageError("no constraints to decide: an empty certificate set certifies nothing")
    bad = [v for v in vs if v not in VERDICTS]
    if bad:
        raise FaroUsageError(f"unknown verdict {bad[0]!r}; expected one of {', '.join(VERDICTS)}")
    if "violated" in vs:
        return "violated"
    if "inconclusive" in vs:
        return "inconclusive"
    return "certified"


def metric_name(metric: str, method: str) -> str:
    """The ``--max-gap`` METRIC spelling of (metric, method).

    Parameters
    ----------
    metric : {"dp", "eo", "cf"}
    method : str
        ``to_overall`` adds ``_anchored``; any other method leaves ``metric`` as it is.

    Returns
    -------
    str
        e.g. ``dp_anchored`` for (``dp``, ``to_overall``), ``eo`` for (``eo``, ``between_groups``).
    """
    return metric + ("_anchored" if method == "to_overall" else "")


def constraint_label(metric: str, method: str, outcome: str, attribute: str | None,
                     epsilon: float | None = None) -> str:
    """The CLI spelling of a constraint, ``METRIC:OUTCOME[@ATTRIBUTE][=EPSILON]``.

    Parameters
    ----------
    metric, method, outcome : str
        The constraint (see :class:`Constraint`).
    attribute : str or None
        The group column; None (every attribute) leaves out ``@ATTRIBUTE``.
    epsilon : float, optional
        The tolerance, written with ``:g``; None leaves out ``=EPSILON``.

    Returns
    -------
    str
        e.g. ``dp_anchored:hard@gender=0.05``; parsing it with :meth:`Constraint.parse` gives
        the constraint back.
    """
    text = f"{metric_name(metric, method)}:{outcome}" + (f"@{attribute}" if attribute else "")
    return text if epsilon is None else f"{text}={float(epsilon):g}"


@dataclass(frozen=True)
class Constraint:
    """A fairness constraint (SPEC §5): gap(metric, outcome, attribute, method) ≤ ε.

    Construction checks every field and raises :class:`~faro_audit.errors.FaroUsageError` with
    a one-line message; ``epsilon`` is stored as a float.

    Attributes
    ----------
    metric : {"dp", "eo", "cf"}
    outcome : {"soft", "hard"}
    attribute : str or None
        The group column; None means "every attribute" (a ``--max-gap`` value without
        ``@ATTRIBUTE``, before it is expanded over the table's attributes).
    method : str
        One of ``METRIC_METHODS[metric]``: ``between_groups`` or ``to_overall`` for dp and eo,
        ``mean_spread`` for cf.
    epsilon : float
        Tolerance ε in (0, 1] (gaps of outcomes in [0, 1] lie in [0, 1]).

    Examples
    --------
    >>> c = Constraint.parse("dp_anchored:hard@gender=0.1")
    >>> (c.metric, c.outcome, c.attribute, c.method, c.epsilon)
    ('dp', 'hard', 'gender', 'to_overall', 0.1)
    >>> c.label
    'dp_anchored:hard@gender=0.1'
    """

    metric: str
    outcome: str
    attribute: str | None
    method: str
    epsilon: float

    def __post_init__(self) -> None:
        if self.metric not in METRIC_METHODS:
            raise FaroUsageError(f"constraint metric {self.metric!r} is unknown; use {', '.join(METRICS)}")
        if self.outcome not in OUTCOMES:
            raise FaroUsageError(f"constraint outcome {self.outcome!r} is unknown; use {' or '.join(OUTCOMES)}")
        methods = METRIC_METHODS[self.metric]
        if self.method not in methods:
            raise FaroUsageError(
                f"constraint {self.metric}: method {self.method!r} does not apply; use {' or '.join(methods)}"
            )
        try:
            eps = float(self.epsilon)
        except (TypeError, ValueError):
            raise FaroUsageError(f"constraint {self.metric}: tolerance {self.epsilon!r} is not a number") from None
        if not (math.isfinite(eps) and 0.0 < eps <= 1.0):
            where = f"{self.metric}@{self.attribute}" if self.attribute else self.metric
            raise FaroUsageError(
                f"constraint {where}: tolerance {eps:g} is outside (0, 1]; gaps of outcomes lie in [0, 1]"
            )
        object.__setattr__(self, "epsilon", eps)

    @classmethod
    def parse(cls, text: str, *, option: str = "--max-gap") -> Constraint:
        """Parse ``METRIC[:OUTCOME][@ATTRIBUTE]=EPSILON`` (SPEC §9).

        Parameters
        ----------
        text : str
            METRIC one of :data:`CLI_METRICS`; OUTCOME ``soft`` (default) or ``hard``;
            ATTRIBUTE a group column (default: every attribute, ``attribute=None``); EPSILON a
            number in (0, 1].
        option : str
            The option named in error messages.

        Returns
        -------
        Constraint

        Raises
        ------
        FaroUsageError
            One line naming the part of ``text`` that is wrong and the fix.
        """
        raw = str(text).strip()
        m = _PATTERN.match(raw)
        if not m:
            raise FaroUsageError(
                f"{option} {text!r}: not of the form METRIC[:OUTCOME][@ATTRIBUTE]=EPSILON, "
                "e.g. dp=0.05 or eo:hard@gender=0.1"
            )
        name = m["metric"]
        if name not in CLI_METRICS:
            raise FaroUsageError(f"{option} {text!r}: unknown metric {name!r}; use one of {', '.join(CLI_METRICS)}")
        outcome = m["outcome"] or "soft"
        if outcome not in OUTCOMES:
            raise FaroUsageError(f"{option} {text!r}: unknown outcome {outcome!r}; use 'soft' or 'hard'")
        try:
            eps = float(m["eps"])
        except ValueError:
            raise FaroUsageError(f"{option} {text!r}: tolerance {m['eps']!r} is not a number; give e.g. 0.05") from None
        if not (math.isfinite(eps) and 0 < eps <= 1):
            raise FaroUsageError(
                f"{option} {text!r}: tolerance {eps:g} is outside (0, 1]; gaps of bounded outcomes lie in [0, 1]"
            )
        metric, method = CLI_METRICS[name]
        return cls(metric, outcome, m["attr"], method, eps)

    @property
    def metric_name(self) -> str:
        """The ``--max-gap`` METRIC spelling, e.g. ``dp_anchored`` (:func:`metric_name`)."""
        return metric_name(self.metric, self.method)

    @property
    def name(self) -> str:
        """The CLI spelling without the tolerance, e.g. ``dp_anchored:hard@gender``."""
        return constraint_label(self.metric, self.method, self.outcome, self.attribute)

    @property
    def label(self) -> str:
        """The CLI spelling with the tolerance, e.g. ``dp_anchored:hard@gender=0.05``."""
        return constraint_label(self.metric, self.method, self.outcome, self.attribute, self.epsilon)

    @property
    def methods(self) -> tuple[str, ...]:
        """The gap methods that apply to this constraint's metric (``METRIC_METHODS[metric]``)."""
        return METRIC_METHODS[self.metric]

    def for_attribute(self, attribute: str | None) -> Constraint:
        """The same constraint on another group column.

        Parameters
        ----------
        attribute : str or None

        Returns
        -------
        Constraint
            A copy of the same type (subclasses keep their extra fields).
        """
        return replace(self, attribute=attribute)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields plus ``label``.

        Returns
        -------
        dict
            ``metric``, ``outcome``, ``attribute``, ``method``, ``epsilon`` and ``label``.
        """
        return {"metric": self.metric, "outcome": self.outcome, "attribute": self.attribute,
                "method": self.method, "epsilon": float(self.epsilon), "label": self.label}
