"""``retrain(...)``: Faro retraining of a flagged reward model, end to end (SPEC §7, §5.5).

1. Split the training pairs (stratified by group, by cluster) into train / dual (/ audit).
2. Play ProxyGDA (:mod:`faro_audit.retrain.proxygda`, through
   :func:`faro_audit.retrain.runs.train_run`) in the chosen mode and select a checkpoint on the
   dual split; declared slack s = max_j (g_j − ε_j)⁺ there.
3. Save the model into a temporary directory next to ``out`` and, when everything is written,
   rename it to ``out`` (atomic on one file system). An interruption (Ctrl-C) or an error
   removes the temporary directory; ``out`` is never half-written, and the input directory is
   only read.
4. Compare, on the held-out audit rows, the input model, unconstrained retraining with the
   same budget, group reweighting, per-group margin shift and Faro (``comparison.json``;
   :func:`faro_audit.retrain.runs.compare_methods`).
5. Audit the input and the retrained model on the held-out rows with the certificate and the
   Faro slack check UCB ≤ ε + s (``audit_before.json``, ``audit.json``).
6. Optionally sweep the tolerances (``sweep.json``).
7. Write the report of the held-out audit with the before/after comparison (and the sweep) in
   ``report/`` (``report.html``, ``report.json``, ``junit.xml``, ``summary.md``), inside the
   temporary directory, so it is renamed with the rest.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from faro_audit.audit.constraints import ConstraintSpec, expand_constraints
from faro_audit.errors import FaroUsageError
from faro_audit.io.table import AuditTable
from faro_audit.retrain.compare import Comparison
from faro_audit.retrain.constraints import TrainingConstraint
from faro_audit.retrain.data import RetrainData, prepare_data
from faro_audit.retrain.loading import dir_sha256
from faro_audit.retrain.manifest import (
    MANIFEST_NAME,
    SPLITS_NAME,
    build_manifest,
    write_json,
)
from faro_audit.retrain.proxygda import GDAResult
from faro_audit.retrain.runs import (
    compare_methods,
    progress_enabled,
    sweep_tolerances,
    train_run,
)
from faro_audit.retrain.session import Session
from faro_audit.retrain.settings import RetrainSettings
from faro_audit.retrain.splits import split_summary
from faro_audit.retrain.sweep import DEFAULT_FACTORS, SweepResult

#: Sub-directory of the output model directory holding the report.
REPORT_DIR = "report"

__all__ = ["REPORT_DIR", "RetrainResult", "RetrainSettings", "resolve_constraints", "retrain"]


@dataclass(frozen=True)
class RetrainResult:
    """What :func:`retrain` produced (everything is also written into ``out_dir``).

    ``report_dir`` is ``out_dir/report``: the HTML/JSON/JUnit/Markdown report of the held-out
    audit of the retrained model, with the before/after comparison (and the sweep).
    """

    out_dir: str
    manifest: dict[str, Any]
    gda: GDAResult
    comparison: Comparison
    audit: Any = None
    audit_before: Any = None
    sweep: SweepResult | None = None
    report_dir: str | None = None


def resolve_constraints(specs: Sequence[str | ConstraintSpec], table: AuditTable) -> list[TrainingConstraint]:
    """``--max-gap`` values → one :class:`TrainingConstraint` per attribute (audit grammar)."""
    if not specs:
        raise FaroUsageError("--max-gap: retraining needs at least one constraint, e.g. "
                             "--max-gap dp_anchored@gender=0.05")
    expanded = expand_constraints(specs, attributes=table.group_columns,
                                  has_twins="cf_id" in table.frame.columns, has_labels=True,
                                  explicit=True)
    return [TrainingConstraint.from_spec(s) for s in expanded]


def _audit(data: RetrainData, rows: np.ndarray, margins_rc_rr: tuple[np.ndarray, np.ndarray],
           constraints: Sequence[TrainingConstraint], settings: RetrainSettings,
           manifest: dict[str, Any] | None, target: dict[str, Any]) -> Any:
    from faro_audit.audit.run import audit_table

    rc, rr = margins_rc_rr
    table = data.table(rows, reward_chosen=rc, reward_rejected=rr)
    return audit_table(table, max_gap=tuple(c.text for c in constraints), delta=settings.delta,
                       bound=settings.bound, seed=settings.seed, n_boot=settings.n_boot,
                       temperature=settings.temperature, manifest=manifest,
                       target_info=target, data_info={"path": "held-out audit rows",
                                                      "n_rows": len(rows)})


def _check_out(out: Path, model: Path) -> None:
    if out.resolve() == model.resolve():
        raise FaroUsageError(f"--out {out}: is the input model directory; the input is never "
                             "written to, so choose a new directory")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FaroUsageError(f"--out {out}: already exists and is not empty; choose a new "
                             "directory or remove it")


def retrain(
    model: str | os.PathLike[str],
    data: AuditTable,
    *,
    constraints: Sequence[str | ConstraintSpec],
    out: str | os.PathLike[str],
    audit_data: AuditTable | None = None,
    settings: RetrainSettings | None = None,
    sweep: bool | Sequence[float] = False,
    progress: bool | None = None,
    log: Callable[[str], None] | None = None,
) -> RetrainResult:
    """Retrain ``model`` under fairness constraints with ProxyGDA and save it to ``out``.

    Parameters
    ----------
    model : path
        Hugging Face reward-model directory (read only).
    data : AuditTable
        Training pairs with group columns (and ``cf_id`` for ``cf`` constraints).
    constraints : sequence of str or ConstraintSpec
        ``--max-gap`` values, e.g. ``"dp_anchored:hard@gender=0.05"``.
    out : path
        New output directory (must not exist or be empty).
    audit_data : AuditTable, optional
        Held-out pairs for the certificate; else ``settings.audit_fraction`` of ``data`` is held out.
    settings : RetrainSettings, optional
    sweep : bool or sequence of float
        Tolerance sweep: ``True`` for factors (0.25, 0.5, 1, 2, 4) of every ε, or the factors.
    progress : bool, optional
        Show progress bars (default: when stderr is a terminal).
    log : callable, optional
        Receives one-line status messages.

    Returns
    -------
    RetrainResult
    """
    from faro_audit.io.outputs import Output, check_outputs

    check_outputs([Output("out", os.fspath(out), is_dir=True)],  # before any work (issue 12)
                  {"model": os.fspath(model), "data": data.path,
                   "audit_data": None if audit_data is None else audit_data.path})
    s = settings or RetrainSettings()
    say = log or (lambda _msg: None)
    show = progress_enabled(progress)
    model_path, out_path = Path(model), Path(out)
    _check_out(out_path, model_path)
    cons = resolve_constraints(constraints, data)
    if not 0 <= s.margin < min(c.epsilon for c in cons):
        raise FaroUsageError(f"--margin {s.margin:g}: must be ≥ 0 and below every tolerance "
                             f"(smallest ε = {min(c.epsilon for c in cons):g})")
    train_cons = [replace(c, epsilon=c.epsilon - s.margin) for c in cons]
    attrs = list(dict.fromkeys(c.attribute for c in cons if c.metric != "cf" and c.attribute))
    rd = prepare_data(data, audit_data=audit_data, attributes=attrs,
                      dual_fraction=s.dual_fraction, audit_fraction=s.audit_fraction,
                      random_state=s.seed)
    input_sha = dir_sha256(model_path)
    say(f"loading {model_path} ({s.mode} mode)")
    session = _open_session(model_path, rd, s, show)
    audit_rows = rd.audit_rows
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_path.name}.faro-tmp-", dir=out_path.parent))
    try:
        say(f"Faro: {s.gda.steps} steps, constraints {', '.join(c.text for c in cons)}")
        faro_model, result, cset = train_run(session, rd, train_cons, s, row_weight=rd.weight,
                                             label="faro", progress=show)
        faro_rc_rr = faro_model.rewards_eval(audit_rows)
        manifest = build_manifest(
            result=result, cset=cset, claimed=cons, delta=s.delta, temperature=s.temperature,
            input_model={"path": str(model_path.resolve()), "sha256": input_sha},
            data_info={"path": data.path, "sha256": data.sha256, "n_rows": data.n_rows,
                       "audit_path": None if audit_data is None else audit_data.path,
                       "audit_sha256": None if audit_data is None else audit_data.sha256},
            splits={**rd.splits.as_dict(), "rows_file": SPLITS_NAME,
                    "rows_per_group": split_summary(rd.splits, rd.strata),
                    "audit_rows": "audit table" if audit_data is not None else "audit split"},
            settings=_settings_dict(s, session),
        )
        faro_model.save(tmp)
        del faro_model
        write_json(tmp / MANIFEST_NAME, manifest)
        write_json(tmp / SPLITS_NAME, rd.splits.rows_dict())
        comparison = compare_methods(session, rd, cons, s, faro_rc_rr, result,
                                     manifest["declared_slack"], show)
        write_json(tmp / "comparison.json", comparison.to_dict())
        say("auditing the input and the retrained model on the held-out rows")
        audit_before = _audit(rd, audit_rows, session.original_rewards_on(audit_rows), cons, s, None,
                              {"kind": "reward_model", "path": str(model_path), "sha256": input_sha})
        audit = _audit(rd, audit_rows, faro_rc_rr, cons, s, manifest,
                       {"kind": "reward_model", "path": str(out_path), "retrained_from": input_sha})
        write_json(tmp / "audit_before.json", audit_before.to_dict())
        write_json(tmp / "audit.json", audit.to_dict())
        sweep_result = None
        if sweep:
            factors = DEFAULT_FACTORS if sweep is True else tuple(float(f) for f in sweep)  # type: ignore[arg-type]
            sweep_result = sweep_tolerances(session, rd, cons, s, factors, show, say)
            write_json(tmp / "sweep.json", sweep_result.to_dict())
        report = _write_report(tmp / REPORT_DIR, audit, audit_before, comparison, sweep_result)
        if dir_sha256(model_path) != input_sha:  # defensive: the input must be untouched
            raise RuntimeError(f"the input model directory {model_path} changed during retraining")
        if out_path.exists():
            out_path.rmdir()  # empty (checked above)
        os.replace(tmp, out_path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    say(f"wrote {out_path}")
    say(f"report: {out_path / REPORT_DIR / report['html'].name}")
    return RetrainResult(str(out_path), manifest, result, comparison, audit, audit_before,
                         sweep_result, str(out_path / REPORT_DIR))


def _write_report(where: Path, audit: Any, audit_before: Any, comparison: Comparison,
                  sweep: SweepResult | None) -> dict[str, Path]:
    """The report of the retrained model's held-out audit, with the comparison in ``extras``.

    ``extras`` gets ``retrain_comparison`` (:meth:`Comparison.to_dict`), ``retrain_sweep``
    (when swept), ``audit_before_verdict`` and ``audit_before_certificates`` (the input
    model's held-out audit); the report's "Retraining: before and after" section shows them
    (:mod:`faro_audit.report.retrain_section`).
    """
    from faro_audit.report.retrain_section import before_certificates
    from faro_audit.report.writer import write_report

    extras: dict[str, Any] = {
        "retrain_comparison": comparison.to_dict(),
        "audit_before_verdict": str(audit_before.verdict),
        "audit_before_certificates": before_certificates(audit_before.certificates),
    }
    if sweep is not None:
        extras["retrain_sweep"] = sweep.to_dict()
    return write_report(replace(audit, extras={**audit.extras, **extras}), where)


def _open_session(model_path: Path, rd: RetrainData, s: RetrainSettings, show: bool) -> Session:
    """Load the input model (head mode: and capture the features, with a progress bar)."""
    from tqdm.auto import tqdm

    bar = tqdm(total=2 * rd.n_rows, desc="features", unit="text", disable=not show or s.mode != "head",
               leave=False, file=sys.stderr, dynamic_ncols=True)
    try:
        return Session(str(model_path), rd, mode=s.mode, options=s.model,
                       progress=lambda done, total: bar.update(done - bar.n))
    finally:
        bar.close()


def _settings_dict(s: RetrainSettings, session: Session) -> dict[str, Any]:
    out = asdict(s)
    out["session"] = session.describe()
    return out
