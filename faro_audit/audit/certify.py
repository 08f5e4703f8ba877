"""Build SPEC §5 certificate requests from a scored table and run them.

One estimand (SPEC §5.1): every group mean is the weighted **row** mean Σ w_i o_i / Σ w_i of
SPEC §3, the same quantity as the report's ``dp_gap`` and the bootstrap. Rows are averaged
within clusters (prompts, or ``cluster_id``) first, and each cluster mean enters its bound with
the cluster's weight W_c = Σ_{i∈c} w_i (the row count when the table has no ``weight``
column), so Σ W_c x̄_c / Σ W_c is exactly the row mean, also when cluster sizes vary and are
related to the outcome. Rows sharing a cluster are never treated as independent.

Design (SPEC §5.4): when the attribute's rows come in twin sets (``cf_id``) that each hold
every group exactly once, and the table is unweighted, the gap is bounded from paired
contrasts — within-set differences of outcomes, whose set effect cancels. Twin sets joined by
a shared cluster are merged into one unit, so units stay independent. Otherwise the unpaired
(box) design is used, and ``design_note`` says why.

Every group mean has a key ``(outcome array, attribute, label class, group)`` so a mean that
enters several constraints gets one interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from faro_audit.audit.arrays import AuditArrays
from faro_audit.audit.constraints import ConstraintSpec
from faro_audit.audit.units import connected_units
from faro_audit.stats.certificates import (
    CertificateRequest,
    CertificateSet,
    Constraint,
    ContrastSample,
    MeanSample,
    certify,
)


def cluster_means(
    values: np.ndarray, groups: np.ndarray, clusters: np.ndarray, weight: np.ndarray
) -> dict[int, tuple[np.ndarray, np.ndarray, int]]:
    """Per group code: (weighted cluster means, cluster weights W_c = Σ w_i, rows).

    A cluster that spans several groups is split by group (stratification is by group).
    Clusters whose weights sum to 0 carry no information and are left out of the means (their
    rows still count in ``rows``).
    """
    n_clusters = int(clusters.max()) + 1 if clusters.size else 1
    key = groups.astype(np.int64) * n_clusters + clusters
    uniq, inv = np.unique(key, return_inverse=True)
    wsum = np.bincount(inv, weights=weight)
    vsum = np.bincount(inv, weights=weight * values)
    group_of = uniq // n_clusters  # ascending: ``uniq`` is sorted and groups lead the key
    rows = np.bincount(groups)
    present = np.unique(groups)
    # Each group's units are one contiguous run of ``uniq``: split them in O(U + K), not
    # one O(U) scan per group.
    cuts = np.searchsorted(group_of, np.r_[present, present[-1] + 1] if present.size else present)
    out: dict[int, tuple[np.ndarray, np.ndarray, int]] = {}
    for j, g in enumerate(present):
        ws, vs = wsum[cuts[j]:cuts[j + 1]], vsum[cuts[j]:cuts[j + 1]]
        keep = ws > 0
        out[int(g)] = (vs[keep] / ws[keep], ws[keep], int(rows[g]))
    return out


def _samples(
    name: str,
    values: np.ndarray,
    labels: np.ndarray,
    codes: np.ndarray,
    arrays: AuditArrays,
    rows: np.ndarray,
    attribute: str,
    klass: str | None,
) -> tuple[tuple[MeanSample, ...], tuple[float, ...], bool]:
    """MeanSamples of every group present among ``rows``, their weight shares, and whether
    every cluster is a single row (so cluster means of a hard outcome are binary)."""
    w = arrays.weight[rows]
    per = cluster_means(values[rows], codes[rows], arrays.clusters[rows], w)
    total = float(w.sum())
    samples, shares = [], []
    singletons = True
    for g, (vals, cw, n_rows) in per.items():
        # Cluster weights are needed for the row mean unless they are all equal.
        equal = cw.size == 0 or bool(np.all(cw == cw[0]))
        singletons = singletons and vals.size == n_rows and equal and (not arrays.weighted or bool(np.all(cw == 1)))
        samples.append(
            MeanSample(
                key=(name, attribute, klass, str(labels[g])),
                group=str(labels[g]),
                values=vals,
                sample_weight=None if equal else cw,
                n_rows=n_rows,
            )
        )
        shares.append(float(cw.sum()) / total if total > 0 else 0.0)
    return tuple(samples), tuple(shares), singletons


@dataclass(frozen=True)
class _Pairing:
    """Twin sets of one attribute (and label class) that hold every group exactly once."""

    outcomes: np.ndarray  # (S, K): the outcome of group k in set s, groups in sample order
    unit: np.ndarray  # (S,): the independent unit (connected component via clusters) of each set
    n_units: int


def _pairing(
    values: np.ndarray, codes: np.ndarray, arrays: AuditArrays, rows: np.ndarray, group_codes: Sequence[int]
) -> _Pairing | str:
    """The paired layout of ``rows``, or the reason why they cannot be paired."""
    if arrays.cf_id is None:
        return "no twin sets (cf_id column): unpaired box of group-mean intervals"
    if arrays.weighted and not np.all(arrays.weight[rows] == arrays.weight[rows][0]):
        return "weighted table: within-set contrasts would not estimate the weighted group means; unpaired box"
    import pandas as pd

    set_of = pd.factorize(pd.Series(arrays.cf_id[rows]))[0]
    n_sets = int(set_of.max()) + 1 if set_of.size else 0
    pos = {g: i for i, g in enumerate(group_codes)}
    k = len(group_codes)
    col = np.array([pos.get(int(c), -1) for c in codes[rows]])
    counts = np.zeros((n_sets, k), dtype=np.int64)
    np.add.at(counts, (set_of, col), 1)
    if n_sets < 2 or not np.all(counts == 1):
        bad = int(np.argmax(np.any(counts != 1, axis=1))) if n_sets else 0
        first = str(arrays.cf_id[rows][set_of == bad][0]) if n_sets else "-"
        return (f"twin sets do not hold every group exactly once (e.g. set {first!r} has "
                f"{int(counts[bad].sum()) if n_sets else 0} rows for {k} groups): unpaired box")
    outcomes = np.zeros((n_sets, k))
    outcomes[set_of, col] = values[rows]
    # Sets joined by a shared cluster form one independent unit (numbered by first appearance).
    unit_of_row = connected_units(set_of, arrays.clusters[rows])
    first_row = np.zeros(n_sets, dtype=np.int64)
    first_row[set_of[::-1]] = np.arange(rows.size)[::-1]
    unit = pd.factorize(unit_of_row[first_row])[0]
    return _Pairing(outcomes=outcomes, unit=unit, n_units=int(unit.max()) + 1)


def _contrasts(
    pairing: _Pairing, samples: Sequence[MeanSample], shares: Sequence[float], *, method: str, key: tuple[object, ...]
) -> tuple[ContrastSample, ...]:
    """Per-unit contrasts: every pair a < b (between groups) or each group to the pooled mean."""
    o = pairing.outcomes
    n_sets = np.bincount(pairing.unit).astype(float)
    weight = None if np.all(n_sets == 1) else n_sets

    def per_unit(d: np.ndarray) -> np.ndarray:
        return np.bincount(pairing.unit, weights=d) / n_sets

    out = []
    k = len(samples)
    if method == "between_groups":
        for a in range(k):
            for b in range(a + 1, k):
                ga, gb = samples[a].group, samples[b].group
                out.append(ContrastSample(key=(*key, "pair", ga, gb), label=f"{ga} − {gb}",
                                          values=per_unit(o[:, a] - o[:, b]), sample_weight=weight,
                                          n_units=o.shape[0]))
        return tuple(out)
    w = np.asarray(shares, dtype=float)
    pooled = o @ w
    for a in range(k):
        ga = samples[a].group
        out.append(ContrastSample(key=(*key, "anchor", ga, tuple(np.round(w, 12))), label=f"{ga} − pooled",
                                  values=per_unit(o[:, a] - pooled), sample_weight=weight, n_units=o.shape[0]))
    return tuple(out)


def _class_request_parts(
    spec: ConstraintSpec, name: str, values: np.ndarray, labels: np.ndarray, codes: np.ndarray,
    arrays: AuditArrays, rows: np.ndarray, klass: str | None,
) -> tuple[tuple[MeanSample, ...], tuple[float, ...], bool, tuple[ContrastSample, ...] | None, str]:
    """Group means of one class, with paired contrasts when the class's rows pair up."""
    s, w, singletons = _samples(name, values, labels, codes, arrays, rows, spec.attribute, klass)  # type: ignore[arg-type]
    if len(s) < 2:
        return s, w, singletons, None, ""
    code_of: dict[str, int] = {}
    for i, lab in enumerate(labels):
        code_of.setdefault(str(lab), i)  # first code of each label, as flatnonzero(...)[0]
    group_codes = [code_of[smp.group] for smp in s]  # O(K), not one O(K) scan per group
    pairing = _pairing(values, codes, arrays, rows, group_codes)
    if isinstance(pairing, str):
        return s, w, singletons, None, pairing
    pcs = _contrasts(pairing, s, w, method=spec.method, key=(name, spec.attribute, klass))
    note = f"paired: {pairing.outcomes.shape[0]} twin sets in {pairing.n_units} independent units"
    return s, w, singletons, pcs, note


