"""Score a table in a worker process, so a cold start's imports run on two cores at once.

A cold ``faro-audit report model/`` spends most of its time importing: torch and the model
classes for scoring (about 9 s on 2 cores), scipy, statsmodels, matplotlib and the report
templates for the audit (about 2.5 s). Python imports hold the GIL, so a thread cannot overlap
them; a process can. :func:`start_scoring` starts a ``spawn`` worker that loads the model and
scores the table (the same :func:`~faro_audit.models.load_scorer` and
:func:`~faro_audit.models.score_table` calls, so the same scores, cache and errors) while the
caller goes on importing; :meth:`ScoringJob.result` waits for it.

The worker is used only when it can help: when torch is not imported yet in this process (a
fresh CLI run). Once torch is loaded, or with ``FARO_SCORE_IN_PROCESS=1``, scoring runs in
this process, exactly as before.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

__all__ = ["ScoringJob", "start_scoring", "use_worker"]


def use_worker() -> bool:
    """Whether :func:`start_scoring` runs a worker: torch not yet imported here, and not
    turned off with ``FARO_SCORE_IN_PROCESS``."""
    return "torch" not in sys.modules and not os.environ.get("FARO_SCORE_IN_PROCESS")


def _job(table: Any, target: str, model_options: dict[str, Any], cache: bool,
         cache_dir: str | None) -> tuple[Any, Any, dict[str, Any], str]:
    """Load the scorer and score ``table`` (runs in the worker, or here)."""
    from faro_audit.models import load_scorer, score_table

    scorer = load_scorer(target, **model_options)
    scored, scoring = score_table(table, scorer, cache=cache, cache_dir=cache_dir)
    return scored, scoring, scorer.describe(), scorer.fingerprint


def _worker_main(conn: Any, args: tuple[Any, ...]) -> None:
    """Worker process: run :func:`_job`, send ``("ok", result)`` or ``("error", exception)``.

    The worker ignores Ctrl-C: the parent gets it, stops the worker and reports it once.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import threading

        from tqdm import tqdm

        # A thread lock, not tqdm's default multiprocessing one: a worker that dies leaves no
        # semaphore behind for the resource tracker to warn about on the user's terminal.
        tqdm.set_lock(threading.RLock())
    except ImportError:  # pragma: no cover - tqdm is a dependency
        pass
    try:
        message: tuple[str, Any] = ("ok", _job(*args))
    except BaseException as err:  # noqa: BLE001 - every failure goes back to the parent
        message = ("error", err)
    try:
        conn.send(message)
    except Exception as err:  # noqa: BLE001 - an exception that does not pickle
        conn.send(("error", RuntimeError(f"{type(message[1]).__name__}: {message[1]} ({err})")))
    conn.close()


@dataclass
class ScoringJob:
    """A scoring job: running in a worker process, or already done in this one (``done``)."""

    process: Any = None
    conn: Any = None
    done: tuple[Any, Any, dict[str, Any], str] | None = None
    target: str = "TARGET"

    def result(self) -> tuple[Any, Any, dict[str, Any], str]:
        """``(scored_table, scoring_info, scorer.describe(), scorer.fingerprint)``; re-raises
        the worker's error (a :class:`~faro_audit.errors.FaroError` keeps its message)."""
        if self.done is not None:
            return self.done
        try:
            status, payload = self.conn.recv()
        except (EOFError, OSError):
            self.process.join()
            from faro_audit.errors import FaroInputError

            code = self.process.exitcode
            how = (f"was killed by signal {-code}" if isinstance(code, int) and code < 0
                   else f"exited with code {code}")
            raise FaroInputError(f"TARGET {self.target}: the scoring process {how} before it "
                                 "returned scores (the scorer crashed, ran out of memory, or ended "
                                 "the process); no verdict was reached: fix the scorer, or rerun "
                                 "with FARO_SCORE_IN_PROCESS=1 to see the failure") from None
        finally:
            self.stop()
        if status == "error":
            raise payload
        self.done = payload
        return payload

    def stop(self) -> None:
        """End the worker (done or not) and release its pipe; safe to call twice."""
        if self.process is None:
            return
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()
        self.conn.close()
        self.process = None


def start_scoring(table: Any, target: str, *, model_options: dict[str, Any], cache: bool = True,
                  cache_dir: str | None = None, worker: bool | None = None) -> ScoringJob:
    """Start scoring ``table`` with the model at ``target``; see the module docstring.

    Parameters
    ----------
    table : AuditTable
        The audit table to score.
    target : str
        Model directory or ``module:function``, as for :func:`~faro_audit.models.load_scorer`.
    model_options : dict
        Keyword arguments of :func:`~faro_audit.models.load_scorer`.
    cache, cache_dir
        As for :func:`~faro_audit.models.score_table`.
    worker : bool or None
        Score in a worker process (``True``), here (``False``), or decide by
        :func:`use_worker` (``None``, the default).

    Returns
    -------
    ScoringJob
        Call :meth:`ScoringJob.result` for the result; call :meth:`ScoringJob.stop` if the
        caller gives up first (an error or Ctrl-C of its own).
    """
    args = (table, target, dict(model_options), cache, cache_dir)
    if not (use_worker() if worker is None else worker):
        return ScoringJob(done=_job(*args))
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_worker_main, args=(child, args), name="faro-scoring", daemon=True)
    process.start()
    child.close()
    return ScoringJob(process=process, conn=parent, target=target)
