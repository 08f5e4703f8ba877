"""The rows a retraining run works on: training table (+ separate audit table), splits, groups.

Both tables are stacked into one frame (training rows first, then any ``--audit-data`` rows), so
that every array (features, rewards, group codes, twin sets) is indexed by one row number. The
training rows are split into train / dual (/ audit, when no audit table is given) by
:func:`faro_audit.retrain.splits.split_rows`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from faro_audit.errors import FaroInputError
from faro_audit.io.table import AuditTable
from faro_audit.retrain.splits import (
    Splits,
    frame_columns_for_hash,
    split_rows,
    strata_labels,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RetrainData", "prepare_data"]


@dataclass(frozen=True, eq=False)
class RetrainData:
    """Stacked rows and everything indexed by them.

    Attributes
    ----------
    frame : pandas.DataFrame
        Training rows, then audit-table rows (fresh 0..n−1 index).
    group_columns : tuple of str
    splits : Splits
        Train and dual rows (and the held-out audit rows without an audit table).
    audit_rows : numpy.ndarray
        Rows the certificate and the comparison use (audit table rows, else the audit split).
    groups : dict
        attribute → (codes over all rows, −1 where undefined; labels).
    strata : numpy.ndarray
        Joint group label per row over the constraint attributes.
    cf_sets : numpy.ndarray or None
        Twin-set code per row (−1 for none), when ``cf_id`` exists.
    weight, p_human : numpy.ndarray (p_human may be None)
    n_train_table : int
        Rows of the training table (the first rows of ``frame``).
    scoped_groups : bool
        Group columns may be missing outside their scope (one attribute per row, as in the
        built-in suite); passed on to the audit tables of :meth:`table`.
    """

    frame: pd.DataFrame
    group_columns: tuple[str, ...]
    splits: Splits
    audit_rows: np.ndarray
    groups: dict[str, tuple[np.ndarray, tuple[str, ...]]]
    strata: np.ndarray
    cf_sets: np.ndarray | None
    weight: np.ndarray
    p_human: np.ndarray | None
    n_train_table: int
    scoped_groups: bool = False

    @property
    def n_rows(self) -> int:
        return len(self.frame)

    def table(self, rows: np.ndarray, **reward_columns: np.ndarray) -> AuditTable:
        """An :class:`AuditTable` of ``rows`` with reward columns (for the audit)."""
        sub = self.frame.iloc[np.asarray(rows)].reset_index(drop=True).copy()
        for name, values in reward_columns.items():
            sub[name] = np.asarray(values, dtype=np.float64)
        return AuditTable(frame=sub, shape="pairs", group_columns=self.group_columns,
                          scoped_groups=self.scoped_groups)


def _check(table: AuditTable, what: str) -> None:
    if table.shape != "pairs":
        raise FaroInputError(
            f"{what} {table.path or ''}: is a {table.shape} table, but retraining needs preference "
            "pairs (columns prompt, chosen, rejected)"
        )


def prepare_data(
    data: AuditTable,
    *,
    audit_data: AuditTable | None,
    attributes: Sequence[str],
    dual_fraction: float,
    audit_fraction: float,
    random_state: int,
) -> RetrainData:
    """Stack the tables, split the training rows, and encode groups and twin sets.

    Parameters
    ----------
    data : AuditTable
        Training pairs with group columns.
    audit_data : AuditTable, optional
        Held-out pairs for the certificate; without it a share ``audit_fraction`` of the
        training clusters is held out.
    attributes : sequence of str
        Constraint attributes (stratification).
    dual_fraction, audit_fraction : float
    random_state : int

    Raises
    ------
    FaroInputError
        A responses table, or an audit table without the training table's group columns.
    """
    import pandas as pd

    _check(data, "--data")
    groups_cols = tuple(data.group_columns)
    frames = [data.frame.reset_index(drop=True)]
    if audit_data is not None:
        _check(audit_data, "--audit-data")
        missing = [c for c in groups_cols if c not in audit_data.frame.columns]
        if missing:
            raise FaroInputError(
                f"--audit-data {audit_data.path or ''}: group column(s) {', '.join(missing)} are "
                "missing; the audit data needs the training data's group columns"
            )
        frames.append(audit_data.frame.reset_index(drop=True))
    # a column one table lacks takes its SPEC default there (weight 1; p_human 1: the labelled
    # chosen is preferred)
    for col, default in (("weight", 1.0), ("p_human", 1.0)):
        if any(col in f.columns for f in frames):
            frames = [f if col in f.columns else f.assign(**{col: default}) for f in frames]
    frame = pd.concat(frames, ignore_index=True)
    for col in ("reward_chosen", "reward_rejected"):
        if col in frame.columns:
            frame = frame.drop(columns=col)
    n_train = len(frames[0])
    train_part = frame.iloc[:n_train]
    hash_cols = frame_columns_for_hash(frame, groups_cols)
    splits = split_rows(train_part, attributes=attributes, dual_fraction=dual_fraction,
                        audit_fraction=0.0 if audit_data is not None else audit_fraction,
                        random_state=random_state, hash_columns=hash_cols)
    if audit_data is not None:
        audit_rows = np.arange(n_train, len(frame), dtype=np.int64)
    else:
        assert splits.audit is not None
        audit_rows = splits.audit.rows
    groups: dict[str, tuple[np.ndarray, tuple[str, ...]]] = {}
    for col in groups_cols:
        values = frame[col]
        defined = values.notna().to_numpy()
        labels = tuple(sorted(values[defined].astype(str).unique()))
        lookup = {lab: k for k, lab in enumerate(labels)}
        codes = np.full(len(frame), -1, dtype=np.int64)
        codes[defined] = [lookup[v] for v in values[defined].astype(str)]
        groups[col] = (codes, labels)
    cf_sets = None
    if "cf_id" in frame.columns:
        ids = frame["cf_id"]
        # twin sets of the audit table are kept apart from those of the training table
        keyed = ids.astype(str).where(ids.notna(), None)
        src = np.where(np.arange(len(frame)) < n_train, "t", "a")
        keyed = pd.Series([None if k is None else f"{s}:{k}" for s, k in zip(src, keyed)])
        codes_cf, _ = pd.factorize(keyed, use_na_sentinel=True)
        cf_sets = codes_cf.astype(np.int64)
    weight = (frame["weight"].to_numpy(dtype=np.float64) if "weight" in frame.columns
              else np.ones(len(frame)))
    p_human = frame["p_human"].to_numpy(dtype=np.float64) if "p_human" in frame.columns else None
    if p_human is not None and np.isnan(p_human).any():
        raise FaroInputError("column 'p_human' has missing values; fill them (1 = all raters "
                             "prefer chosen) or drop the column")
    return RetrainData(
        frame=frame, group_columns=groups_cols, splits=splits, audit_rows=audit_rows,
        groups=groups, strata=strata_labels(frame, attributes), cf_sets=cf_sets,
        weight=weight, p_human=p_human, n_train_table=n_train,
        scoped_groups=data.scoped_groups or (audit_data is not None and audit_data.scoped_groups),
    )
