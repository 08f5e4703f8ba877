"""Inputs of :func:`faro_audit.stats.certificates.certify` (SPEC §5).

A :class:`Constraint` is a fairness constraint gap(metric, outcome, attribute, method) ≤ ε
(defined in :mod:`faro_audit.vocabulary`, re-exported here); a :class:`MeanSample` is the
cluster-level data behind one group mean; a :class:`CertificateRequest` pairs a constraint with
the group means it involves (one class for DP, one per label class for EO, one spread sample
for CF). All check their fields on
construction and raise :class:`~faro_audit.errors.FaroUsageError` or
:class:`~faro_audit.errors.FaroInputError` with a one-line message.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.vocabulary import Constraint

__all__ = [
    "CertificateRequest",
    "Constraint",
    "ContrastSample",
    "MeanSample",
]


@dataclass(frozen=True, eq=False)
class MeanSample:
    """The data behind one group mean: cluster-level outcomes (clusters already averaged).

    Attributes
    ----------
    key : hashable
        Identity of the mean, e.g. ``("soft", "gender", "label=1", "female")``. Samples with the
        same key are the same mean: they get one interval, counted once by Bonferroni.
    group : str
        Group label shown in reports.
    values : ndarray of shape (n,)
        Cluster-level outcomes in [0, 1].
    sample_weight : ndarray of shape (n,) or None
        Cluster weights (e.g. summed row weights); None for equal weights.
    n_rows : int
        Rows behind the mean (used by the ``min_group_size`` rule and by ``n_required``).
    """

    key: Hashable
    group: str
    values: np.ndarray
    sample_weight: np.ndarray | None
    n_rows: int

    def __post_init__(self) -> None:
        try:
            hash(self.key)
        except TypeError:
            raise FaroUsageError(f"MeanSample key {self.key!r} is not hashable; use a tuple of strings") from None
        self._freeze("values", "values are not numbers; pass outcomes in [0, 1]")
        if self.sample_weight is not None:
            self._freeze("sample_weight", "sample_weight is not numeric")
        n_rows = int(self.n_rows)
        if n_rows < 0:
            raise FaroUsageError(f"MeanSample {self.key!r}: n_rows={n_rows} is negative")
        object.__setattr__(self, "n_rows", n_rows)
        object.__setattr__(self, "group", str(self.group))

    def _freeze(self, name: str, problem: str) -> None:
        """Replace field ``name`` by a read-only float64 copy; FaroInputError if not numeric."""
        try:
            arr = np.array(getattr(self, name), dtype=np.float64, copy=True)
        except (TypeError, ValueError):
            raise FaroInputError(f"MeanSample {self.key!r}: {problem}") from None
        arr.setflags(write=False)
        object.__setattr__(self, name, arr)

    def same_data(self, other: MeanSample) -> bool:
        """Whether two samples carry the same data (then one key may name both).

        Parameters
        ----------
        other : MeanSample

        Returns
        -------
        bool
            True when ``other`` has equal values, weights (both None or equal) and row count.
        """
        if self.n_rows != other.n_rows or not np.array_equal(self.values, other.values):
            return False
        if self.sample_weight is None or other.sample_weight is None:
            return self.sample_weight is None and other.sample_weight is None
        return bool(np.array_equal(self.sample_weight, other.sample_weight))


@dataclass(frozen=True, eq=False)
class ContrastSample:
    """Per-unit contrasts behind one paired difference of group means (SPEC §5.4, paired).

    In a twin-set design every set k holds each group once, so m_a − m_b is the mean over sets
    of d_k = o_{a,k} − o_{b,k} ∈ [−1, 1] (between groups), and m_a − m_pool the mean of
    o_{a,k} − Σ_b w_b o_{b,k} (anchored). The set effect cancels in d_k, which is why the paired
    bound is far tighter than the box of two group-mean intervals.

    Attributes
    ----------
    key : hashable
        Identity of the contrast (one interval per key and level).
    label : str
        Shown in reports, e.g. ``"woman − man"``.
    values : ndarray of shape (n,)
        Per-unit mean contrasts in [−1, 1]. A unit is a twin set, or the sets joined by a
        shared cluster (then the unit's value is the mean over its sets).
    sample_weight : ndarray of shape (n,) or None
        Sets per unit (None when every unit is one set).
    n_units : int
        Twin sets behind the contrast.
    """

    key: Hashable
    label: str
    values: np.ndarray
    sample_weight: np.ndarray | None
    n_units: int

    def __post_init__(self) -> None:
        try:
            arr = np.array(self.values, dtype=np.float64, copy=True)
        except (TypeError, ValueError):
            raise FaroInputError(f"ContrastSample {self.key!r}: values are not numbers") from None
        if arr.ndim != 1 or arr.size == 0:
            raise FaroInputError(f"ContrastSample {self.key!r}: give a non-empty 1-D array of contrasts")
        if np.any(~np.isfinite(arr)) or np.any(np.abs(arr) > 1.0 + 1e-12):
            raise FaroInputError(f"ContrastSample {self.key!r}: contrasts of outcomes in [0, 1] lie in [-1, 1]")
        arr.setflags(write=False)
        object.__setattr__(self, "values", np.clip(arr, -1.0, 1.0))
        if self.sample_weight is not None:
            w = np.array(self.sample_weight, dtype=np.float64, copy=True)
            if w.shape != arr.shape or np.any(~np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
                raise FaroInputError(f"ContrastSample {self.key!r}: sample_weight must be one weight >= 0 per unit")
            w.setflags(write=False)
            object.__setattr__(self, "sample_weight", w)
        object.__setattr__(self, "n_units", int(self.n_units))
        object.__setattr__(self, "label", str(self.label))


@dataclass(frozen=True, eq=False)
class CertificateRequest:
    """One constraint and the group means it involves.

    Attributes
    ----------
    constraint : Constraint
    classes : tuple of tuples of MeanSample
        DP: one class holding every group; EO: one tuple per label class; CF: one class with a
        single MeanSample of twin-set spreads.
    shares : tuple of tuples of float, optional
        Per class, the group shares w_b (summing to 1) of the pooled mean used by the anchored
        gap (``to_overall``). When None, shares proportional to ``n_rows`` are used.
    class_labels : tuple of str, optional
        Names of the classes (e.g. ``("label=0", "label=1")``), used to label group intervals
        when there is more than one class; default ``class 1``, ``class 2``, ...
    paired : tuple of tuples of ContrastSample, optional
        Paired design (twin sets holding each group once): per class, the contrasts the gap is
        bounded from — every pair a < b of the class's groups in order (between groups), or
        one contrast to the pooled mean per group (anchored). None: unpaired (box) design.
    binary : bool
        The outcome is hard by construction (``--bound auto`` may then use Clopper–Pearson).
    design_note : str
        Why this design was chosen (e.g. why twin sets could not be paired), for the report.
    """

    constraint: Constraint
    classes: tuple[tuple[MeanSample, ...], ...]
    shares: tuple[tuple[float, ...], ...] | None = None
    class_labels: tuple[str, ...] | None = None
    paired: tuple[tuple[ContrastSample, ...], ...] | None = None
    binary: bool = False
    design_note: str = ""

    @property
    def design(self) -> str:
        """``paired``, ``unpaired`` or, for cf, ``twin-set spreads``."""
        if self.constraint.metric == "cf":
            return "twin-set spreads"
        return "paired" if self.paired is not None else "unpaired"

    def __post_init__(self) -> None:
        c = self.constraint
        name = f"{c.metric}@{c.attribute}"
        classes = tuple(tuple(cls) for cls in self.classes)
        object.__setattr__(self, "classes", classes)
        if not classes or any(len(cls) == 0 for cls in classes):
            raise FaroInputError(f"constraint {name}: no group means to certify (an empty class); check the group column")
        if c.metric == "cf" and (len(classes) != 1 or len(classes[0]) != 1):
            raise FaroUsageError(f"constraint {name}: cf takes one class with one MeanSample of twin-set spreads")
        if c.metric == "dp" and len(classes) != 1:
            raise FaroUsageError(f"constraint {name}: dp takes one class holding every group, got {len(classes)}")
        if c.metric != "cf" and max(len(cls) for cls in classes) < 2:
            raise FaroInputError(
                f"constraint {name}: only one group ({classes[0][0].group!r}) has rows; a gap needs at least two groups"
            )
        for cls in classes:
            labels = [s.group for s in cls]
            if len(set(labels)) != len(labels):
                raise FaroUsageError(f"constraint {name}: group labels repeat within a class: {labels}")
        if self.shares is None:
            by_rows: list[tuple[float, ...]] = []
            for cls in classes:
                rows = np.array([s.n_rows for s in cls], dtype=float)
                by_rows.append(tuple(rows / rows.sum()) if rows.sum() > 0 else tuple(np.full(len(cls), 1.0 / len(cls))))
            object.__setattr__(self, "shares", tuple(by_rows))
        else:
            shares = tuple(tuple(float(v) for v in sh) for sh in self.shares)
            if len(shares) != len(classes) or any(len(sh) != len(cls) for sh, cls in zip(shares, classes)):
                raise FaroUsageError(f"constraint {name}: shares must give one weight per group in each class")
            for sh in shares:
                if any(not math.isfinite(v) or v < 0 for v in sh) or abs(sum(sh) - 1.0) > 1e-6:
                    raise FaroUsageError(f"constraint {name}: group shares {sh} must be >= 0 and sum to 1")
            object.__setattr__(self, "shares", shares)
        if self.class_labels is not None:
            names = tuple(str(v) for v in self.class_labels)
            if len(names) != len(classes):
                raise FaroUsageError(f"constraint {name}: {len(names)} class labels for {len(classes)} classes")
            object.__setattr__(self, "class_labels", names)
        if self.paired is not None:
            paired = tuple(tuple(p) for p in self.paired)
            if c.metric == "cf" or len(paired) != len(classes):
                raise FaroUsageError(f"constraint {name}: paired contrasts need one tuple per class (not for cf)")
            for cls, pc in zip(classes, paired):
                k = len(cls)
                want = k * (k - 1) // 2 if c.method == "between_groups" else k
                if k >= 2 and len(pc) != want:
                    raise FaroUsageError(
                        f"constraint {name}: {len(pc)} paired contrasts for {k} groups; {c.method} needs {want}"
                    )
            object.__setattr__(self, "paired", paired)
