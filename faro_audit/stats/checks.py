"""Input checks shared by :mod:`faro_audit.stats` (bounds, bootstrap, tests, planning).

Labels (:func:`encode_labels`, missing values are an error), outcomes, weights, ``n_boot``,
``level``, ``delta`` (:func:`check_delta`), values of a bound (:func:`check_bounded_values`) and
``random_state``, each raising a one-line
:class:`~faro_audit.errors.FaroInputError` (data) or :class:`~faro_audit.errors.FaroUsageError`
(arguments). :func:`read_only` freezes result arrays.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.metrics.groups import encode_groups

# Values this close outside [0, 1] are float round-off (e.g. a mean of ones) and are clipped.
_TOLERANCE = 1e-12

__all__ = [
    "check_bounded_values",
    "check_delta",
    "check_level",
    "check_n_boot",
    "check_outcomes",
    "check_weights",
    "encode_group_column",
    "encode_labels",
    "generator",
    "read_only",
    "seed_sequence",
]


def read_only(a: np.ndarray) -> np.ndarray:
    """The array ``a`` (as an ndarray, no copy) marked read-only, so results cannot be mutated.

    Parameters
    ----------
    a : array-like

    Returns
    -------
    ndarray
        ``np.asarray(a)`` with ``flags.writeable = False``.
    """
    a = np.asarray(a)
    a.flags.writeable = False
    return a


def _is_missing(x: object) -> bool:
    return x is None or (isinstance(x, (float, np.floating)) and math.isnan(x))


def encode_labels(values: object, name: str, n: int) -> tuple[tuple[Hashable, ...], np.ndarray]:
    """Sorted labels and integer codes of a 1-D label array; missing values are an error.

    Parameters
    ----------
    values : array-like of shape (n,)
        Labels (numbers, strings or objects of one orderable type).
    name : str
        The argument named in error messages.
    n : int
        Expected length.

    Returns
    -------
    (labels, codes) : (tuple, ndarray of intp)
        ``labels`` sorted and distinct; ``labels[codes[i]] == values[i]``.

    Raises
    ------
    FaroInputError
        Wrong shape, a missing value (None or NaN), or labels of mixed types.
    """
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise FaroInputError(f"{name}: expected a 1-D array of {n} labels, got shape {arr.shape}")
    if arr.dtype.kind == "f":
        bad = np.flatnonzero(np.isnan(arr))
    elif arr.dtype.kind == "O":
        bad = np.flatnonzero([_is_missing(x) for x in arr])
    else:
        bad = np.empty(0, dtype=np.intp)
    if bad.size:
        raise FaroInputError(
            f"{name}: {bad.size} missing value(s), first at row {int(bad[0])}; "
            "fill them or drop those rows explicitly"
        )
    if arr.dtype.kind in "biuf":
        labels, codes = np.unique(arr, return_inverse=True)
        return tuple(labels.tolist()), codes.reshape(-1).astype(np.intp)
    items = arr.tolist()  # strings/objects: hashing beats np.unique's string sort
    try:
        uniq = sorted(set(items))
    except TypeError as err:
        raise FaroInputError(
            f"{name}: labels of mixed types cannot be ordered ({err}); convert them to str"
        ) from None
    lookup = {x: i for i, x in enumerate(uniq)}
    return tuple(uniq), np.fromiter(map(lookup.__getitem__, items), dtype=np.intp, count=n)


def check_outcomes(y: object, name: str = "y") -> np.ndarray:
    """Outcomes as a float64 array of shape (n,) or (n, M), n ≥ 1, every value finite.

    Parameters
    ----------
    y : array-like
    name : str
        The argument named in error messages.

    Returns
    -------
    ndarray

    Raises
    ------
    FaroInputError
        Wrong shape, or a row with NaN or ±inf.
    """
    arr = np.asarray(y, dtype=np.float64)
    if arr.ndim not in (1, 2) or arr.shape[0] == 0:
        raise FaroInputError(f"{name}: expected shape (n,) or (n, M) with n >= 1, got {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr.reshape(arr.shape[0], -1)).all(axis=1))
    if bad.size:
        raise FaroInputError(
            f"{name}: {bad.size} row(s) with NaN or infinite values, first at row {int(bad[0])}; "
            "remove or fill them"
        )
    return arr


def check_weights(sample_weight: object, n: int, m: int) -> np.ndarray:
    """Row weights as an (n, 1) or (n, M) float64 array, finite and ≥ 0.

    Parameters
    ----------
    sample_weight : array-like of shape (n,) or (n, M), or None
        None gives unit weights.
    n, m : int
        Rows and outcomes.

    Returns
    -------
    ndarray of shape (n, 1) or (n, M)

    Raises
    ------
    FaroInputError
        Wrong shape, or a negative or non-finite weight.
    """
    if sample_weight is None:
        return np.ones((n, 1))
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim == 1:
        w = w[:, None]
    if w.ndim != 2 or w.shape[0] != n or w.shape[1] not in (1, m):
        raise FaroInputError(
            f"sample_weight: expected shape ({n},) or ({n}, {m}), got {np.asarray(sample_weight).shape}"
        )
    bad = np.flatnonzero(~(np.isfinite(w) & (w >= 0)).all(axis=1))
    if bad.size:
        raise FaroInputError(
            f"sample_weight: {bad.size} row(s) negative, NaN or infinite, first at row "
            f"{int(bad[0])}; weights must be finite and >= 0"
        )
    return w


def check_n_boot(n_boot: object, level: float | None = None) -> int:
    """The number of bootstrap replicates, checked to be a positive integer.

    Parameters
    ----------
    n_boot : int
    level : float, optional
        Also checked with :func:`check_level` when given.

    Returns
    -------
    int

    Raises
    ------
    FaroUsageError
        ``n_boot`` not a positive integer (bools refused), or a bad ``level``.
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise FaroUsageError(f"n_boot: expected a positive integer, got {n_boot!r}")
    if level is not None:
        check_level(level)
    return int(n_boot)


