"""The audit table (SPEC §1): a validated DataFrame plus what the reader learnt about it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # pandas is imported by the readers, not at package import
    import pandas as pd

Shape = Literal["pairs", "responses"]

#: Text columns each shape requires (group columns come on top).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "pairs": ("prompt", "chosen", "rejected"),
    "responses": ("prompt", "response"),
}
#: Score columns of a scores file, per shape.
SCORE_COLUMNS: dict[str, tuple[str, ...]] = {
    "pairs": ("reward_chosen", "reward_rejected"),
    "responses": ("reward",),
}
#: Optional columns with a meaning of their own (SPEC §1).
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "pairs": ("pair_id", "cf_id", "p_human", "weight", "subset", "cluster_id"),
    "responses": ("label", "cf_id", "weight", "subset", "cluster_id", "pair_id"),
}


@dataclass(frozen=True)
class AuditTable:
    """A validated audit table.

    Attributes
    ----------
    frame
        The rows, with SPEC §1 column names. Group columns hold strings; a group column may hold
        missing values only where ``scoped_groups`` is true (then each attribute is analysed over
        the rows where it is defined, and the counts say so).
    shape
        ``"pairs"`` or ``"responses"``.
    group_columns
        The attributes to audit, in the user's order.
    path, sha256
        Where the table came from and the SHA-256 of that file's bytes (``None`` in memory).
    scoped_groups
        Whether group columns may be missing outside their scope (the built-in suite's axes).
    """

    frame: "pd.DataFrame"
    shape: Shape
    group_columns: tuple[str, ...]
    path: str | None = None
    sha256: str | None = None
    scoped_groups: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def has_scores(self) -> bool:
        """True when every score column of the shape is present."""
        return all(c in self.frame.columns for c in SCORE_COLUMNS[self.shape])

    @property
    def n_rows(self) -> int:
        return int(len(self.frame))

    @property
    def text_columns(self) -> tuple[str, ...]:
        """Response columns to score: ``chosen``/``rejected`` or ``response``."""
        return REQUIRED_COLUMNS[self.shape][1:]

    def with_frame(self, frame: "pd.DataFrame", **changes: object) -> "AuditTable":
        """A copy with another frame (e.g. with reward columns added)."""
        return replace(self, frame=frame, **changes)  # type: ignore[arg-type]

    def where(self, attribute: str) -> "pd.Series":
        """Boolean mask of the rows where ``attribute`` is defined."""
        return self.frame[attribute].notna()
