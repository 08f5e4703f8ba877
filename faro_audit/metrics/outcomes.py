"""From rewards to margins and bounded outcomes (SPEC §2).

Bradley–Terry (BT) rewards are log-odds, r(x, y) − r(x, y′) = logit P(y ≻ y′ | x), with no
fixed offset or scale across models, so fairness is measured on outcomes in [0, 1]:

==========  =====================================  ==================  ===================
shape       margin d                               soft outcome        hard outcome
==========  =====================================  ==================  ===================
pairs       r(x, chosen) − r(x, rejected)          σ(d / T)            1[d > 0], ties ½
responses   r(x, y) − b  (b: reference reward)     σ(d / T)            1[d > 0], ties ½
==========  =====================================  ==================  ===================

T is a temperature (default 1: the model's own BT scale). Reference: SPEC §2; Bradley & Terry
(1952), Biometrika 39(3/4):324–345.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit

from faro_audit.errors import FaroUsageError
from faro_audit.metrics.groups import (
    SensitiveFeatures,
    as_float_array,
    as_sample_weight,
    encode_groups,
    grouped_weighted_median,
)

__all__ = [
    "Reference",
    "pair_margin",
    "response_margin",
    "reference_reward",
    "soft_outcome",
    "hard_outcome",
    "check_temperature",
]

Reference = str | float | int | tuple

_REF_HELP = (
    'use "median", "mean", a number, ("group_mean", g) or "mean:g"'
)


def pair_margin(reward_chosen: ArrayLike, reward_rejected: ArrayLike) -> np.ndarray:
    """Margin of a preference pair, d = r(x, chosen) − r(x, rejected) (SPEC §2).

    Parameters
    ----------
    reward_chosen, reward_rejected : array-like of shape (n_rows,)
        Finite rewards of the chosen and the rejected response.

    Returns
    -------
    numpy.ndarray of float64, shape (n_rows,)

    Raises
    ------
    FaroInputError
        NaN/inf rewards or arrays of different length (the message names the rows).
    """
    rc = as_float_array(reward_chosen, name="reward_chosen")
    rr = as_float_array(reward_rejected, name="reward_rejected", n_rows=rc.shape[0])
    return rc - rr


def response_margin(reward: ArrayLike, *, reference: float) -> np.ndarray:
    """Margin of a response against the reference reward, d = r(x, y) − b (SPEC §2).

    Parameters
    ----------
    reward : array-like of shape (n_rows,)
        Finite rewards.
    reference : float
        The reference reward b, usually from :func:`reference_reward`.
    """
    r = as_float_array(reward, name="reward")
    b = float(reference)
    if not np.isfinite(b):
        raise FaroUsageError(f"reference must be a finite number; got {reference!r}")
    return r - b


def _parse_reference(reference: Reference) -> tuple[str, object]:
    """Return (kind, argument) with kind in {"median", "mean", "value", "group_mean"}."""
    if isinstance(reference, tuple):
        if len(reference) == 2 and reference[0] == "group_mean":
            return "group_mean", reference[1]
        raise FaroUsageError(f"reference {reference!r} is not understood; {_REF_HELP}")
    if isinstance(reference, (bool, np.bool_)):
        raise FaroUsageError(f"reference {reference!r} is not understood; {_REF_HELP}")
    if isinstance(reference, (int, float, np.integer, np.floating)):
        return "value", float(reference)
    if isinstance(reference, str):
        text = reference.strip()
        if text in ("median", "mean"):
            return text, None
        if text.startswith("mean:") and len(text) > 5:
            return "group_mean", text[5:]
        try:
            return "value", float(text)
        except ValueError:
            pass
    raise FaroUsageError(f"reference {reference!r} is not understood; {_REF_HELP}")


def reference_reward(
    reward: ArrayLike,
    *,
    reference: Reference = "median",
    sensitive_features: SensitiveFeatures | None = None,
    sample_weight: ArrayLike | None = None,
) -> float:
    """The reference reward b of the ``responses`` shape (SPEC §2).

    Parameters
    ----------
    reward : array-like of shape (n_rows,)
        Finite rewards of the audit table.
    reference : {"median", "mean"}, float, ("group_mean", g) or "mean:g", default "median"
        ``"median"``: the pooled weighted median of ``reward`` (the first value whose
        cumulative weight reaches half the total, averaged with the next one on an exact
        tie, i.e. :func:`numpy.median` when unweighted). ``"mean"``: the pooled weighted
        mean Σ w_i r_i / Σ w_i. A number (or numeric text) is used as is.
        ``("group_mean", g)`` or ``"mean:g"``: the weighted mean reward of group ``g``
        (matched exactly, else by its text), which needs ``sensitive_features``.
    sensitive_features : array-like or GroupCodes, optional
        Group labels; required for a group reference.
    sample_weight : array-like of shape (n_rows,), optional
        Non-negative row weights (default 1).

    Returns
    -------
    float

    Raises
    ------
    FaroUsageError
        Unknown ``reference``, a group reference without ``sensitive_features``, or a group
        that does not occur (the message lists the groups).
    FaroInputError
        NaN/inf rewards or invalid weights.
    """
    kind, arg = _parse_reference(reference)
    r = as_float_array(reward, name="reward")
    w = as_sample_weight(sample_weight, r.shape[0])
    if kind == "value":
        if not np.isfinite(arg):  # type: ignore[arg-type]
            raise FaroUsageError(f"reference must be a finite number; got {reference!r}")
        return float(arg)  # type: ignore[arg-type]
    if kind == "median":
        codes = np.zeros(r.shape[0], dtype=np.intp)
        return float(grouped_weighted_median(r, codes, 1, w)[0])
    if kind == "mean":
        return float(np.average(r, weights=w))
    if sensitive_features is None:
        raise FaroUsageError(
            f"reference {reference!r} is the mean of a group, so pass sensitive_features too"
        )
    enc = encode_groups(sensitive_features, n_rows=r.shape[0])
    matches = np.flatnonzero(enc.labels == arg) if not isinstance(arg, str) else np.array([], int)
    if matches.size == 0:
        matches = np.flatnonzero(np.array([str(v) == str(arg) for v in enc.labels], dtype=bool))
    if matches.size != 1:
        shown = ", ".join(repr(str(v)) for v in enc.labels[:20])
        raise FaroUsageError(
            f"reference group {arg!r} does not occur in sensitive_features; groups are: {shown}"
        )
    rows = enc.codes == matches[0]
    ww = None if w is None else w[rows]
    if ww is not None and not ww.sum() > 0:
        raise FaroUsageError(
            f"reference group {arg!r} has total sample_weight 0, so its mean is undefined; "
            "choose another reference"
        )
    return float(np.average(r[rows], weights=ww))


def check_temperature(temperature: float) -> float:
    """Return ``temperature`` as a float, or raise FaroUsageError unless it is finite and > 0."""
    try:
        t = float(temperature)
    except (TypeError, ValueError):
        t = float("nan")
    if not (np.isfinite(t) and t > 0):
        raise FaroUsageError(
            f"temperature must be a finite number > 0; got {temperature!r} (1 is the model's "
            "own BT scale)"
        )
    return t


def soft_outcome(margin: ArrayLike, *, temperature: float = 1.0) -> np.ndarray:
    """Soft outcome o = σ(d / T), the BT probability of winning (SPEC §2).

    Computed with :func:`scipy.special.expit`, which is stable for any finite d/T
    (no overflow for large |d|).

    Parameters
    ----------
    margin : array-like of shape (n_rows,)
        Finite margins d.
    temperature : float, default 1.0
        T > 0.

    Returns
    -------
    numpy.ndarray of float64 in [0, 1]
    """
    t = check_temperature(temperature)
    d = as_float_array(margin, name="margin")
    return expit(d / t)


def hard_outcome(margin: ArrayLike) -> np.ndarray:
    """Hard outcome h = 1[d > 0], with ties (d = 0) counting ½ (SPEC §2).

    Returns
    -------
    numpy.ndarray of float64 with values in {0, 0.5, 1}
    """
    d = as_float_array(margin, name="margin")
    return (np.sign(d) + 1.0) / 2.0
