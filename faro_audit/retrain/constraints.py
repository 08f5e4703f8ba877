"""Differentiable anchored gap constraints for ProxyGDA (SPEC §7), on pair margins in torch.

One code path computes both the *proxy* constraints (soft outcomes on a stratified minibatch,
differentiable) and the *true* constraints (each constraint's own outcome, hard or soft, on the
dual split, without gradient), so the two differ only in the outcome and the rows.

Outcomes of a pair with margin d (SPEC §2, §3):

* ``dp``: o = σ(d/T) (soft) or 1[d > 0] with ties ½ (hard) — the RM prefers ``chosen``;
* ``eo``: accuracy parity, a = p·o + (1 − p)(1 − o) with p = ``p_human`` (1 without it), as
  :func:`faro_audit.metrics.parity.pair_accuracy_outcome`;
* ``cf``: o as for ``dp``, compared within twin sets (``cf_id``).

One-sided constraints (feasible when ≤ 0), with weighted group means
m_a = Σ_{i∈a} w_i o_i / Σ_{i∈a} w_i and m_pool = Σ_i w_i o_i / Σ_i w_i:

* ``to_overall`` (Faro's anchoring, SPEC §3/§7): m_a − m_pool − ε and m_pool − m_a − ε for each
  group a — 2K constraints whose largest value plus ε is Δ_anchor = max_a |m_a − m_pool|;
* ``between_groups``: m_a − m_b − ε for each ordered pair a ≠ b — K(K − 1) constraints whose
  largest value plus ε is max_a m_a − min_a m_a. (SPEC §7 writes every gap in anchored form;
  for a between-groups tolerance that form is only sufficient — Δ ≤ 2Δ_anchor — so we use the
  exact pairwise form instead, which is the same constraint set as the certified gap.)
* ``cf`` (``mean_spread``): mean_k (max_{i∈S_k} o_i − min_{i∈S_k} o_i) − ε over twin sets with
  at least two rows. The proxy is this same spread on soft outcomes: max − min is Lipschitz and
  differentiable almost everywhere, and torch's ``scatter_reduce`` gives its subgradient (the
  gradient flows to the arg-max and arg-min rows; for a set of two, |o_1 − o_2|).

Groups with no weight among the given rows do not enter (their constraints read −ε, with no
gradient), matching :func:`faro_audit.metrics.parity.gap_from_means`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.vocabulary import Constraint

__all__ = [
    "ConstraintSet",
    "TrainingConstraint",
    "pair_outcome",
]


@dataclass(frozen=True, init=False)
class TrainingConstraint(Constraint):
    """One constraint g_j ≤ ε_j: a :class:`~faro_audit.vocabulary.Constraint` for training.

    The fields, their checks, :attr:`name` and :attr:`label` are the vocabulary's; the
    constructor keeps the historical positional order ``(metric, method, outcome, attribute,
    epsilon)`` (keywords are the field names, so :func:`dataclasses.replace` works).

    Attributes
    ----------
    metric : {"dp", "eo", "cf"}
    method : {"between_groups", "to_overall", "mean_spread"}
    outcome : {"soft", "hard"}
        The outcome of the *true* constraint on the dual split (the proxy is always soft).
    attribute : str or None
        Group column. For ``cf`` (twins come from ``cf_id``) it restricts the twin sets to the
        rows where the attribute is defined, as the audit does per attribute; ``None`` uses all.
        dp and eo need one.
    epsilon : float
        Tolerance ε_j in (0, 1].
    """

    def __init__(self, metric: str, method: str, outcome: str, attribute: str | None, epsilon: float) -> None:
        super().__init__(metric, outcome, attribute, method, epsilon)
        if self.metric != "cf" and not self.attribute:
            raise FaroUsageError(f"constraint {self.metric} needs a group attribute")

    @classmethod
    def from_spec(cls, spec: Any) -> TrainingConstraint:
        """The training constraint of any constraint-like object.

        Parameters
        ----------
        spec : object
            With ``metric``, ``method``, ``outcome``, ``attribute``, ``epsilon`` (e.g. a
            :class:`faro_audit.audit.constraints.ConstraintSpec` or a vocabulary Constraint).

        Returns
        -------
        TrainingConstraint
        """
        return cls(spec.metric, spec.method, spec.outcome, spec.attribute, float(spec.epsilon))

    @property
    def text(self) -> str:
        """CLI spelling with the tolerance, e.g. ``dp_anchored:hard@gender=0.05`` (= :attr:`label`)."""
        return self.label

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (the manifest's constraint entry), ``text`` the label.

        Returns
        -------
        dict
        """
        return {"metric": self.metric, "method": self.method, "outcome": self.outcome,
                "attribute": self.attribute, "epsilon": float(self.epsilon), "text": self.text}


