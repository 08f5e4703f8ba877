"""Build SPEC §5 certificate requests from a scored table and run them.

Clusters (prompts, or pair ids) are averaged first, within each group, so a bound is on
cluster means: rows sharing a prompt are not treated as independent (SPEC §5.2). Every group
mean has a key ``(outcome array, attribute, label class, group)``, so the same mean entering
several constraints (``dp`` and ``dp_anchored``) gets one interval and is counted once in
the Bonferroni split.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from faro_audit.audit.arrays import AuditArrays
from faro_audit.audit.constraints import ConstraintSpec
from faro_audit.stats.certificates import (
    CertificateRequest,
    CertificateSet,
    Constraint,
    MeanSample,
    certify,
)


def cluster_means(
    values: np.ndarray, groups: np.ndarray, clusters: np.ndarray, weight: np.ndarray
) -> dict[int, tuple[np.ndarray, np.ndarray, int]]:
    """Per group code: (weighted cluster means, cluster weights, rows).

    A cluster that spans several groups is split by group (stratification is by group).
    Clusters whose weights sum to 0 carry no information and are left out of the means (their
    rows still count in ``rows``).
    """
    n_clusters = int(clusters.max()) + 1 if clusters.size else 1
    key = groups.astype(np.int64) * n_clusters + clusters
    uniq, inv = np.unique(key, return_inverse=True)
    wsum = np.bincount(inv, weights=weight)
    vsum = np.bincount(inv, weights=weight * values)
    group_of = uniq // n_clusters
    rows = np.bincount(groups)
    out: dict[int, tuple[np.ndarray, np.ndarray, int]] = {}
    for g in np.unique(groups):
        sel = (group_of == g) & (wsum > 0)
        out[int(g)] = (vsum[sel] / wsum[sel], wsum[sel], int(rows[g]))
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
) -> tuple[tuple[MeanSample, ...], tuple[float, ...]]:
    """MeanSamples of every group present among ``rows``, and their weight shares."""
    w = arrays.weight[rows]
    per = cluster_means(values[rows], codes[rows], arrays.clusters[rows], w)
    total = float(w.sum())
    samples, shares = [], []
    for g, (vals, cw, n_rows) in per.items():
        samples.append(
            MeanSample(
                key=(name, attribute, klass, str(labels[g])),
                group=str(labels[g]),
                values=vals,
                sample_weight=cw if arrays.weighted else None,
                n_rows=n_rows,
            )
        )
        shares.append(float(cw.sum()) / total if total > 0 else 0.0)
    return tuple(samples), tuple(shares)


def build_requests(
    specs: Sequence[ConstraintSpec],
    arrays: AuditArrays,
    attribute_groups: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    cf_spreads: dict[tuple[str, str], np.ndarray],
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
    """
    requests = []
    for spec in specs:
        rows, labels, codes = attribute_groups[spec.attribute]  # type: ignore[index]
        constraint = Constraint(
            metric=spec.metric, outcome=spec.outcome, attribute=spec.attribute,  # type: ignore[arg-type]
            method=spec.method, epsilon=spec.epsilon,
        )
        if spec.metric == "cf":
            spreads = cf_spreads[(spec.attribute, spec.outcome)]  # type: ignore[index]
            sample = MeanSample(
                key=("cf_" + spec.outcome, spec.attribute, None, "twin sets"),
                group="twin sets", values=spreads, sample_weight=None, n_rows=int(spreads.size),
            )
            requests.append(CertificateRequest(constraint=constraint, classes=((sample,),), shares=((1.0,),)))
            continue
        outcome = arrays.soft if spec.outcome == "soft" else arrays.hard
        if spec.metric == "dp":
            s, w = _samples(spec.outcome, outcome, labels, codes, arrays, rows, spec.attribute, None)  # type: ignore[arg-type]
            requests.append(CertificateRequest(constraint=constraint, classes=(s,), shares=(w,)))
            continue
        # eo
        if arrays.shape == "pairs":
            agree = arrays.agree_soft if spec.outcome == "soft" else arrays.agree_hard
            # Without p_human the agreement outcome is the outcome itself: share its intervals.
            name = spec.outcome if arrays.p_human is None else "agree_" + spec.outcome
            s, w = _samples(name, agree, labels, codes, arrays, rows, spec.attribute, "human prefers chosen")  # type: ignore[arg-type]
            if arrays.p_human is None:
                s = tuple(MeanSample(key=(spec.outcome, m.key[1], None, m.key[3]), group=m.group, values=m.values,
                                     sample_weight=m.sample_weight, n_rows=m.n_rows) for m in s)
            requests.append(CertificateRequest(constraint=constraint, classes=(s,), shares=(w,)))
            continue
        classes, shares, class_labels = [], [], []
        for klass in (0, 1):
            sub = rows[arrays.label[rows] == klass]  # type: ignore[index]
            if sub.size == 0:
                continue
            s, w = _samples(spec.outcome, outcome, labels, codes, arrays, sub, spec.attribute, f"label={klass}")  # type: ignore[arg-type]
            classes.append(s)
            shares.append(w)
            class_labels.append(f"label={klass}")
        requests.append(CertificateRequest(constraint=constraint, classes=tuple(classes), shares=tuple(shares),
                                           class_labels=tuple(class_labels)))
    return requests


def run_certificates(
    requests: Sequence[CertificateRequest],
    *,
    delta: float,
    bound: str,
    min_group_size: int,
    random_state: int,
) -> CertificateSet:
    """Simultaneous certificates (SPEC §5) for the requests."""
    return certify(list(requests), delta=delta, bound=bound, min_group_size=min_group_size, random_state=random_state)
