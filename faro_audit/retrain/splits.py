"""Stratified train / dual / audit split of a retraining table, with content hashes (SPEC §7).

The unit of the split is a *cluster*: a twin set (``cf_id``) where twins exist, else a
``cluster_id`` (the audit's cluster column, SPEC §1), else a ``pair_id``, else a ``prompt`` — rows that share one never straddle two splits, so the dual
split and the held-out audit split are independent of the train split at the cluster level
(SPEC §4 treats the same units as independent).

Stratification: each cluster gets the stratum of its rows' joint group (the combination of the
constraint attributes; a twin set spanning several groups gets the sorted combination of all
of them). Within each stratum the clusters are shuffled with a seeded generator and cut by the
requested fractions (largest-remainder rounding), keeping at least one cluster in the train and
in the dual split, so every group is present in both. A stratum with a single cluster cannot be
split: that is an input error naming the group.

Hash of a split: SHA-256 of the per-row hashes (:func:`pandas.util.hash_pandas_object`,
``index=False``) of the split's rows, in row order, over the text, group and optional columns —
so two runs used the same rows exactly when the hashes agree, whatever the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from faro_audit.errors import FaroInputError, FaroUsageError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Split",
    "Splits",
    "cluster_ids",
    "frame_columns_for_hash",
    "rows_sha256",
    "split_rows",
    "split_summary",
    "strata_labels",
]


@dataclass(frozen=True)
class Split:
    """One split: sorted table row positions (0-based) and their content hash."""

    name: str
    rows: np.ndarray
    sha256: str

    @property
    def n_rows(self) -> int:
        return int(self.rows.shape[0])

    def as_dict(self) -> dict[str, Any]:
        return {"n_rows": self.n_rows, "sha256": self.sha256}


@dataclass(frozen=True)
class Splits:
    """The train split (objective), the dual split (true constraints, multipliers, selection)
    and, when no separate audit data is given, the held-out audit split (certificate)."""

    train: Split
    dual: Split
    audit: Split | None
    unit: str
    random_state: int

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"unit": self.unit, "random_state": self.random_state,
                               "train": self.train.as_dict(), "dual": self.dual.as_dict()}
        if self.audit is not None:
            out["audit"] = self.audit.as_dict()
        return out

    def rows_dict(self) -> dict[str, list[int]]:
        """Row positions of each split (written next to the manifest)."""
        parts = [self.train, self.dual] + ([self.audit] if self.audit is not None else [])
        return {p.name: [int(r) for r in p.rows] for p in parts}


def rows_sha256(frame: pd.DataFrame, rows: np.ndarray, columns: Sequence[str]) -> str:
    """SHA-256 of the per-row content hashes of ``frame.iloc[rows][columns]`` (in row order)."""
    import pandas as pd

    cols = [c for c in columns if c in frame.columns]
    sub = frame.iloc[np.asarray(rows, dtype=np.int64)][cols]
    per_row = pd.util.hash_pandas_object(sub.astype(str), index=False).to_numpy()
    return hashlib.sha256(np.ascontiguousarray(per_row).tobytes()).hexdigest()


def cluster_ids(frame: pd.DataFrame) -> tuple[np.ndarray, str]:
    """Cluster code per row and the unit's name: ``cf_id``, else ``cluster_id``, else
    ``pair_id``, else ``prompt``."""
    import pandas as pd

    for col in ("cf_id", "cluster_id", "pair_id", "prompt"):
        if col in frame.columns:
            values = frame[col]
            if col == "cf_id" and values.isna().any():
                # rows without a twin set are their own cluster
                fill = pd.Series([f"\0row{i}" for i in range(len(frame))], index=frame.index)
                values = values.astype(object).where(values.notna(), fill)
            codes, _ = pd.factorize(values.astype(str), sort=True)
            return codes.astype(np.int64), col
    return np.arange(len(frame), dtype=np.int64), "row"


def strata_labels(frame: pd.DataFrame, attributes: Sequence[str]) -> np.ndarray:
    """Joint group label per row over ``attributes`` (``"∅"`` where undefined); all one stratum
    without attributes."""
    if not attributes:
        return np.full(len(frame), "all", dtype=object)
    parts = [frame[a].astype(object).where(frame[a].notna(), "∅").astype(str).to_numpy()
             for a in attributes]
    out = parts[0].astype(object)
    for p in parts[1:]:
        out = out + "|" + p
    return out


def _allocate(n: int, fractions: Sequence[float]) -> np.ndarray:
    """Largest-remainder counts for n clusters; parts 0 and 1 (train, dual) get at least one."""
    f = np.asarray(fractions, dtype=np.float64)
    raw = n * f
    counts = np.floor(raw).astype(np.int64)
    rest = n - counts.sum()
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[:rest]] += 1
    for k in (1, 0):
        if counts[k] == 0:
            donor = int(np.argmax(counts))
            counts[donor] -= 1
            counts[k] += 1
    return counts


def split_rows(
    frame: pd.DataFrame,
    *,
    attributes: Sequence[str],
    dual_fraction: float = 0.2,
    audit_fraction: float = 0.0,
    random_state: int = 0,
    hash_columns: Sequence[str] = (),
) -> Splits:
    """Split the rows of a pairs table into train / dual (/ audit), stratified by group.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table's rows.
    attributes : sequence of str
        Group columns to stratify by (the constraint attributes).
    dual_fraction, audit_fraction : float
        Shares of clusters per stratum for the dual and the audit split (audit 0: none).
    random_state : int
        Seed of :func:`numpy.random.default_rng`.
    hash_columns : sequence of str
        Columns that enter the content hashes (those absent are skipped).

    Returns
    -------
    Splits

    Raises
    ------
    FaroUsageError
        Fractions outside [0, 1) or leaving no train data.
    FaroInputError
        A stratum with one cluster (it cannot be in both the train and the dual split).
    """
    if not (0 < dual_fraction < 1 and 0 <= audit_fraction < 1 and dual_fraction + audit_fraction < 1):
        raise FaroUsageError(
            f"dual_fraction={dual_fraction} and audit_fraction={audit_fraction} must be in [0, 1) "
            "with dual > 0 and their sum < 1, so that train data remain"
        )
    clusters, unit = cluster_ids(frame)
    strata = strata_labels(frame, attributes)
    n_clusters = int(clusters.max()) + 1 if clusters.size else 0
    # stratum of a cluster: sorted combination of its rows' strata
    cl_strata: list[set[str]] = [set() for _ in range(n_clusters)]
    for c, s in zip(clusters.tolist(), strata.tolist()):
        cl_strata[c].add(s)
    keys = np.array([" + ".join(sorted(s)) for s in cl_strata], dtype=object)
    rng = np.random.default_rng(random_state)
    fractions = (1 - dual_fraction - audit_fraction, dual_fraction, audit_fraction)
    part_of = np.empty(n_clusters, dtype=np.int64)
    for key in sorted(set(keys.tolist())):
        members = np.flatnonzero(keys == key)
        if members.size < 2:
            raise FaroInputError(
                f"group {key!r} has a single {unit} ({members.size} cluster), so it cannot be in "
                "both the train and the dual split; add data for it or leave the attribute out"
            )
        members = rng.permutation(members)
        counts = _allocate(members.size, fractions)
        bounds = np.cumsum(counts)
        part_of[members[: bounds[0]]] = 0
        part_of[members[bounds[0]: bounds[1]]] = 1
        part_of[members[bounds[1]:]] = 2
    row_part = part_of[clusters]
    names = ("train", "dual", "audit")
    made: dict[str, Split] = {}
    for k, name in enumerate(names):
        rows = np.flatnonzero(row_part == k)
        if name == "audit" and audit_fraction == 0:
            continue
        made[name] = Split(name, rows, rows_sha256(frame, rows, hash_columns))
    return Splits(made["train"], made["dual"], made.get("audit"), unit, int(random_state))


def frame_columns_for_hash(frame: pd.DataFrame, group_columns: Sequence[str]) -> list[str]:
    """The columns that identify a row's content: texts, groups and the optional columns."""
    base = ["prompt", "chosen", "rejected", *group_columns,
            "pair_id", "cluster_id", "cf_id", "p_human", "weight", "subset"]
    seen: dict[str, None] = {}
    for c in base:
        if c in frame.columns:
            seen.setdefault(c, None)
    return list(seen)


def split_summary(splits: Splits, strata: np.ndarray) -> Mapping[str, dict[str, int]]:
    """Rows per stratum in each split (for the manifest)."""
    out: dict[str, dict[str, int]] = {}
    for part in (splits.train, splits.dual, splits.audit):
        if part is None:
            continue
        vals, counts = np.unique(strata[part.rows].astype(str), return_counts=True)
        out[part.name] = {str(v): int(c) for v, c in zip(vals, counts)}
    return out
