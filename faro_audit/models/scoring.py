"""``score_table``: add reward columns to an :class:`~faro_audit.io.table.AuditTable`.

Steps: collect every (prompt, response) text of the table (``chosen`` and ``rejected`` for
pairs, ``response`` for responses), score each distinct text once, look it up in the on-disk
cache first (keyed by the scorer's fingerprint and the text's hash), score the rest in
batches and write each finished batch to the cache (so an interrupted run resumes), then put
the scores back on the rows in input order. Scores must be finite. Rows whose text was cut
to ``max_length`` are counted per group and noted on the table; nothing is dropped.

``check_batch_invariance=N`` rescores the first N newly scored texts one at a time and
reports the largest absolute difference from their batched scores (0 to skip).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.io.table import SCORE_COLUMNS, AuditTable
from faro_audit.models.base import iter_batches
from faro_audit.models.fingerprint import text_key

if TYPE_CHECKING:
    from faro_audit.models.base import Scorer


@dataclass(frozen=True)
class ScoringInfo:
    """What one :func:`score_table` call did.

    Attributes
    ----------
    n_texts
        Distinct (prompt, response) texts in the table.
    n_from_cache
        Of those, found in the cache.
    n_scored
        Of those, scored by the model in this call (``n_texts - n_from_cache``).
    seconds
        Wall time of the call.
    rows_per_second
        Texts scored per second of model time (cache hits excluded); ``nan`` if none scored.
    truncated_by_group
        ``{attribute: {group: rows}}``: rows with a text cut to ``max_length``, per group.
    n_truncated
        Rows with a text cut to ``max_length``.
    batch_invariance_max_abs_diff
        Largest |batched − unbatched| score over the checked texts; ``None`` if not checked.
    fingerprint, settings
        The scorer's fingerprint and settings.
    """

    n_texts: int
    n_from_cache: int
    n_scored: int
    seconds: float
    rows_per_second: float
    truncated_by_group: dict[str, dict[str, int]]
    n_truncated: int
    batch_invariance_max_abs_diff: float | None
    fingerprint: str
    settings: dict[str, Any] = field(default_factory=dict)


def _texts(table: AuditTable) -> tuple[list[str], list[str]]:
    """Prompts and responses of every text column, column after column."""
    frame = table.frame
    prompts: list[str] = []
    responses: list[str] = []
    for col in ("prompt", *table.text_columns):
        if col not in frame.columns:
            raise FaroInputError(f"data: no column {col!r}; a {table.shape} table needs it")
        bad = frame[col].map(lambda v: not isinstance(v, str)).to_numpy()
        if bad.any():
            rows = np.flatnonzero(bad)[:5] + 1
            raise FaroInputError(f"data: column {col!r} has missing or non-text values at rows "
                                 f"{', '.join(map(str, rows))}; fill or remove them")
    p = frame["prompt"].tolist()
    for col in table.text_columns:
        prompts.extend(p)
        responses.extend(frame[col].tolist())
    return prompts, responses


def _progress(total: int, progress: bool | None) -> Any:
    from tqdm.auto import tqdm

    disable = (not sys.stderr.isatty()) if progress is None else (not progress)
    return tqdm(total=total, unit="row", desc="faro-audit score", disable=disable,
                file=sys.stderr, dynamic_ncols=True, smoothing=0.1)


def score_table(table: AuditTable, scorer: Scorer, *, cache_dir: str | None = None,
                progress: bool | None = None, check_batch_invariance: int = 16,
                cache: bool = True) -> tuple[AuditTable, ScoringInfo]:
    """Score every text of ``table`` with ``scorer`` and add the reward columns.

    Parameters
    ----------
    table
        A ``pairs`` table (gets ``reward_chosen``, ``reward_rejected``) or a ``responses``
        table (gets ``reward``). Existing score columns are replaced.
    scorer
        From :func:`~faro_audit.models.load_scorer`, or any object with ``fingerprint`` and
        ``score(prompts, responses)``.
    cache_dir
        Score cache directory (default ``$FARO_AUDIT_CACHE`` or ``~/.cache/faro-audit``).
    progress
        Progress bar on stderr: ``None`` shows it only when stderr is a terminal.
    check_batch_invariance
        Number of newly scored texts to rescore unbatched (0: skip).
    cache
        Use the on-disk cache (``False``: score everything, write nothing).

    Returns
    -------
    (AuditTable, ScoringInfo)
    """
    if check_batch_invariance < 0:
        raise FaroUsageError(f"check_batch_invariance={check_batch_invariance}: must be >= 0")
    t0 = time.perf_counter()
    prompts, responses = _texts(table)
    keys = [text_key(p, r) for p, r in zip(prompts, responses)]
    first: dict[str, int] = {}
    for i, k in enumerate(keys):
        first.setdefault(k, i)
    uniq = list(first)  # distinct keys in first-seen order
    found: dict[str, tuple[float, bool]] = {}
    store = None
    fp = str(scorer.fingerprint)
    if cache:
        from faro_audit.models.cache import ScoreCache

        store = ScoreCache(cache_dir)
    try:
        if store is not None:
            found = store.get(fp, uniq)
        todo = [k for k in uniq if k not in found]
        todo_p = [prompts[first[k]] for k in todo]
        todo_r = [responses[first[k]] for k in todo]
        results: dict[str, tuple[float, bool]] = dict(found)
        batch_size = int(getattr(scorer, "batch_size", 32))
        model_seconds = 0.0
        bar = _progress(len(todo), progress)
        try:
            t_model = time.perf_counter()
            for batch in iter_batches(scorer, todo_p, todo_r, batch_size=batch_size):
                scores = np.asarray(batch.scores, dtype=np.float64)
                if not np.all(np.isfinite(scores)):
                    j = int(batch.indices[np.flatnonzero(~np.isfinite(scores))[0]])
                    raise FaroInputError(
                        f"TARGET gave a non-finite reward ({scores[~np.isfinite(scores)][0]}) for "
                        f"prompt {todo_p[j][:60]!r}; check the model (try --dtype float32)")
                items = [(todo[j], float(s), bool(t))
                         for j, s, t in zip(batch.indices, scores, batch.truncated)]
                if store is not None:
                    store.put(fp, items)
                results.update((k, (s, t)) for k, s, t in items)
                bar.update(len(batch.indices))
            model_seconds = time.perf_counter() - t_model
        finally:
            bar.close()
    finally:
        if store is not None:
            store.close()
    max_diff = None
    if check_batch_invariance and todo:
        m = min(check_batch_invariance, len(todo))
        single = np.array([float(np.asarray(scorer.score([todo_p[j]], [todo_r[j]]))[0])
                           for j in range(m)])
        batched = np.array([results[todo[j]][0] for j in range(m)])
        max_diff = float(np.max(np.abs(single - batched)))
    scores_all = np.array([results[k][0] for k in keys])
    trunc_all = np.array([results[k][1] for k in keys], dtype=bool)
    n = table.n_rows
    frame = table.frame.copy()
    for c, col in enumerate(SCORE_COLUMNS[table.shape]):
        frame[col] = scores_all[c * n:(c + 1) * n]
    row_trunc = trunc_all.reshape(len(table.text_columns), n).any(axis=0)
    by_group: dict[str, dict[str, int]] = {}
    for attr in table.group_columns:
        values = table.frame[attr]
        defined = values.notna().to_numpy()
        counts: dict[str, int] = {}
        for g, t in zip(values.to_numpy()[defined], row_trunc[defined]):
            counts[str(g)] = counts.get(str(g), 0) + int(t)
        by_group[attr] = dict(sorted(counts.items()))
    n_trunc = int(row_trunc.sum())
    notes = table.notes
    describe = scorer.describe() if hasattr(scorer, "describe") else {}
    settings = dict(describe.get("settings", {}))
    if n_trunc:
        notes = (*notes, (f"{n_trunc} of {n} rows had a text cut to max_length="
                          f"{settings.get('max_length')} tokens before scoring"))
    info = ScoringInfo(
        n_texts=len(uniq), n_from_cache=len(found), n_scored=len(todo),
        seconds=time.perf_counter() - t0,
        rows_per_second=(len(todo) / model_seconds) if todo and model_seconds > 0 else float("nan"),
        truncated_by_group=by_group, n_truncated=n_trunc,
        batch_invariance_max_abs_diff=max_diff, fingerprint=fp, settings=settings,
    )
    return table.with_frame(frame, notes=notes), info
