"""Read audit tables and scores files (SPEC §1) from CSV, JSONL (optionally .gz) and Parquet.

Every problem is a one-line :class:`~faro_audit.errors.FaroInputError` that names the file, the
column, the rows (1-based data rows, header not counted) and the fix. Nothing is dropped
silently: rows with missing group values are an error unless ``drop_missing_groups=True``, and
then the count is recorded in :attr:`AuditTable.notes`.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from faro_audit.errors import FaroError, FaroInputError, FaroUsageError
from faro_audit.io.sanitize import printable
from faro_audit.io.table import REQUIRED_COLUMNS, SCORE_COLUMNS, AuditTable

if TYPE_CHECKING:
    import pandas as pd

#: RewardBench's per-example output names its scores like this.
_REWARDBENCH_SCORES = {"scores_chosen": "reward_chosen", "scores_rejected": "reward_rejected"}
_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet", ".pq")


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cols(columns: Iterable[object], limit: int = 12) -> str:
    """Column names for a message, sanitised (a header may carry escape sequences)."""
    names = [f"'{printable(c, limit=40)}'" for c in list(columns)[: limit + 1]]
    more = ", …" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _rows(mask: "pd.Series", limit: int = 5) -> str:
    """Human row list: 1-based data rows, at most ``limit`` shown."""
    idx = [int(i) + 1 for i in mask.to_numpy().nonzero()[0]]
    shown = ", ".join(str(i) for i in idx[:limit])
    more = f" and {len(idx) - limit} more" if len(idx) > limit else ""
    return f"row{'s' if len(idx) > 1 else ''} {shown}{more}"


#: Environment variable that sets the largest input size in bytes (decompressed for .gz).
MAX_INPUT_ENV = "FARO_MAX_INPUT_BYTES"
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def max_input_bytes() -> int | None:
    """The input size cap: ``$FARO_MAX_INPUT_BYTES`` or min(4 GiB, a quarter of physical memory).

    The variable takes a byte count with an optional binary unit (``500M``, ``8G``, ``8GiB``);
    ``0`` turns the cap off (returns ``None``).
    """
    raw = os.environ.get(MAX_INPUT_ENV, "").strip()
    if raw:
        text = raw.upper().removesuffix("IB").removesuffix("B")
        unit = text[-1:] if text[-1:] in _UNITS and text[-1:] else ""
        try:
            value = float(text[: len(text) - len(unit)]) * _UNITS[unit]
        except ValueError:
            raise FaroUsageError(
                f"{MAX_INPUT_ENV}={printable(raw)!s}: not a size; give bytes, e.g. {MAX_INPUT_ENV}=8G (0 = no cap)"
            ) from None
        if value < 0:
            raise FaroUsageError(f"{MAX_INPUT_ENV}={printable(raw)}: negative; give bytes, e.g. 8G (0 = no cap)")
        return int(value) or None
    cap = 4 << 30
    try:
        cap = min(cap, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4)
    except (AttributeError, ValueError, OSError):
        pass
    return cap


def _too_big(p: Path, cap: int, what: str) -> FaroInputError:
    return FaroInputError(
        f"{printable(p, limit=200)}: {what} more than the input cap of {cap} bytes; "
        f"raise it with {MAX_INPUT_ENV}=<bytes> (e.g. {MAX_INPUT_ENV}=16G, 0 = no cap) if the memory allows"
    )


class _CappedStream(io.RawIOBase):
    """A readable stream that raises :class:`FaroInputError` once more than ``cap`` bytes pass."""

    def __init__(self, raw: "io.BufferedIOBase", cap: int | None, path: Path) -> None:
        self._raw, self._cap, self._path, self.count = raw, cap, path, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        if self._cap is not None and self.count > self._cap:
            raise _too_big(self._path, self._cap, "decompresses to")
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def _open_bytes(p: Path, cap: int | None) -> io.BufferedReader:
    """The file's bytes, gunzipped for ``.gz``, as a stream capped at ``cap`` bytes."""
    import gzip

    raw: io.BufferedIOBase = gzip.open(p, "rb") if p.name.lower().endswith(".gz") else open(p, "rb")  # type: ignore[assignment]
    return io.BufferedReader(_CappedStream(raw, cap, p), buffer_size=1 << 20)