def pair_outcome(margin: torch.Tensor, *, hard: bool, temperature: float) -> torch.Tensor:
    """The bounded outcome of pair margins (SPEC §2).

    Parameters
    ----------
    margin : torch.Tensor
        Margins d = r(chosen) − r(rejected).
    hard : bool
        Hard outcome 1[d > 0] with ties ½ instead of the soft σ(d/T).
    temperature : float
        T of the soft outcome.

    Returns
    -------
    torch.Tensor
        o = σ(d/T) (soft, differentiable) or (sign(d) + 1)/2 (hard).
    """
    if hard:
        return (torch.sign(margin) + 1.0) / 2.0
    return torch.sigmoid(margin / temperature)


def _group_values(o: torch.Tensor, codes: torch.Tensor, K: int, w: torch.Tensor, method: str,
                  eps: float) -> torch.Tensor:
    """One-sided values of a parity constraint over the rows with a defined group (rows with
    code −1 get weight 0 instead of being masked out: the same sums without a gather)."""
    defined = codes >= 0
    w = torch.where(defined, w, torch.zeros_like(w))
    codes = torch.where(defined, codes, torch.zeros_like(codes))
    ws = torch.zeros(K, dtype=o.dtype).index_add(0, codes, w)
    wo = w * o
    s = torch.zeros(K, dtype=o.dtype).index_add(0, codes, wo)
    present = ws > 0
    m = s / torch.where(present, ws, torch.ones_like(ws))
    if method == "to_overall":
        pool = wo.sum() / w.sum().clamp_min(torch.finfo(o.dtype).tiny)
        vals = torch.cat([m - pool, pool - m]) - eps
        mask = torch.cat([present, present])
    else:
        i, j = np.where(~np.eye(K, dtype=bool))
        vals = m[i] - m[j] - eps
        mask = present[i] & present[j]
    return torch.where(mask, vals, torch.full_like(vals, -eps))


def _cf_value(o: torch.Tensor, sets: np.ndarray, eps: float) -> torch.Tensor:
    """mean_k (max − min of o over twin set k) − ε, over sets with ≥ 2 rows among ``o``."""
    if o.numel() == 0:
        return torch.full((1,), -eps, dtype=o.dtype)
    uniq, inv, counts = np.unique(sets, return_inverse=True, return_counts=True)
    idx = torch.as_tensor(inv.reshape(-1), dtype=torch.long)
    n = len(uniq)
    mx = torch.full((n,), -torch.inf, dtype=o.dtype).scatter_reduce(0, idx, o, "amax")
    mn = torch.full((n,), torch.inf, dtype=o.dtype).scatter_reduce(0, idx, o, "amin")
    ok = torch.as_tensor(counts >= 2)
    if not bool(ok.any()):
        return torch.full((1,), -eps, dtype=o.dtype)
    return ((mx - mn)[ok].mean() - eps).reshape(1)


