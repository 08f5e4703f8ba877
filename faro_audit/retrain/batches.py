"""Stratified minibatches with weights that restore population shares (SPEC §7).

Each step draws the same number b = ⌈B / S⌉ of rows from each of the S strata (joint groups of
the constraint attributes), uniformly with replacement, so that small groups are as well
represented in the proxy constraints as large ones. A drawn row i of stratum s gets weight
w_i · N_s / b (N_s rows in the stratum, w_i the ``weight`` column or 1): each row is drawn
b / N_s times in expectation, so this is the Hansen–Hurwitz weight and weighted sums over the
minibatch are unbiased for the sums over the split; the weighted means (objective, group
means) are the usual ratio estimators of the split's means. (With replacement keeps a step
one vectorised draw; for b ≪ N_s it differs from sampling without replacement by a factor
1 − b/N_s in the variance only.)

For counterfactual constraints a step also draws ``cf_sets_per_batch`` whole twin sets
(uniformly, without replacement), whose rows give the proxy of the mean twin-set spread.

``batch_size=0`` asks for full batches: every step returns the whole split once, with its
``weight`` column (and every twin set), so the proxies are the split's exact soft-outcome
gaps and a step is deterministic (for L-BFGS, :mod:`faro_audit.retrain.proxygda`; cheap in
``head`` mode, where a step is one matrix–vector product over cached features).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faro_audit.errors import FaroUsageError

__all__ = ["Batch", "StratifiedSampler"]


@dataclass(frozen=True)
class Batch:
    """Rows of one step.

    Attributes
    ----------
    rows : numpy.ndarray of int
        Table rows for the objective and the group constraints (may repeat).
    weight : numpy.ndarray of float
        Their weights (population shares × ``weight`` column).
    cf_rows : numpy.ndarray of int
        Rows of whole twin sets (empty without ``cf`` constraints).
    """

    rows: np.ndarray
    weight: np.ndarray
    cf_rows: np.ndarray


class StratifiedSampler:
    """Draw :class:`Batch` es from a split.

    Parameters
    ----------
    rows : numpy.ndarray of int
        Table rows of the split.
    strata : numpy.ndarray
        Stratum label of each of ``rows``.
    batch_size : int
        B, the number of rows per step (split equally over the strata, at least one each);
        0: the whole split every step (full batches).
    row_weight : numpy.ndarray, optional
        ``weight`` column over the *table* (indexed by table row); default 1.
    cf_sets : numpy.ndarray of int, optional
        Twin-set id of each *table* row (−1 for none); enables twin-set sampling.
    cf_sets_per_batch : int
        Twin sets drawn per step.
    """

    def __init__(
        self,
        rows: np.ndarray,
        strata: np.ndarray,
        *,
        batch_size: int,
        row_weight: np.ndarray | None = None,
        cf_sets: np.ndarray | None = None,
        cf_sets_per_batch: int = 0,
    ) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        if int(batch_size) < 0:
            raise FaroUsageError(f"batch_size must be ≥ 0 (0: full batches); got {batch_size}")
        self.full = int(batch_size) == 0
        self._rows = np.sort(rows)
        labels, inv = np.unique(np.asarray(strata).astype(str), return_inverse=True)
        order = np.argsort(inv, kind="stable")
        self._members = rows[order]  # rows grouped by stratum
        self._sizes = np.bincount(inv, minlength=len(labels))
        self._starts = np.concatenate(([0], np.cumsum(self._sizes)[:-1]))
        self.labels = labels
        self.per_stratum = max(1, int(np.ceil(batch_size / len(labels))))
        b = self.per_stratum
        self._stratum_of_draw = np.repeat(np.arange(len(labels)), b)
        self._base_weight = np.repeat(self._sizes / b, b)
        self.row_weight = row_weight
        self.sets: list[np.ndarray] = []
        if cf_sets is not None and (cf_sets_per_batch > 0 or self.full):
            ids = np.asarray(cf_sets)[rows]
            keep = ids >= 0
            order = np.argsort(ids[keep], kind="stable")
            r, s = rows[keep][order], ids[keep][order]
            cuts = np.flatnonzero(np.diff(s)) + 1
            self.sets = [g for g in np.split(r, cuts) if g.size >= 2]
        self.cf_sets_per_batch = int(cf_sets_per_batch)

    def sample(self, rng: np.random.Generator) -> Batch:
        if self.full:
            rows = self._rows
            weight = (np.ones(rows.size) if self.row_weight is None
                      else np.asarray(self.row_weight, dtype=np.float64)[rows])
            cf_rows = np.concatenate(self.sets) if self.sets else np.zeros(0, dtype=np.int64)
            return Batch(rows, weight / weight.mean(), cf_rows)
        k = self._stratum_of_draw
        pos = self._starts[k] + (rng.random(k.size) * self._sizes[k]).astype(np.int64)
        rows = self._members[pos]
        weight = self._base_weight if self.row_weight is None else self._base_weight * self.row_weight[rows]
        cf_rows = np.zeros(0, dtype=np.int64)
        if self.sets:
            n_sets = min(self.cf_sets_per_batch, len(self.sets))
            chosen = rng.choice(len(self.sets), size=n_sets, replace=False)
            cf_rows = np.concatenate([self.sets[i] for i in chosen])
        return Batch(rows, weight / weight.mean(), cf_rows)