def _records_frame(records: list[object], p: Path, *, lines: bool) -> "pd.DataFrame":
    """A DataFrame of JSON objects, values kept as Python objects (no type guessing)."""
    import pandas as pd

    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            where = f"line {i + 1}" if lines else f"item {i + 1}"
            raise FaroInputError(
                f"{printable(p, limit=200)}: {where} is a JSON {type(rec).__name__}, not an object; "
                "each row must be an object like {\"prompt\": ..., \"chosen\": ...}"
            )
    return pd.DataFrame(records, dtype=object)


def _read_jsonl(stream: io.BufferedReader, p: Path) -> "pd.DataFrame":
    """JSON Lines, one object a line; blank lines skipped; a JSON null is a missing value."""
    records: list[object] = []
    for number, line in enumerate(io.TextIOWrapper(stream, encoding="utf-8-sig"), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise FaroInputError(
                f"{printable(p, limit=200)}: line {number} is not valid JSON ({exc.msg} at column {exc.colno}); "
                "each line must hold one JSON object"
            ) from None
        if not isinstance(records[-1], dict):
            raise FaroInputError(
                f"{printable(p, limit=200)}: line {number} is a JSON {type(records[-1]).__name__}, not an object; "
                "each line must hold one object like {\"prompt\": ..., \"chosen\": ...}"
            )
    return _records_frame(records, p, lines=True)


def _read_json(stream: io.BufferedReader, p: Path) -> "pd.DataFrame":
    """A JSON array of row objects, or any orient pandas reads (dates not guessed)."""
    import pandas as pd

    text = stream.read().decode("utf-8-sig")
    obj = json.loads(text)
    if isinstance(obj, list):
        return _records_frame(obj, p, lines=False)
    return pd.read_json(io.StringIO(text), dtype=False, convert_dates=False, keep_default_dates=False)


def read_frame(path: str | os.PathLike[str]) -> "pd.DataFrame":
    """Read a CSV / TSV / JSONL(.gz) / JSON / Parquet file into a DataFrame, unchanged.

    Only truly empty cells are missing: an empty CSV/TSV cell, a JSON ``null`` or an absent key,
    a Parquet null. ``NA``, ``None``, ``null``, ``N/A``, ``nan``, ``#N/A`` are values (a group
    named ``NA`` is North America). CSV/TSV cells are read as strings (``01`` keeps its zero);
    :func:`validate_table` converts the numeric columns it knows. JSON values are kept as the
    JSON types they are (``1`` and ``1.0`` and ``"1"`` stay distinct as groups).

    The input is capped at :func:`max_input_bytes` (decompressed size for ``.gz``, checked while
    streaming), set by ``$FARO_MAX_INPUT_BYTES``.
    """
    import pandas as pd

    p = Path(path)
    shown = printable(p, limit=200)
    if not p.exists():
        raise FaroInputError(f"{shown}: no such file; check the path given to --data or TARGET")
    if p.is_dir():
        raise FaroInputError(f"{shown}: is a directory, not a data file; give a .csv, .jsonl or .parquet file")
    name = p.name.lower()
    base = name[:-3] if name.endswith(".gz") else name
    suffix = next((s for s in _SUFFIXES if base.endswith(s)), None)
    if suffix is None:
        raise FaroInputError(
            f"{shown}: unknown file type; use .csv, .tsv, .jsonl, .json or .parquet (optionally .gz)"
        )
    size = os.path.getsize(p)
    if size == 0:
        raise FaroInputError(f"{shown}: the file is empty; it needs a header and at least one row")
    cap = max_input_bytes()
    if cap is not None and size > cap:
        raise _too_big(p, cap, "is")
    try:
        if suffix in (".parquet", ".pq"):  # needs seeking; its size on disk was capped above
            frame = pd.read_parquet(p)
        else:
            with _open_bytes(p, cap) as stream:
                if suffix in (".csv", ".tsv"):
                    frame = pd.read_csv(
                        stream, sep="\t" if suffix == ".tsv" else ",", dtype=str,
                        keep_default_na=False, na_values=[""], encoding="utf-8-sig",
                    )
                elif suffix in (".jsonl", ".ndjson"):
                    frame = _read_jsonl(stream, p)
                else:
                    frame = _read_json(stream, p)
    except FaroError:
        raise
    except Exception as exc:  # parser errors of three libraries: report them in one line
        inner = exc.__context__ if isinstance(exc.__context__, FaroError) else None
        if inner is not None:  # the cap tripped inside a parser, which wrapped it
            raise inner from None
        raise FaroInputError(
            f"{shown}: could not be read as {suffix[1:]} ({type(exc).__name__}: {printable(exc, limit=160)})"
        ) from None
    if len(frame) == 0:
        raise FaroInputError(f"{shown}: has a header but no rows; an audit needs data")
    if suffix not in (".parquet", ".pq"):  # Parquet columns carry their own types
        _numeric_columns(frame)
    return frame


#: Columns SPEC §1 defines as numbers; the CSV/TSV/JSON readers convert them when every cell parses.
NUMERIC_COLUMNS = ("reward", "reward_chosen", "reward_rejected", "scores_chosen", "scores_rejected",
                   "weight", "p_human", "label")


def _numeric_columns(frame: "pd.DataFrame") -> None:
    """Convert the SPEC's numeric columns of a CSV (read as text) or JSON (read as objects) to floats, in place.

    A column with a cell that is not a number stays text, so that :func:`validate_table` can
    name the row; empty cells become NaN (then reported as missing by row). Other columns stay
    strings: ids and groups keep their spelling (``01``, ``NA``).
    """
    import pandas as pd

    for col in NUMERIC_COLUMNS:
        if col in frame.columns:
            try:
                values = pd.to_numeric(frame[col], errors="coerce")
            except (TypeError, ValueError):  # lists (RewardBench's one-element scores), objects
                continue
            if not (values.isna() & frame[col].notna()).any():
                frame[col] = values.astype(float)


def detect_shape(columns: Iterable[str], *, source: str = "data") -> str:
    """``pairs`` if ``chosen`` or ``rejected`` is present, ``responses`` if ``response`` is."""
    cols = set(columns)
    if cols & {"chosen", "rejected", "reward_chosen", "reward_rejected"}:
        return "pairs"  # a missing partner column is then reported by name
    if "response" in cols:
        return "responses"
    raise FaroInputError(
        f"{source}: cannot tell the table's shape from its columns {_cols(sorted(map(str, cols)))}; "
        "a pairs table needs 'prompt', 'chosen', 'rejected' and a responses table needs "
        "'prompt', 'response' (or pass --shape)"
    )


def _unwrap_scores(frame: "pd.DataFrame") -> "pd.DataFrame":
    """RewardBench stores scores as numbers or one-element lists; rename them to SPEC names."""
    renames = {k: v for k, v in _REWARDBENCH_SCORES.items() if k in frame.columns and v not in frame.columns}
    if not renames:
        return frame
    frame = frame.rename(columns=renames)
    for col in renames.values():
        frame[col] = frame[col].map(lambda v: v[0] if isinstance(v, (list, tuple)) and len(v) == 1 else v)
    return frame


def validate_table(
    frame: "pd.DataFrame",
    *,
    group: Sequence[str],
    shape: str | None = None,
    source: str = "data",
    require_scores: bool = False,
    drop_missing_groups: bool = False,
    scoped_groups: bool = False,
    min_group_rows: int = 1,
) -> AuditTable:
    """Check a DataFrame against SPEC §1 and return it as an :class:`AuditTable`.

    Parameters
    ----------
    frame
        The rows. Not modified: a converted copy is kept.
    group
        Group columns (at least one). Values become strings.
    shape
        ``"pairs"`` or ``"responses"``; detected from the columns when ``None``.
    source
        Name used in error messages (the file path).
    require_scores
        Demand the score columns of the shape (a scores file).
    drop_missing_groups
        Drop rows with a missing group value (and record how many); else they are an error.
    scoped_groups
        Allow missing group values: each attribute is then analysed over the rows where it is
        defined (the built-in suite, whose axes cover different rows).
    min_group_rows
        Smallest allowed group size (default 1). SPEC §4: a group smaller than the audit's
        ``min_group_size`` is shown, flagged and its constraints are inconclusive, so a group
        of one row is audited, not refused.
    """
    import numpy as np
    import pandas as pd

    frame = _unwrap_scores(frame.copy())
    if shape is None:
        shape = detect_shape(frame.columns, source=source)
    if shape not in REQUIRED_COLUMNS:
        raise FaroUsageError(f"--shape: unknown shape {shape!r}; use 'pairs' or 'responses'")
    for col in REQUIRED_COLUMNS[shape]:
        if col not in frame.columns:
            raise FaroInputError(
                f"{source}: column '{col}' is missing; a {shape} table needs columns "
                f"{', '.join(REQUIRED_COLUMNS[shape])} (found {_cols(frame.columns)})"
            )
    group = tuple(group)
    if not group:
        raise FaroUsageError("--group: no group column given; name at least one, e.g. --group gender")
    notes: list[str] = []
    for col in group:
        if col not in frame.columns:
            raise FaroInputError(
                f"{source}: group column '{printable(col)}' is missing; columns are {_cols(frame.columns, 20)}"
            )
    for col in group:  # an empty string is an empty cell, whatever the format (CSV cannot tell them apart)
        empty = frame[col].map(lambda v: isinstance(v, str) and v == "").astype(bool)
        if empty.any():
            frame[col] = frame[col].astype("object").where(~empty, None)
    missing_any = frame[list(group)].isna().any(axis=1)
    if missing_any.any() and not scoped_groups:
        if drop_missing_groups:
            notes.append(f"dropped {int(missing_any.sum())} rows with a missing group value (as asked)")
            frame = frame.loc[~missing_any].reset_index(drop=True)
        else:
            col = next(c for c in group if frame[c].isna().any())
            raise FaroInputError(
                f"{source}: column '{printable(col)}' has missing group values at {_rows(frame[col].isna())}; "
                "fill them in, or pass --drop-missing-groups to leave those rows out"
            )
    for col in group:
        defined = frame[col].notna()
        frame[col] = frame[col].astype("object").where(~defined, frame[col].astype(str)).where(defined, None)
        counts = frame.loc[defined, col].value_counts()
        tiny = counts[counts < min_group_rows]
        if len(tiny):
            raise FaroInputError(
                f"{source}: group {tiny.index[0]!r} of column '{col}' has {int(tiny.iloc[0])} row(s); "
                f"a group needs at least {min_group_rows} rows to be audited; add rows or merge it into another group"
            )
        if len(counts) < 2:
            raise FaroInputError(
                f"{source}: column '{printable(col)}' has a single group '{printable(counts.index[0])}'; "
                "fairness needs at least two groups to compare"
            )
    for col in REQUIRED_COLUMNS[shape]:
        # Only a missing, empty or all-whitespace text is empty: "None", "NA", "null" are texts.
        bad = frame[col].map(lambda v: v is None or (isinstance(v, float) and v != v)
                             or (isinstance(v, str) and not v.strip())).astype(bool)
        bad |= frame[col].isna().to_numpy()
        if bad.any():
            raise FaroInputError(
                f"{source}: column '{col}' is empty (missing or only whitespace) at {_rows(bad)}; every row needs its text"
            )
        frame[col] = frame[col].astype(str)
    score_cols = SCORE_COLUMNS[shape]
    present = [c for c in score_cols if c in frame.columns]
    if require_scores and len(present) < len(score_cols):
        miss = [c for c in score_cols if c not in frame.columns]
        raise FaroInputError(
            f"{source}: score column '{miss[0]}' is missing; a scores file of shape {shape} needs "
            f"{', '.join(score_cols)} (score a model first with `faro-audit score`)"
        )
    for col in present:
        _numeric(frame, col, source, finite=True)
    if "weight" in frame.columns:
        _numeric(frame, "weight", source, finite=True)
        bad = frame["weight"] < 0
        if bad.any():
            raise FaroInputError(f"{source}: column 'weight' is negative at {_rows(bad)}; weights must be ≥ 0")
        if float(frame["weight"].sum()) <= 0:
            raise FaroInputError(f"{source}: column 'weight' sums to 0; at least one row needs a positive weight")
    if "p_human" in frame.columns:
        _numeric(frame, "p_human", source, finite=True)
        bad = (frame["p_human"] < 0) | (frame["p_human"] > 1)
        if bad.any():
            raise FaroInputError(f"{source}: column 'p_human' is outside [0, 1] at {_rows(bad)}; it is a share of raters")
    if "label" in frame.columns:
        _numeric(frame, "label", source, finite=True)
        bad = ~frame["label"].isin([0, 1])
        if bad.any():
            raise FaroInputError(f"{source}: column 'label' is not 0 or 1 at {_rows(bad)}; use 1 = acceptable, 0 = not")
        frame["label"] = frame["label"].astype(np.int64)
    for col in ("cf_id", "pair_id", "cluster_id", "subset"):
        if col in frame.columns:
            bad = frame[col].isna()
            if bad.any():
                raise FaroInputError(f"{source}: column '{col}' is empty at {_rows(bad)}; give every row an id or drop the column")
            frame[col] = frame[col].astype(str)
    return AuditTable(
        frame=frame,
        shape=shape,  # type: ignore[arg-type]
        group_columns=group,
        scoped_groups=scoped_groups,
        notes=tuple(notes),
    )


def _numeric(frame: "pd.DataFrame", col: str, source: str, *, finite: bool) -> None:
    """Convert ``col`` to float in place, or raise naming the first bad rows."""
    import numpy as np
    import pandas as pd

    values = pd.to_numeric(frame[col], errors="coerce")
    bad = values.isna() & frame[col].notna()
    if bad.any():
        first = frame.loc[bad, col].iloc[0]
        raise FaroInputError(
            f"{source}: column '{col}' is not numeric at {_rows(bad)} (found '{printable(first, limit=40)}'); it must hold numbers"
        )
    if finite:
        nonfinite = ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
        if nonfinite.any():
            raise FaroInputError(
                f"{source}: column '{col}' has missing, NaN or infinite values at "
                f"{_rows(pd.Series(nonfinite))}; every row needs a finite number"
            )
    frame[col] = values.astype(float)


def read_table(
    path: str | os.PathLike[str],
    *,
    group: Sequence[str],
    shape: str | None = None,
    require_scores: bool = False,
    drop_missing_groups: bool = False,
) -> AuditTable:
    """Read and validate an audit table or scores file (SPEC §1).

    Examples
    --------
    >>> table = read_table("scores.csv", group=["gender"], require_scores=True)  # doctest: +SKIP
    """
    frame = read_frame(path)
    table = validate_table(
        frame,
        group=group,
        shape=shape,
        source=str(path),
        require_scores=require_scores,
        drop_missing_groups=drop_missing_groups,
    )
    return table.with_frame(table.frame, path=str(path), sha256=file_sha256(path))