class ConstraintSet:
    """Constraints bound to the rows of a pairs table.

    Parameters
    ----------
    constraints : sequence of TrainingConstraint
    groups : mapping of attribute → (codes, labels)
        ``codes``: int array over all table rows (−1 where the attribute is undefined);
        ``labels``: the group names, indexed by code.
    cf_sets : numpy.ndarray of int, optional
        Twin-set id of each table row (−1 for rows in no set). Required for ``cf``.
    p_human : numpy.ndarray, optional
        Share of raters preferring ``chosen`` per row (EO weights, SPEC §3).
    temperature : float
        T of the soft outcome.

    Attributes
    ----------
    n_one_sided : int
        m, the number of one-sided constraints the game sees.
    owner : numpy.ndarray of int, shape (m,)
        Index of the constraint each one-sided constraint belongs to.
    descriptions : tuple of str
        Human-readable one-sided constraints, e.g. ``"dp_anchored:soft@gender: m[woman] − m_pool ≤ ε"``.
    """

    def __init__(
        self,
        constraints: Sequence[TrainingConstraint],
        *,
        groups: Mapping[str, tuple[np.ndarray, Sequence[str]]],
        cf_sets: np.ndarray | None = None,
        p_human: np.ndarray | None = None,
        temperature: float = 1.0,
    ) -> None:
        self.constraints = tuple(constraints)
        self.temperature = float(temperature)
        self._codes: dict[str, torch.Tensor] = {}
        self._labels: dict[str, tuple[str, ...]] = {}
        owner: list[int] = []
        desc: list[str] = []
        for j, c in enumerate(self.constraints):
            if c.metric == "cf":
                if cf_sets is None:
                    raise FaroInputError(
                        f"constraint {c.text}: the data has no 'cf_id' column, so there are no "
                        "counterfactual twins; add cf_id or drop the cf constraint"
                    )
                owner.append(j)
                desc.append(f"{c.name}: mean twin-set spread ≤ ε")
                if c.attribute is not None and c.attribute in groups:
                    self._codes[c.attribute] = torch.as_tensor(np.asarray(groups[c.attribute][0]),
                                                               dtype=torch.long)
                continue
            attr = c.attribute
            if attr is None or attr not in groups:
                raise FaroUsageError(
                    f"constraint {c.text}: attribute {attr!r} is not a group column; "
                    f"use one of {', '.join(groups)}"
                )
            codes, labels = groups[attr]
            self._codes[attr] = torch.as_tensor(np.asarray(codes), dtype=torch.long)
            self._labels[attr] = tuple(str(x) for x in labels)
            K = len(labels)
            if c.method == "to_overall":
                for sign in ("m[{a}] − m_pool ≤ ε", "m_pool − m[{a}] ≤ ε"):
                    for a in self._labels[attr]:
                        owner.append(j)
                        desc.append(f"{c.name}: " + sign.format(a=a))
            else:
                i, k = np.where(~np.eye(K, dtype=bool))
                for a, b in zip(i, k):
                    owner.append(j)
                    desc.append(f"{c.name}: m[{labels[a]}] − m[{labels[b]}] ≤ ε")
        self.cf_sets = None if cf_sets is None else np.asarray(cf_sets, dtype=np.int64)
        self.p_human = (None if p_human is None
                        else torch.from_numpy(np.array(p_human, dtype=np.float64)))
        self.owner = np.asarray(owner, dtype=np.int64)
        self.descriptions = tuple(desc)
        self.n_one_sided = len(owner)
        self.epsilons = np.array([c.epsilon for c in self.constraints], dtype=np.float64)

    def values(
        self,
        margin: torch.Tensor,
        rows: np.ndarray,
        weight: torch.Tensor,
        *,
        cf_margin: torch.Tensor | None = None,
        cf_rows: np.ndarray | None = None,
        proxy: bool,
    ) -> torch.Tensor:
        """The m one-sided values c_i = g_i − ε_i (≤ 0 is feasible).

        Parameters
        ----------
        margin : torch.Tensor, shape (n,)
            Pair margins d of ``rows``.
        rows : numpy.ndarray of int, shape (n,)
            Table rows of ``margin``.
        weight : torch.Tensor, shape (n,)
            Row weights (population-share weights of a stratified minibatch × ``weight`` column).
        cf_margin, cf_rows : optional
            Margins and table rows of whole twin sets (for ``cf`` constraints).
        proxy : bool
            True: soft outcomes everywhere (differentiable proxies). False: each constraint's
            own outcome (the true constraints).

        Returns
        -------
        torch.Tensor, shape (m,)
            One value per one-sided constraint, in the order of :attr:`descriptions`.
        """
        T = self.temperature
        rows_t = torch.as_tensor(np.asarray(rows), dtype=torch.long)
        outcome_cache: dict[bool, torch.Tensor] = {}
        out: list[torch.Tensor] = []
        for c in self.constraints:
            hard = (c.outcome == "hard") and not proxy
            if c.metric == "cf":
                if cf_margin is None or cf_rows is None or self.cf_sets is None:
                    out.append(torch.full((1,), -c.epsilon, dtype=margin.dtype))
                    continue
                o = pair_outcome(cf_margin, hard=hard, temperature=T)
                sets = self.cf_sets[np.asarray(cf_rows)]
                if c.attribute in self._codes:  # twins where the attribute is defined
                    keep = self._codes[c.attribute][torch.as_tensor(np.asarray(cf_rows))] >= 0
                    o, sets = o[keep], sets[keep.numpy()]
                out.append(_cf_value(o, sets, c.epsilon))
                continue
            if hard not in outcome_cache:
                outcome_cache[hard] = pair_outcome(margin, hard=hard, temperature=T)
            o = outcome_cache[hard]
            if c.metric == "eo" and self.p_human is not None:
                p = torch.index_select(self.p_human, 0, rows_t).to(o.dtype)
                o = p * o + (1.0 - p) * (1.0 - o)
            codes = torch.index_select(self._codes[c.attribute], 0, rows_t)  # type: ignore[index]
            K = len(self._labels[c.attribute])  # type: ignore[index]
            out.append(_group_values(o, codes, K, weight.to(o.dtype), c.method, c.epsilon))
        if not out:
            return torch.zeros(0, dtype=margin.dtype)
        return torch.cat(out)

    def gaps(self, values: np.ndarray) -> np.ndarray:
        """Per-constraint gaps from the one-sided values.

        Parameters
        ----------
        values : ndarray of shape (m,)
            One-sided values c_i = g_i − ε_i (e.g. :meth:`values` as numpy).

        Returns
        -------
        ndarray of shape (J,)
            g_j = max(0, max_{i owned by j} c_i + ε_j).
        """
        v = np.asarray(values, dtype=np.float64).reshape(self.n_one_sided)
        g = np.full(len(self.constraints), -np.inf)
        np.maximum.at(g, self.owner, v)
        return np.maximum(g + self.epsilons, 0.0)
