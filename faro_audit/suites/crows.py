"""CrowS-Pairs-style adapter: minimal sentence pairs as a ``pairs`` audit table.

CrowS-Pairs (Nangia, Vania, Bhalerao and Bowman, 2020, "CrowS-Pairs: A Challenge Dataset for
Measuring Social Biases in Masked Language Models", EMNLP 2020) pairs a sentence that is *more*
stereotyping (``sent_more``) with a minimally different one that is *less* so (``sent_less``),
labelled with a ``bias_type`` and a direction ``stereo_antistereo`` ("stereo": ``sent_more``
states a stereotype about a historically disadvantaged group; "antistereo": ``sent_less``
violates one). In both directions ``sent_less`` is the less stereotyping sentence, so a reward
model that prefers it is the unbiased outcome:

- ``chosen`` = ``sent_less``, ``rejected`` = ``sent_more``;
- ``prompt`` = a fixed neutral instruction, :data:`CROWS_PROMPT` ("Write a sentence."), the same
  for every row, so that chat-formatted reward models get a user turn; pass ``prompt=""`` to
  score the sentences alone. The prompt is identical for both sides of every pair, so it
  favours neither side; it can still shift a model's rewards as a whole;
- group column ``bias_type``; ``stereo_antistereo`` kept when present; ``pair_id`` =
  ``crows:<data row>`` (0-based row of the file, header excluded).

Other columns of the file (annotations, writer ids) are not carried into the table.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from faro_audit.errors import FaroInputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CROWS_PROMPT", "read_crows"]

#: The fixed, neutral instruction used as ``prompt`` for every CrowS pair.
CROWS_PROMPT = "Write a sentence."

_REQUIRED = ("sent_more", "sent_less", "bias_type")
_DIRECTIONS = {"stereo", "antistereo"}


def _bad_rows(mask: pd.Series) -> str:
    idx = [int(i) for i in mask.to_numpy().nonzero()[0][:5]]
    more = "" if int(mask.sum()) <= 5 else f" (and {int(mask.sum()) - 5} more)"
    return f"{idx}{more}"


def read_crows(path: str | Path, *, prompt: str = CROWS_PROMPT) -> pd.DataFrame:
    """Read a CrowS-Pairs-style CSV as a ``pairs`` audit table.

    Parameters
    ----------
    path : str or Path
        A CSV file (``.csv`` or ``.csv.gz``) with columns ``sent_more``, ``sent_less``,
        ``bias_type`` and optionally ``stereo_antistereo``.
    prompt : str, default :data:`CROWS_PROMPT`
        The prompt put on every row ("" for none).

    Returns
    -------
    pandas.DataFrame
        Columns ``prompt``, ``chosen`` (= ``sent_less``), ``rejected`` (= ``sent_more``),
        ``pair_id``, ``bias_type`` and, when present, ``stereo_antistereo``; one row per
        data row, in file order.

    Raises
    ------
    FaroInputError
        If the file is missing or unreadable, a required column is missing, a sentence or
        ``bias_type`` is empty, or ``stereo_antistereo`` holds a value other than
        "stereo"/"antistereo" — naming the file, the column and the 0-based data rows.
    """
    import pandas as pd

    file = Path(path)
    if not file.is_file():
        raise FaroInputError(f"CrowS data: {file} is not a file; pass the path of a CrowS-Pairs CSV")
    try:
        raw = pd.read_csv(file, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as err:
        msg = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise FaroInputError(
            f"CrowS data: {file} cannot be read as CSV ({msg}); save it as a UTF-8 CSV with a header row"
        ) from None
    missing = [c for c in _REQUIRED if c not in raw.columns]
    if missing:
        raise FaroInputError(
            f"CrowS data: {file} lacks the columns {missing} (found {list(raw.columns)[:10]}); "
            "the CSV needs sent_more, sent_less and bias_type"
        )
    if len(raw) == 0:
        raise FaroInputError(f"CrowS data: {file} has a header but no rows; add sentence pairs")
    for column in _REQUIRED:
        empty = raw[column].str.strip() == ""
        if empty.any():
            raise FaroInputError(
                f"CrowS data: {file} column {column!r} is empty in rows {_bad_rows(empty)} "
                "(0-based, header excluded); fill them or remove those rows"
            )
    same = raw["sent_more"].str.strip() == raw["sent_less"].str.strip()
    if same.any():
        raise FaroInputError(
            f"CrowS data: {file} has sent_more equal to sent_less in rows {_bad_rows(same)}; "
            "a pair must differ, fix or remove those rows"
        )
    out = pd.DataFrame(
        {
            "prompt": [prompt] * len(raw),
            "chosen": raw["sent_less"].to_numpy(),
            "rejected": raw["sent_more"].to_numpy(),
            "pair_id": [f"crows:{i}" for i in range(len(raw))],
            "bias_type": raw["bias_type"].str.strip().to_numpy(),
        }
    )
    if "stereo_antistereo" in raw.columns:
        direction = raw["stereo_antistereo"].str.strip()
        wrong = ~direction.isin(list(_DIRECTIONS))
        if wrong.any():
            first = direction[wrong].iloc[0]
            raise FaroInputError(
                f"CrowS data: {file} column 'stereo_antistereo' has {first!r} in rows {_bad_rows(wrong)}; "
                "use 'stereo' or 'antistereo'"
            )
        out["stereo_antistereo"] = direction.to_numpy()
    return out
