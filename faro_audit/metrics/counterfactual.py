"""Counterfactual-fairness gap over twin sets (SPEC §3).

Rows sharing a ``cf_id`` are counterfactual twins (the same content with only the group
attribute swapped). For twin set S_k:

* spread s_k = max_{i∈S_k} o_i − min_{i∈S_k} o_i ∈ [0, 1];
* Δ_CF = mean_k s_k (every set counts once, whatever its size);
* flip: the hard outcomes of S_k disagree (max h ≠ min h); flip rate = share of such sets;
* mean absolute reward difference of S_k = Σ_{i<j} |r_i − r_j| / C(|S_k|, 2), averaged over
  sets; the reward spread max r − min r per set feeds the KL/TV bounds of SPEC §6.

Everything is vectorised: one stable sort of the rows by set, then ``numpy.maximum.reduceat``
/ ``numpy.minimum.reduceat`` and ``numpy.bincount``. The pairwise absolute differences use
Σ_{i<j} |x_i − x_j| = Σ_r (2r − m + 1) x_(r) over the sorted values x_(0) ≤ … ≤ x_(m−1).
Reference: SPEC §3; Kusner et al. (2017), "Counterfactual fairness", NeurIPS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from faro_audit.errors import FaroInputError
from faro_audit.metrics.groups import GroupCodes, as_float_array, encode_groups

__all__ = ["TwinSet", "CFResult", "cf_gap"]

_SHOW = 5


@dataclass(frozen=True)
class TwinSet:
    """One twin set: its ``cf_id``, spread s_k and the (0-based) row positions of its rows."""

    set_id: object
    spread: float
    rows: tuple[int, ...]
    flip: bool | None
    reward_spread: float | None


@dataclass(frozen=True, eq=False)
class CFResult:
    """Counterfactual gap and its per-set details.

    Attributes
    ----------
    gap : float
        Δ_CF = mean_k s_k.
    n_sets : int
        Number of twin sets used (≥ 2 rows each).
    set_ids : numpy.ndarray, shape (n_sets,)
        The ``cf_id`` of each set (sorted).
    set_sizes : numpy.ndarray of int, shape (n_sets,)
    spreads : numpy.ndarray, shape (n_sets,)
        s_k per set (for bounds: Δ_CF is their mean).
    max_spread : float
        max_k s_k.
    max_spread_set : object
        ``cf_id`` of the set with the largest spread (first in ``set_ids`` order on ties).
    max_spread_rows : numpy.ndarray of int
        Row positions of that set, ascending.
    flips : numpy.ndarray of bool or None
        Per set: the hard outcomes disagree (``None`` without ``hard``).
    flip_rate : float or None
        Share of sets with a flip (``None`` without ``hard``).
    reward_spreads : numpy.ndarray or None
        max r − min r per set (``None`` without ``reward``).
    mean_abs_reward_diff : float or None
        Mean over sets of the mean absolute pairwise reward difference within the set.
    n_singletons_excluded : int
        Sets with a single row left out (only with ``allow_singletons=True``).
    row_order : numpy.ndarray of int
        Row positions sorted by set: set k's rows are
        ``row_order[set_starts[k]:set_starts[k] + set_sizes[k]]`` (used by the bootstrap).
    set_starts : numpy.ndarray of int, shape (n_sets,)
    """

    gap: float
    n_sets: int
    set_ids: np.ndarray
    set_sizes: np.ndarray
    spreads: np.ndarray
    max_spread: float
    max_spread_set: object
    max_spread_rows: np.ndarray
    flips: np.ndarray | None
    flip_rate: float | None
    reward_spreads: np.ndarray | None
    mean_abs_reward_diff: float | None
    n_singletons_excluded: int
    row_order: np.ndarray
    set_starts: np.ndarray

    def rows_of(self, k: int) -> np.ndarray:
        """Row positions of set index ``k`` (ascending)."""
        s = int(self.set_starts[k])
        return self.row_order[s : s + int(self.set_sizes[k])]

    def worst_sets(self, k: int = 5) -> tuple[TwinSet, ...]:
        """The ``k`` sets with the largest spread, largest first (ties: ``set_ids`` order)."""
        order = np.argsort(-self.spreads, kind="stable")[: max(int(k), 0)]
        return tuple(
            TwinSet(
                set_id=_scalar(self.set_ids[j]),
                spread=float(self.spreads[j]),
                rows=tuple(int(r) for r in self.rows_of(int(j))),
                flip=None if self.flips is None else bool(self.flips[j]),
                reward_spread=(None if self.reward_spreads is None
                               else float(self.reward_spreads[j])),
            )
            for j in order
        )


def _scalar(value: object) -> object:
    """A numpy scalar as the Python value (labels stay JSON-friendly)."""
    return value.item() if isinstance(value, np.generic) else value


def _spread(values: np.ndarray, order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    v = values[order]
    return np.maximum.reduceat(v, starts) - np.minimum.reduceat(v, starts)


def cf_gap(
    y_score: ArrayLike,
    *,
    cf_id: ArrayLike | GroupCodes,
    reward: ArrayLike | None = None,
    hard: ArrayLike | None = None,
    allow_singletons: bool = False,
) -> CFResult:
    """Counterfactual gap Δ_CF = mean over twin sets of the outcome spread (SPEC §3).

    Parameters
    ----------
    y_score : array-like of shape (n_rows,)
        Outcomes in [0, 1] (soft σ(d/T) or hard).
    cf_id : array-like of shape (n_rows,) or GroupCodes
        Twin-set id of each row.
    reward : array-like of shape (n_rows,), optional
        Raw rewards (``responses``) or margins (``pairs``), for the reward differences.
    hard : array-like of shape (n_rows,), optional
        Hard outcomes 1[d>0] (ties ½), for the flip rate.
    allow_singletons : bool, default False
        A set with one row has no twin. By default that is an input error naming the
        ``cf_id`` values; with ``True`` such sets are left out and counted in
        ``n_singletons_excluded``.

    Returns
    -------
    CFResult

    Raises
    ------
    FaroInputError
        Singleton sets (unless allowed), no set with two rows, NaN/out-of-range values, or
        arrays of different lengths.
    """
    y = as_float_array(y_score, name="y_score", lo=0.0, hi=1.0,
                       hint="; pass bounded outcomes, not raw rewards")
    n_rows = y.shape[0]
    enc = encode_groups(cf_id, name="cf_id", n_rows=n_rows)
    r = None if reward is None else as_float_array(reward, name="reward", n_rows=n_rows)
    h = None if hard is None else as_float_array(hard, name="hard", n_rows=n_rows, lo=0.0, hi=1.0)

    sizes_all = np.bincount(enc.codes, minlength=enc.n_groups)
    single = sizes_all == 1
    n_single = int(single.sum())
    if n_single and not allow_singletons:
        ids = ", ".join(repr(v) for v in enc.labels[single][:_SHOW].tolist())
        more = f" and {n_single - _SHOW} more" if n_single > _SHOW else ""
        raise FaroInputError(
            f"cf_id has {n_single} twin set(s) with a single row ({ids}{more}); every cf_id "
            "needs at least two rows, or pass allow_singletons=True to leave them out"
        )
    keep_sets = ~single
    if not keep_sets.any():
        raise FaroInputError(
            "cf_id has no twin set with two or more rows; the counterfactual gap needs twins"
        )
    # Re-index the kept sets 0..n_sets-1; rows of left-out sets get code -1.
    new_index = np.full(enc.n_groups, -1, dtype=np.intp)
    new_index[keep_sets] = np.arange(int(keep_sets.sum()))
    codes = new_index[enc.codes]
    rows = np.flatnonzero(codes >= 0)
    codes_kept = codes[rows]
    order = rows[np.argsort(codes_kept, kind="stable")]
    sizes = sizes_all[keep_sets]
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.intp)
    set_ids = enc.labels[keep_sets]

    spreads = _spread(y, order, starts)
    j = int(np.argmax(spreads))
    flips = None if h is None else _spread(h, order, starts) > 0
    reward_spreads = None if r is None else _spread(r, order, starts)
    mean_abs = None
    if r is not None:
        srt = np.lexsort((r[rows], codes_kept))
        xs, cs = r[rows][srt], codes_kept[srt]
        rank = np.arange(xs.shape[0]) - starts[cs]
        m = sizes[cs]
        tot = np.bincount(cs, weights=(2 * rank - m + 1) * xs, minlength=sizes.shape[0])
        mean_abs = float(np.mean(tot / (sizes * (sizes - 1) / 2.0)))

    return CFResult(
        gap=float(spreads.mean()),
        n_sets=int(sizes.shape[0]),
        set_ids=set_ids,
        set_sizes=sizes,
        spreads=spreads,
        max_spread=float(spreads[j]),
        max_spread_set=_scalar(set_ids[j]),
        max_spread_rows=order[starts[j] : starts[j] + sizes[j]].copy(),
        flips=flips,
        flip_rate=None if flips is None else float(flips.mean()),
        reward_spreads=reward_spreads,
        mean_abs_reward_diff=mean_abs,
        n_singletons_excluded=n_single if allow_singletons else 0,
        row_order=order,
        set_starts=starts,
    )
