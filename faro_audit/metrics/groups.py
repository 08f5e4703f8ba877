"""Group encoding and checks of aligned input arrays.

Every metric in :mod:`faro_audit.metrics` reduces rows to groups with one factorisation
(:func:`numpy.unique` with ``return_inverse=True``) followed by :func:`numpy.bincount`, so the
cost is O(n log n) in the number of rows and there is no Python loop over rows. String labels
(``<U…``, ``S…`` and object arrays) are factorised by hashing instead, with the same sorted
labels and codes and several times faster than sorting the strings. Callers that
compute several metrics on the same rows should factorise once with :func:`encode_groups` and
pass the resulting :class:`GroupCodes` wherever ``sensitive_features`` is accepted.

Intersections (SPEC §1: several group columns give tuples) are one combined label per row,
``"female|black"``, built by :func:`combine_groups`; a 2-D ``sensitive_features`` array (one
column per attribute, as fairlearn accepts) is combined the same way.

The checks here raise :class:`~faro_audit.errors.FaroInputError` with a one-line message that
names the argument, what was found (with the first offending row positions, 0-based) and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from faro_audit.errors import FaroInputError, FaroUsageError

__all__ = [
    "GroupCodes",
    "SensitiveFeatures",
    "encode_groups",
    "combine_groups",
    "as_float_array",
    "as_sample_weight",
    "by_label",
    "grouped_weighted_median",
]

_SHOW = 5  # how many offending rows/values an error message lists


@dataclass(frozen=True, eq=False)
class GroupCodes:
    """Rows factorised into groups.

    Attributes
    ----------
    codes : numpy.ndarray of intp, shape (n_rows,)
        ``codes[i]`` is the index into ``labels`` of row ``i``'s group.
    labels : numpy.ndarray, shape (n_groups,)
        The distinct group labels, sorted (``numpy.unique`` order).
    """

    codes: np.ndarray
    labels: np.ndarray

    @property
    def n_groups(self) -> int:
        """Number of distinct groups."""
        return int(self.labels.shape[0])

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(self.codes.shape[0])

    def __len__(self) -> int:
        return self.n_rows

    def values(self) -> np.ndarray:
        """The per-row labels, ``labels[codes]``."""
        return self.labels[self.codes]

    def counts(self) -> np.ndarray:
        """Rows per group, aligned with ``labels``."""
        return np.bincount(self.codes, minlength=self.n_groups)

    def take(self, rows: ArrayLike) -> GroupCodes:
        """The same encoding restricted to ``rows`` (labels kept, so some counts may be 0)."""
        return GroupCodes(codes=self.codes[np.asarray(rows)], labels=self.labels)


SensitiveFeatures = ArrayLike | GroupCodes


def _rows_text(mask: np.ndarray) -> str:
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(int(r)) for r in rows[:_SHOW])
    more = f" and {rows.size - _SHOW} more" if rows.size > _SHOW else ""
    return f"{rows.size} row(s) ({shown}{more})"


def _is_missing_scalar(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (float, np.floating)) and value != value:
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def _sorted_labels(values: list[Any]) -> list[int]:
    """Positions of ``values`` in sorted order; unorderable mixes sort by (type name, text)."""
    try:
        return sorted(range(len(values)), key=values.__getitem__)
    except TypeError:
        return sorted(range(len(values)), key=lambda k: (type(values[k]).__name__, str(values[k])))


def _factorise_strings(arr: np.ndarray) -> GroupCodes:
    """Factorise a 1-D fixed-width string array (``<U…``/``S…``) exactly as :func:`numpy.unique`.

    The distinct labels are found by hashing (``set`` of the Python strings) and sorted in
    Python, whose order on ``str`` (``bytes``) is code-point (byte) order, the order
    :func:`numpy.unique` uses; codes are then ``np.searchsorted(labels, arr)``, O(n log K) for
    K labels. Same labels (same dtype) and codes as ``np.unique(arr, return_inverse=True)``,
    several times faster than its O(n log n) string sort.
    """
    labels = np.array(sorted(set(arr.tolist())), dtype=arr.dtype)
    codes = np.searchsorted(labels, arr)
    return GroupCodes(codes=np.asarray(codes, dtype=np.intp).reshape(-1), labels=labels)


def _factorise(arr: np.ndarray, name: str) -> GroupCodes:
    """Factorise a 1-D array; missing labels (None/NaN/NA) are an input error."""
    if arr.dtype.kind != "O":
        if arr.dtype.kind in "fc":
            missing = np.isnan(arr)
            if missing.any():
                raise FaroInputError(
                    f"{name} has missing group values in {_rows_text(missing)}; fill them or "
                    "drop those rows explicitly before the audit"
                )
        if arr.dtype.kind in "US":
            return _factorise_strings(arr)
        labels, codes = np.unique(arr, return_inverse=True)
        return GroupCodes(codes=np.asarray(codes, dtype=np.intp).reshape(-1), labels=labels)
    # Object arrays: hashing is several times faster than sorting Python objects, and the
    # missing-value check then runs on the distinct labels only.
    index: dict[Any, int] = {}
    raw = np.fromiter((index.setdefault(v, len(index)) for v in arr), dtype=np.intp,
                      count=arr.shape[0])
    firsts = list(index)
    bad = [k for k, v in enumerate(firsts) if _is_missing_scalar(v)]
    if bad:
        missing = np.isin(raw, bad)
        raise FaroInputError(
            f"{name} has missing group values in {_rows_text(missing)}; fill them or "
            "drop those rows explicitly before the audit"
        )
    rank = _sorted_labels(firsts)
    remap = np.empty(len(firsts), dtype=np.intp)
    remap[rank] = np.arange(len(firsts))
    labels = np.empty(len(firsts), dtype=object)
    for i, k in enumerate(rank):
        labels[i] = firsts[k]
    return GroupCodes(codes=remap[raw], labels=labels)


def encode_groups(
    sensitive_features: SensitiveFeatures,
    *,
    name: str = "sensitive_features",
    n_rows: int | None = None,
) -> GroupCodes:
    """Factorise group labels once so that every metric can reuse the codes.

    Parameters
    ----------
    sensitive_features : array-like of shape (n_rows,) or (n_rows, n_attributes), or GroupCodes
        Group label of each row (any hashable values). A 2-D array holds one attribute per
        column and is combined into intersection labels by :func:`combine_groups`.
        A :class:`GroupCodes` is returned as is (after the length check).
    name : str, default "sensitive_features"
        Argument name used in error messages.
    n_rows : int, optional
        Expected number of rows; a different length is an input error.

    Returns
    -------
    GroupCodes

    Raises
    ------
    FaroInputError
        Missing labels (None/NaN), no rows, or the wrong length.
    """
    if isinstance(sensitive_features, GroupCodes):
        enc = sensitive_features
    else:
        arr = np.asarray(sensitive_features)
        if arr.ndim == 2:
            enc = combine_groups(*(arr[:, j] for j in range(arr.shape[1])), name=name)
        elif arr.ndim != 1:
            raise FaroInputError(
                f"{name} must be 1-D (one label per row) or 2-D (one column per attribute); "
                f"got an array of shape {arr.shape}"
            )
        else:
            enc = _factorise(arr, name)
    if enc.n_rows == 0:
        raise FaroInputError(f"{name} has no rows; the audit needs at least one row per group")
    if n_rows is not None and enc.n_rows != n_rows:
        raise FaroInputError(
            f"{name} has {enc.n_rows} rows but the scores have {n_rows}; pass one value per row"
        )
    return enc


def combine_groups(*columns: SensitiveFeatures, sep: str = "|",
                   name: str = "sensitive_features") -> GroupCodes:
    """Intersection labels of several group columns, e.g. ``"female|black"``.

    The combined code of a row is the mixed-radix number of its per-column codes, so the work
    is one factorisation per column plus one over the combined codes. Only combinations that
    occur get a label; labels are ``sep.join(str(label) for each column)`` in column order.

    Parameters
    ----------
    *columns : array-like of shape (n_rows,) or GroupCodes
        One group column per attribute (at least one).
    sep : str, default "|"
        Separator between the attribute values in a combined label.
    name : str, default "sensitive_features"
        Argument name used in error messages.

    Returns
    -------
    GroupCodes
        Codes of the intersections; labels are strings.

    Raises
    ------
    FaroInputError
        A column is invalid, the columns differ in length, or two different combinations
        give the same text because a label contains ``sep``.
    """
    if not columns:
        raise FaroUsageError("combine_groups needs at least one group column; pass one or more")
    encs = [encode_groups(c, name=f"{name}[{j}]") for j, c in enumerate(columns)]
    n = encs[0].n_rows
    for j, e in enumerate(encs[1:], start=1):
        if e.n_rows != n:
            raise FaroInputError(
                f"{name}[{j}] has {e.n_rows} rows but {name}[0] has {n}; group columns must align"
            )
    key = np.zeros(n, dtype=np.int64)
    for e in encs:
        key = key * e.n_groups + e.codes
    combos, codes = np.unique(key, return_inverse=True)
    parts = []
    rest = combos.copy()
    for e in reversed(encs):
        parts.append(e.labels[rest % e.n_groups])
        rest //= e.n_groups
    parts.reverse()
    texts = [sep.join(str(p[k]) for p in parts) for k in range(combos.shape[0])]
    if len(set(texts)) != len(texts):
        raise FaroInputError(
            f"{name}: group labels contain the separator {sep!r}, so two different combinations "
            f"have the same name; pass another sep"
        )
    labels = np.array(texts, dtype=object)
    return GroupCodes(codes=np.asarray(codes, dtype=np.intp).reshape(-1), labels=labels)


def as_float_array(
    x: ArrayLike,
    *,
    name: str,
    n_rows: int | None = None,
    lo: float | None = None,
    hi: float | None = None,
    hint: str = "",
    allow_empty: bool = False,
) -> np.ndarray:
    """A 1-D float64 array with finite values (optionally within ``[lo, hi]``), not empty
    unless ``allow_empty``.

    Raises
    ------
    FaroInputError
        Wrong shape or length, non-numeric, NaN/inf, or out of range; the message names
        ``name`` and the first offending rows.
    """
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise FaroInputError(f"{name} must be numeric; convert it to numbers{hint}") from None
    if arr.ndim != 1:
        raise FaroInputError(f"{name} must be 1-D (one value per row); got shape {arr.shape}")
    if arr.shape[0] == 0 and not allow_empty:
        raise FaroInputError(f"{name} has no rows; the metric needs at least one row")
    if n_rows is not None and arr.shape[0] != n_rows:
        raise FaroInputError(
            f"{name} has {arr.shape[0]} rows but {n_rows} were expected; pass one value per row"
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        raise FaroInputError(
            f"{name} has NaN or infinite values in {_rows_text(bad)}; "
            f"fix or remove those rows{hint}"
        )
    if lo is not None or hi is not None:
        out = np.zeros(arr.shape, dtype=bool)
        if lo is not None:
            out |= arr < lo
        if hi is not None:
            out |= arr > hi
        if out.any():
            raise FaroInputError(
                f"{name} must lie in [{lo}, {hi}] but {_rows_text(out)} do not{hint}"
            )
    return arr


def as_sample_weight(sample_weight: ArrayLike | None, n_rows: int) -> np.ndarray | None:
    """Check ``sample_weight``: finite, non-negative, positive total; ``None`` stays ``None``."""
    if sample_weight is None:
        return None
    w = as_float_array(sample_weight, name="sample_weight", n_rows=n_rows, lo=0.0)
    if not w.sum() > 0:
        raise FaroInputError("sample_weight sums to 0; at least one row needs a positive weight")
    return w


def by_label(labels: np.ndarray, values: ArrayLike) -> dict[Any, float]:
    """``{label: value}`` of a per-group array aligned with ``labels`` (labels as Python objects).

    The ``as_dict``/``by_group`` view of the per-group results (GroupStats, GroupAUC,
    GroupCalibration); ``labels`` and ``values`` must have the same length.
    """
    return {lab: float(v) for lab, v in zip(labels.tolist(), np.asarray(values), strict=True)}


def grouped_weighted_median(
    values: np.ndarray, codes: np.ndarray, n_groups: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """Weighted median of ``values`` within each group, vectorised (one lexsort).

    With cumulative weights S_i of the sorted values x_i and group total W, the median is the
    first x_i with S_i ≥ W/2, averaged with the next value when S_i equals W/2 (to relative
    precision 1e-12). Unweighted, this is :func:`numpy.median`. Groups with zero total weight
    get NaN.
    """
    w = np.ones(values.shape[0]) if weights is None else weights
    order = np.lexsort((values, codes))
    xs, cs, ws = values[order], codes[order], w[order]
    totals = np.bincount(codes, weights=w, minlength=n_groups)
    counts = np.bincount(codes, minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    cum = np.cumsum(ws)
    before = np.concatenate(([0.0], cum))[starts]  # cumulative weight before each group
    within = cum - before[cs]
    half = totals[cs] / 2.0
    tol = 1e-12 * np.maximum(totals[cs], 1e-300)
    reached = within >= half - tol
    out = np.full(n_groups, np.nan)
    # first position in each group where the half is reached (positions ascend within groups)
    pos = np.flatnonzero(reached)
    gpos = cs[pos]
    first = np.full(n_groups, -1, dtype=np.int64)
    first[gpos[::-1]] = pos[::-1]
    for g in np.flatnonzero((first >= 0) & (totals > 0)):
        i = first[g]
        end = starts[g] + counts[g]
        x = xs[i]
        if abs(within[i] - half[i]) <= tol[i] and i + 1 < end:
            # exact half: average with the next value of positive weight
            nxt = i + 1
            while nxt < end - 1 and ws[nxt] == 0:
                nxt += 1
            x = 0.5 * (x + xs[nxt])
        out[g] = x
    return out