def build_requests(
    specs: Sequence[ConstraintSpec],
    arrays: AuditArrays,
    attribute_groups: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    cf_spreads: dict[tuple[str, str], np.ndarray],
    *,
    paired: bool = True,
) -> list[CertificateRequest]:
    """One request per constraint.

    Parameters
    ----------
    specs
        Constraints expanded over attributes.
    arrays
        Outcomes of the table.
    attribute_groups
        attribute → (row indices where it is defined, group labels, group code per row of the
        full table) .
    cf_spreads
        (attribute, outcome) → twin-set spreads s_k, for ``cf`` constraints.
    paired
        Use the paired design where the twin sets allow it (False forces the box, e.g. to
        compare the two designs).
    """
    requests = []
    for spec in specs:
        rows, labels, codes = attribute_groups[spec.attribute]  # type: ignore[index]
        labels = np.asarray(labels).astype(str)
        constraint = Constraint(
            metric=spec.metric, outcome=spec.outcome, attribute=spec.attribute,  # type: ignore[arg-type]
            method=spec.method, epsilon=spec.epsilon,
        )
        hard = spec.outcome == "hard"
        if spec.metric == "cf":
            spreads = cf_spreads[(spec.attribute, spec.outcome)]  # type: ignore[index]
            sample = MeanSample(
                key=("cf_" + spec.outcome, spec.attribute, None, "twin sets"),
                group="twin sets", values=spreads, sample_weight=None, n_rows=int(spreads.size),
            )
            requests.append(CertificateRequest(constraint=constraint, classes=((sample,),), shares=((1.0,),),
                                               binary=hard and not arrays.weighted))
            continue
        parts = []
        if spec.metric == "dp":
            outcome = arrays.soft if spec.outcome == "soft" else arrays.hard
            parts.append((spec.outcome, outcome, rows, None))
        elif arrays.shape == "pairs":
            agree = arrays.agree_soft if spec.outcome == "soft" else arrays.agree_hard
            # Without p_human the agreement outcome is the outcome itself: share its intervals.
            name = spec.outcome if arrays.p_human is None else "agree_" + spec.outcome
            hard = hard and arrays.p_human is None
            parts.append((name, agree, rows, None))
        else:
            outcome = arrays.soft if spec.outcome == "soft" else arrays.hard
            for klass in (0, 1):
                sub = rows[arrays.label[rows] == klass]  # type: ignore[index]
                if sub.size:
                    parts.append((spec.outcome, outcome, sub, f"label={klass}"))
        classes, shares, class_labels, contrasts, notes = [], [], [], [], []
        binary = hard
        for name, values, sub, klass in parts:
            s, w, singletons, pcs, note = _class_request_parts(
                spec, name, values, labels, codes, arrays, sub, klass if spec.metric == "eo" and klass else None)
            classes.append(s)
            shares.append(w)
            class_labels.append(klass or "")
            contrasts.append(pcs)
            notes.append(note)
            binary = binary and singletons
        use_paired = paired and all(pc is not None for pc, cls in zip(contrasts, classes) if len(cls) >= 2) \
            and any(pc is not None for pc in contrasts)
        note = next((n for n in notes if n and not n.startswith("paired")), "") if not use_paired else notes[0]
        if not paired and any(pc is not None for pc in contrasts):
            note = "unpaired box (paired design switched off)"
        requests.append(CertificateRequest(
            constraint=constraint, classes=tuple(classes), shares=tuple(shares),
            class_labels=tuple(class_labels) if len(classes) > 1 else None,
            paired=tuple(pc or () for pc in contrasts) if use_paired else None,
            binary=binary, design_note=note,
        ))
    return requests


def run_certificates(
    requests: Sequence[CertificateRequest],
    *,
    delta: float,
    bound: str,
    min_group_size: int,
    random_state: int,
    sequential: bool = False,
) -> CertificateSet:
    """Simultaneous certificates (SPEC §5) for the requests."""
    return certify(list(requests), delta=delta, bound=bound, min_group_size=min_group_size,
                   random_state=random_state, sequential=sequential)
