"""Sequential audits (SPEC §5.7): score in seeded random batches, stop once every constraint is decided.

The table's rows are grouped into independent **units** — the connected components of rows
linked by a shared cluster (``cluster_id``, else the prompt) or a shared twin set
(``cf_id``) — so a unit is never split over batches. The units are put in a random order
drawn from ``random_state`` (recorded in the report), and cut into ``batches`` equal batches.
After each batch the scored prefix is certified with ``sequential=True``: every mean is
bounded by a betting confidence sequence over the arrival order (the running intersection of
SPEC §5.3), which holds at every look simultaneously. So stopping at the first look where
every constraint is decided — or at any other data-dependent time — keeps each verdict wrong
with probability ≤ δ_j / 2, as in a fixed-size audit; δ is split exactly as there.

Intermediate looks skip the bootstrap (descriptive only); the final result is the full audit
of the rows scored so far, with a ``sequential`` entry in ``extras``: looks, rows scored,
rows saved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from faro_audit.audit.units import connected_units
from faro_audit.errors import FaroUsageError
from faro_audit.io.table import AuditTable

__all__ = ["SequentialLook", "run_sequential", "unit_order"]


@dataclass(frozen=True)
class SequentialLook:
    """One look of a sequential audit."""

    rows: int
    units: int
    certified: int
    violated: int
    inconclusive: int


def unit_order(table: AuditTable, *, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows in a seeded random order of independent units, and the unit (in that order) of each.

    Returns
    -------
    (order, unit) : ndarray, ndarray
        ``table.frame.iloc[order]`` is the arrival order; ``unit[i]`` is the position of row
        ``order[i]``'s unit in the random order (non-decreasing).
    """
    import pandas as pd

    frame = table.frame
    n = len(frame)
    if n == 0:
        raise FaroUsageError("--sequential: the audit table has no rows")
    key = frame["cluster_id"] if "cluster_id" in frame.columns else frame["prompt"]
    links = [pd.factorize(key.astype(str))[0]]
    if "cf_id" in frame.columns:
        links.append(pd.factorize(frame["cf_id"].astype(str))[0])
    comp = connected_units(*links)
    n_units = int(comp.max()) + 1
    rank = np.empty(n_units, dtype=np.int64)
    rank[np.random.default_rng(random_state).permutation(n_units)] = np.arange(n_units)
    unit = rank[comp]
    order = np.argsort(unit, kind="stable")
    return order, unit[order]


def run_sequential(
    table: AuditTable,
    *,
    score: Callable[[AuditTable], AuditTable],
    audit: Callable[[AuditTable, bool], Any],
    random_state: int,
    batches: int = 10,
) -> Any:
    """Score and certify ``table`` batch by batch until every constraint is decided.

    Parameters
    ----------
    table
        The (unscored, or already scored) audit table.
    score
        Scores a sub-table (rows of one batch) and returns it with its reward columns.
    audit
        ``audit(prefix_table, final)`` → AuditResult of the rows scored so far; ``final`` is
        True for the result that is returned (with the bootstrap), False for a look.
    random_state
        Seed of the unit order.
    batches
        Number of equal batches of units (looks).

    Returns
    -------
    AuditResult
        The final audit, with ``extras["sequential"]``.
    """
    import pandas as pd

    if int(batches) != batches or batches < 1:
        raise FaroUsageError(f"--sequential-batches: {batches!r} must be a positive integer, e.g. 10")
    order, unit = unit_order(table, random_state=random_state)
    n_units = int(unit[-1]) + 1
    cuts = np.unique(np.ceil(np.arange(1, batches + 1) * n_units / batches).astype(np.int64))
    frame = table.frame.iloc[order].reset_index(drop=True)
    scored_parts: list[pd.DataFrame] = []
    looks: list[SequentialLook] = []
    start = 0
    result = None
    for cut in cuts:
        stop = int(np.searchsorted(unit, cut, side="left"))
        batch = table.with_frame(frame.iloc[start:stop].reset_index(drop=True))
        scored_parts.append(score(batch).frame)
        start = stop
        prefix = table.with_frame(pd.concat(scored_parts, ignore_index=True))
        look = audit(prefix, False)
        verdicts = [c.verdict for c in look.certificates]
        looks.append(SequentialLook(rows=stop, units=int(cut), certified=verdicts.count("certified"),
                                    violated=verdicts.count("violated"), inconclusive=verdicts.count("inconclusive")))
        result = look
        if "inconclusive" not in verdicts:
            break
    assert result is not None
    final = audit(prefix, True)
    rows = looks[-1].rows
    info = {
        "random_state": int(random_state),
        "batches": int(batches),
        "units": n_units,
        "rows_total": len(frame),
        "rows_scored": rows,
        "rows_saved": len(frame) - rows,
        "stopped_early": rows < len(frame),
        "looks": [look.__dict__ for look in looks],
        "statement": (
            f"sequential audit: {len(looks)} of {len(cuts)} looks, {rows} of {len(frame)} rows scored "
            f"({len(frame) - rows} saved); betting confidence sequences hold at every look, so stopping "
            "when all constraints are decided keeps each verdict's error within its share of delta"
        ),
    }
    return replace(final, extras={**final.extras, "sequential": info})
