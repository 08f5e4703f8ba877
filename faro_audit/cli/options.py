"""Options shared by ``report`` and ``certify`` (SPEC §9), and the pipeline they both run."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from faro_audit.audit.settings import BOUNDS, AuditSettings
from faro_audit.errors import FaroInputError


def add_audit_options(p: argparse.ArgumentParser) -> None:
    """TARGET, data, constraint, statistics and model-loading options."""
    p.add_argument("target", metavar="TARGET",
                   help="model directory, scores file, directory with faro.toml, or module:function")
    d = p.add_argument_group("data")
    d.add_argument("--data", metavar="PATH", help="audit table (CSV, JSONL[.gz], Parquet) or benchmark files")
    d.add_argument("--suite", metavar="NAME", help="built-in suite or benchmark adapter (see `faro-audit suites`)")
    d.add_argument("--group", metavar="COL", action="append", default=None,
                   help="group column (repeatable; several also give their intersection)")
    d.add_argument("--shape", choices=("pairs", "responses"), help="override the detected table shape")
    d.add_argument("--drop-missing-groups", action="store_true", default=None,
                   help="leave out rows with a missing group value (counted in the report)")
    s = p.add_argument_group("statistics")
    s.add_argument("--max-gap", metavar="C", action="append", default=None,
                   help="constraint METRIC[:OUTCOME][@ATTRIBUTE]=EPSILON, e.g. dp=0.05 (repeatable)")
    s.add_argument("--delta", type=float, help="joint error probability of the certificate (default 0.05)")
    s.add_argument("--bound", choices=BOUNDS, help="confidence bound for means: auto (default: Clopper-Pearson for unweighted unclustered hard outcomes, betting otherwise) or one method")
    s.add_argument("--sequential", action="store_true", default=None,
                   help="score in seeded random batches and stop once every constraint is decided "
                        "(anytime-valid betting bounds)")
    s.add_argument("--sequential-batches", type=int, metavar="N", help="batches of a sequential audit (default 10)")
    s.add_argument("--beta", type=float, help="KL coefficient β for the reward→policy bound")
    s.add_argument("--seed", type=int, help="random seed (default 0)")
    s.add_argument("--n-boot", type=int, help="bootstrap resamples for descriptive intervals (default 1000)")
    s.add_argument("--temperature", type=float, help="T in σ(d/T) (default 1)")
    s.add_argument("--reference", help="reference reward for responses: median, mean, a number or mean:GROUP")
    s.add_argument("--min-group-size", type=int, help="smallest group that can be certified (default 30)")
    s.add_argument("--manifest", metavar="PATH", help="faro_manifest.json whose declared slack is checked")
    m = p.add_argument_group("model loading (model targets)")
    m.add_argument("--batch-size", type=int, default=32)
    m.add_argument("--device", default="auto", help="cpu, cuda, mps or auto")
    m.add_argument("--dtype", default=None, help="float32, float16 or bfloat16")
    m.add_argument("--max-length", type=int, default=None, help="truncate texts to N tokens (counted per group)")
    m.add_argument("--ref-model", metavar="DIR", help="reference policy for implicit (DPO) rewards")
    m.add_argument("--cache-dir", metavar="DIR", help="score cache directory")
    m.add_argument("--no-cache", action="store_true", help="do not read or write the score cache")
    m.add_argument("--allow-pickle", action="store_true", help="allow pickle weights (runs code from the file)")
    m.add_argument("--trust-remote-code", action="store_true", help="allow the model's own Python code")


def settings_from_args(args: argparse.Namespace) -> tuple[AuditSettings, dict[str, Any]]:
    """Defaults, and the command-line values that override ``faro.toml``."""
    overrides = {
        "group": args.group, "max_gap": args.max_gap, "delta": args.delta, "bound": args.bound,
        "beta": args.beta, "seed": args.seed, "n_boot": args.n_boot, "temperature": args.temperature,
        "reference": args.reference, "min_group_size": args.min_group_size, "shape": args.shape,
        "sequential": args.sequential, "sequential_batches": args.sequential_batches,
        "drop_missing_groups": args.drop_missing_groups, "data": args.data, "suite": args.suite,
    }
    model_options = {
        "batch_size": args.batch_size, "device": args.device, "dtype": args.dtype,
        "max_length": args.max_length, "ref_model": args.ref_model,
        "allow_pickle": args.allow_pickle, "trust_remote_code": args.trust_remote_code,
        "cache_dir": None if args.no_cache else (args.cache_dir or "default"),
    }
    overrides["model_options"] = model_options
    return AuditSettings(), overrides


def read_manifest(path: str | None) -> dict[str, Any] | None:
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except FileNotFoundError:
        raise FaroInputError(f"--manifest {path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise FaroInputError(f"--manifest {path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(doc, dict) or "constraints" not in doc:
        raise FaroInputError(f"--manifest {path}: has no 'constraints' list; is it a faro_manifest.json?")
    return doc


#: What the audit and the report import after scoring (scipy, statsmodels, matplotlib).
_AUDIT_MODULES = ("faro_audit.audit.run",)
_REPORT_MODULES = ("faro_audit.report.figures_groups", "faro_audit.report.figures_calibration",
                   "faro_audit.report.figures_distributions", "faro_audit.report.writer")


def _import_next(report: bool) -> None:
    """Import what comes after scoring (and compile the report templates), while a scoring
    worker loads the model on the other core (:mod:`faro_audit.models.worker`)."""
    import importlib

    for name in _AUDIT_MODULES + (_REPORT_MODULES if report else ()):
        importlib.import_module(name)
    if report:
        from faro_audit.report.html import preload_templates

        preload_templates()


def run_pipeline(args: argparse.Namespace, *, report: bool = False):
    """Resolve the target, read or score its table, and audit it → AuditResult.

    ``report``: the caller renders the report next, so its modules are imported while the
    model scores.
    """
    from faro_audit.audit.target import resolve_target, scored_table

    base, overrides = settings_from_args(args)
    target = resolve_target(args.target, base, overrides)
    manifest = read_manifest(args.manifest)
    if manifest is None and target.kind == "model":
        candidate = Path(target.path) / "faro_manifest.json"
        if candidate.is_file():
            manifest = read_manifest(str(candidate))
    from dataclasses import replace

    command = ["faro-audit", *sys.argv[1:]]
    if target.settings.sequential:
        from faro_audit.audit.run import audit_table
        from faro_audit.audit.sequential import run_sequential
        from faro_audit.audit.target import sequential_scoring

        table, score, infos = sequential_scoring(target)
        settings = target.settings if target.settings.group else replace(target.settings, group=table.group_columns)

        def audit(prefix, final: bool):
            target_info, data_info, scoring = infos()
            return audit_table(prefix, settings=settings if final else replace(settings, n_boot=0),
                               target_info=target_info, data_info=data_info, scoring_info=scoring,
                               manifest=manifest, command=command)

        return run_sequential(table, score=score, audit=audit, random_state=settings.seed,
                              batches=settings.sequential_batches)
    table, target_info, data_info, scoring = scored_table(target, meanwhile=lambda: _import_next(report))
    from faro_audit.audit.run import (
        audit_table,  # after scoring starts: see _import_next
    )

    settings = target.settings
    if not settings.group:
        settings = replace(settings, group=table.group_columns)
    return audit_table(
        table, settings=settings, target_info=target_info, data_info=data_info,
        scoring_info=scoring, manifest=manifest, command=command,
    )


def print_summary(result) -> None:
    """Print the terminal summary, in ASCII when stdout cannot encode ε, δ and the like."""
    from faro_audit.report.text import render_text

    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "εδ…≤".encode(encoding)
        ascii_only = False
    except (UnicodeEncodeError, LookupError):
        ascii_only = True
    try:
        print(render_text(result, ascii_only=ascii_only), flush=True)
    except BrokenPipeError:  # `faro-audit certify ... | head`: the reader left; keep the exit code
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