def check_level(level: float) -> None:
    """Check a confidence level 1 − α of a descriptive interval: a number in (0, 1).

    Parameters
    ----------
    level : float
        e.g. 0.95.

    Raises
    ------
    FaroUsageError
        If ``level`` is not a number in (0, 1).
    """
    if not (isinstance(level, (float, int, np.floating)) and 0.0 < float(level) < 1.0):
        raise FaroUsageError(f"level: expected a number in (0, 1), got {level!r}")


def seed_sequence(random_state: object) -> np.random.SeedSequence:
    """The numpy SeedSequence of a ``random_state`` (recorded in reports for reproducibility).

    Parameters
    ----------
    random_state : int ≥ 0, numpy.random.SeedSequence or None
        None draws fresh OS entropy; a SeedSequence is returned as it is.

    Returns
    -------
    numpy.random.SeedSequence

    Raises
    ------
    FaroUsageError
        For anything else (negative ints and bools included).
    """
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if random_state is None or (
        isinstance(random_state, (int, np.integer))
        and not isinstance(random_state, bool)
        and random_state >= 0
    ):
        return np.random.SeedSequence(None if random_state is None else int(random_state))
    raise FaroUsageError(
        f"random_state: expected a non-negative int, a numpy SeedSequence or None, "
        f"got {random_state!r}"
    )


def encode_group_column(sensitive_features: Any, n: int) -> tuple[tuple[Hashable, ...], np.ndarray]:
    """Group labels and codes of ``n`` rows (:func:`faro_audit.metrics.groups.encode_groups`).

    Parameters
    ----------
    sensitive_features : array-like, 2-D columns or GroupCodes
        One group per row (several columns give their intersection).
    n : int
        Rows.

    Returns
    -------
    (labels, codes) : (tuple, ndarray of intp)
    """
    enc = encode_groups(sensitive_features, n_rows=n)  # also takes GroupCodes, 2-D columns
    return tuple(np.asarray(enc.labels).tolist()), np.asarray(enc.codes, dtype=np.intp)


def check_delta(delta: float) -> float:
    """A miscoverage level δ checked to be a number in (0, 1).

    Parameters
    ----------
    delta : float
        The level, e.g. 0.05 (intervals hold with probability ≥ 1 − δ).

    Returns
    -------
    float
        ``float(delta)``.

    Raises
    ------
    FaroUsageError
        If ``delta`` is not a number or lies outside (0, 1).
    """
    try:
        d = float(delta)
    except (TypeError, ValueError):
        raise FaroUsageError(f"delta={delta!r} is not a number; give a level in (0, 1), e.g. 0.05") from None
    if not 0.0 < d < 1.0:
        raise FaroUsageError(f"delta={d:g} is outside (0, 1); give a miscoverage level such as 0.05")
    return d


def check_bounded_values(values: ArrayLike, sample_weight: ArrayLike | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Values in [0, 1] and optional weights for a confidence bound (SPEC §5.2).

    Parameters
    ----------
    values : array-like of shape (n,)
        Outcomes (cluster means) in [0, 1]; values within 1e-12 outside are round-off and
        clipped.
    sample_weight : array-like of shape (n,) or None
        Finite weights ≥ 0 with a positive sum.

    Returns
    -------
    (x, w) : (ndarray, ndarray or None)
        float64 copies.

    Raises
    ------
    FaroInputError
        Not numbers, not 1-D, empty, non-finite, outside [0, 1], or bad weights.
    """
    try:
        x = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise FaroInputError("values: could not be read as numbers; pass a 1-D array of outcomes in [0, 1]") from None
    if x.ndim != 1:
        raise FaroInputError(f"values: expected a 1-D array, got shape {x.shape}; pass one outcome per cluster")
    if x.size == 0:
        raise FaroInputError("values: empty; a confidence interval needs at least one value")
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise FaroInputError(
            f"values: {bad.size} non-finite value(s), first at position {bad[0]}; remove or fill them before certifying"
        )
    out = np.flatnonzero((x < -_TOLERANCE) | (x > 1.0 + _TOLERANCE))
    if out.size:
        raise FaroInputError(
            f"values: {out.size} value(s) outside [0, 1], first {x[out[0]]:g} at position {out[0]}; "
            "bounds need outcomes in [0, 1] (use soft or hard outcomes, not raw rewards)"
        )
    x = np.clip(x, 0.0, 1.0)
    if sample_weight is None:
        return x, None
    try:
        w = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise FaroInputError("sample_weight: could not be read as numbers; pass one non-negative weight per value") from None
    if w.shape != x.shape:
        raise FaroInputError(f"sample_weight: shape {w.shape} does not match values {x.shape}; pass one weight per value")
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.size:
        raise FaroInputError(
            f"sample_weight: {bad.size} negative or non-finite weight(s), first {w[bad[0]]!r} at position {bad[0]}; "
            "weights must be finite and >= 0"
        )
    if not w.sum() > 0:
        raise FaroInputError("sample_weight: all weights are 0; at least one value must carry weight")
    return x, w


def generator(random_state: int | np.random.Generator | None) -> np.random.Generator:
    """A numpy Generator from a seed (a Generator is returned as it is).

    Parameters
    ----------
    random_state : int, numpy.random.Generator or None

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    FaroUsageError
        For anything else.
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is not None and not isinstance(random_state, (int, np.integer)):
        raise FaroUsageError(f"random_state={random_state!r}: give an integer seed (or a numpy Generator)")
    return np.random.default_rng(random_state)
