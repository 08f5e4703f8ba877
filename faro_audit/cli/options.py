"""Options shared by ``report``, ``certify``, ``score`` and ``retrain`` (SPEC §9), and the
pipeline ``report`` and ``certify`` both run.

The model-loading options are one group (:func:`add_model_options`) whose options all default to
``None`` ("not given"), so that command line > ``faro.toml`` > defaults holds field by field
(:class:`faro_audit.models.options.LoadOptions`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from faro_audit.audit.settings import BOUNDS, AuditSettings
from faro_audit.errors import FaroInputError
from faro_audit.models.options import LoadOptions

#: The file names ``report`` writes into ``--out`` (those of :mod:`faro_audit.report.writer`).
REPORT_FILES = ("report.html", "report.json", "junit.xml", "summary.md")

#: Every model-loading field, in the order of ``--help``.
MODEL_FIELDS = ("batch_size", "device", "dtype", "max_length", "template", "mode", "ref_model",
                "dpo_beta", "cache_dir", "no_cache", "allow_pickle", "trust_remote_code")

#: The model-loading fields of ``retrain`` (its ``--mode`` is the training mode).
RETRAIN_FIELDS = ("batch_size", "device", "dtype", "max_length", "template", "allow_pickle",
                  "trust_remote_code")

_D = LoadOptions()


def positive_int(text: str) -> int:
    """argparse type: a whole number ≥ 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def positive_float(text: str) -> float:
    """argparse type: a number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{value:g} must be > 0")
    return value


def add_model_options(p: argparse.ArgumentParser, *, fields: Iterable[str] = MODEL_FIELDS,
                      dpo_beta_flag: str = "--dpo-beta", trust_config_code: bool = False,
                      title: str = "model loading (model targets)") -> argparse._ArgumentGroup:
    """The one model-loading option group of ``score``, ``report``, ``certify`` and ``retrain``.

    Parameters
    ----------
    p : ArgumentParser
        The subcommand's parser.
    fields : iterable of str
        The :class:`LoadOptions` fields this command takes (``retrain`` has its own ``--mode``
        and no score cache).
    dpo_beta_flag : str
        Spelling of the DPO β: ``--beta`` in ``score``, ``--dpo-beta`` where ``--beta`` was the
        bound's KL β.
    trust_config_code : bool
        Add ``--trust-config-code`` (commands that read ``faro.toml``).
    title : str
        Title of the group in ``--help``.
    """
    want = set(fields)
    m = p.add_argument_group(title)
    spec: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
        "batch_size": (("--batch-size",), dict(type=positive_int, metavar="N",
                       help=f"texts per forward pass (default {_D.batch_size})")),
        "device": (("--device",), dict(help="auto, cpu, cuda, cuda:N or mps (default auto)")),
        "dtype": (("--dtype",), dict(help="float32, bfloat16 or float16 (default float32 on CPU, "
                                          "bfloat16 on CUDA)")),
        "max_length": (("--max-length",), dict(type=positive_int, metavar="N",
                       help="tokens per text; longer texts are cut and counted (default: model limit)")),
        "template": (("--template",), dict(choices=("auto", "chat", "pair", "concat"),
                     help="how prompt and response are joined (default auto: chat template if any)")),
        "mode": (("--mode",), dict(choices=("auto", "reward", "policy"),
                 help="model kind (default: from config.json's architectures)")),
        "ref_model": (("--ref-model",), dict(metavar="DIR",
                      help="reference policy: score a policy by the DPO implicit reward")),
        "dpo_beta": ((dpo_beta_flag,), dict(dest="dpo_beta", type=positive_float, metavar="B",
                     help=f"DPO beta of the implicit reward (default {_D.dpo_beta:g})")),
        "cache_dir": (("--cache-dir",), dict(metavar="DIR",
                      help="score cache (default $FARO_AUDIT_CACHE or ~/.cache/faro-audit)")),
        "no_cache": (("--no-cache",), dict(action="store_true", default=None,
                     help="neither read nor write the score cache")),
        "allow_pickle": (("--allow-pickle",), dict(action="store_true", default=None,
                         help="load pickle-only weights (pytorch_model.bin); unpickling can run code")),
        "trust_remote_code": (("--trust-remote-code",), dict(action="store_true", default=None,
                              help="run custom model code from the model directory")),
    }
    for name in MODEL_FIELDS:
        if name in want:
            flags, kw = spec[name]
            kw.setdefault("default", None)
            m.add_argument(*flags, **kw)
    if trust_config_code:
        m.add_argument("--trust-config-code", action="store_true",
                       help="let a faro.toml in TARGET name Python code (model/scores = "
                            "'file.py:function') or set allow_pickle/trust_remote_code; without "
                            "it such a faro.toml is refused and nothing from it runs")
    return m


def load_options_from_args(args: argparse.Namespace, fields: Iterable[str] = MODEL_FIELDS
                           ) -> dict[str, Any]:
    """The model-loading values given on the command line (``None``: not given).

    ``fields``: those the command declared with :func:`add_model_options`.
    """
    return {name: getattr(args, name, None) for name in fields}


class _DeprecatedBeta(argparse.Action):
    """``--beta`` of ``report``/``certify``: the former spelling of ``--kl-beta``; warns."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        print(f"DeprecationWarning: {option_string} is deprecated here; it is the KL beta of the "
              "reward->policy bound, now --kl-beta (the DPO beta is --dpo-beta)", file=sys.stderr)
        namespace.kl_beta = values


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
    s.add_argument("--kl-beta", type=float, metavar="B", dest="kl_beta",
                   help="KL coefficient β of the reward→policy bound")
    s.add_argument("--beta", type=float, action=_DeprecatedBeta, metavar="B", dest="kl_beta",
                   help="deprecated spelling of --kl-beta")
    s.add_argument("--seed", type=int, help="random seed (default 0)")
    s.add_argument("--n-boot", type=int, help="bootstrap resamples for descriptive intervals (default 1000)")
    s.add_argument("--temperature", type=float, help="T in σ(d/T) (default 1)")
    s.add_argument("--reference", help="reference reward for responses: median, mean, a number or mean:GROUP")
    s.add_argument("--min-group-size", type=int, help="smallest group that can be certified (default 30)")
    s.add_argument("--manifest", metavar="PATH", help="faro_manifest.json whose declared slack is checked")
    add_model_options(p, trust_config_code=True)


def settings_from_args(args: argparse.Namespace) -> tuple[AuditSettings, dict[str, Any]]:
    """Defaults, and the command-line values that override ``faro.toml`` (``None``: not given)."""
    overrides = {
        "group": args.group, "max_gap": args.max_gap, "delta": args.delta, "bound": args.bound,
        "beta": args.kl_beta, "seed": args.seed, "n_boot": args.n_boot, "temperature": args.temperature,
        "reference": args.reference, "min_group_size": args.min_group_size, "shape": args.shape,
        "sequential": args.sequential, "sequential_batches": args.sequential_batches,
        "drop_missing_groups": args.drop_missing_groups, "data": args.data, "suite": args.suite,
        "model_options": load_options_from_args(args),
    }
    return AuditSettings(), overrides


def _code_file(target: str) -> str | None:
    """The file of a ``file.py:function`` TARGET (an input that must not be overwritten)."""
    left = target.rsplit(":", 1)[0] if ":" in target else ""
    return left if left.endswith(".py") else None


def input_paths(args: argparse.Namespace, target: Any = None) -> dict[str, str | None]:
    """Label → path of every input of ``report``/``certify`` (for :func:`check_outputs`)."""
    inputs: dict[str, str | None] = {"TARGET": args.target, "TARGET code file": _code_file(args.target),
                                     "--manifest": args.manifest, "--data": args.data}
    if target is not None:
        s = target.settings
        toml = s.config_path
        inputs["faro.toml"] = toml
        where = "faro.toml" if toml else "TARGET"
        inputs[f"{where} {target.kind}"] = target.path
        inputs[f"{where} code file"] = _code_file(target.path)
        inputs["data" if s.sources.get("data") != "command line" else "--data"] = s.data
        inputs["ref_model"] = s.model_options.ref_model
    return inputs


def check_pipeline_outputs(args: argparse.Namespace, outputs: Sequence[Any], target: Any = None) -> None:
    """Refuse outputs that collide with an input or cannot be written (before any scoring)."""
    from faro_audit.io.outputs import check_outputs

    check_outputs(outputs, input_paths(args, target))


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


def run_pipeline(args: argparse.Namespace, *, report: bool = False, outputs: Sequence[Any] = ()):
    """Resolve the target, read or score its table, and audit it → AuditResult.

    ``report``: the caller renders the report next, so its modules are imported while the
    model scores. ``outputs``: :class:`faro_audit.io.outputs.Output` s checked against every
    input (and for writability) before anything is read or scored.
    """
    from faro_audit.audit.target import resolve_target, scored_table

    check_pipeline_outputs(args, outputs)
    base, overrides = settings_from_args(args)
    target = resolve_target(args.target, base, overrides,
                            trust_config_code=bool(getattr(args, "trust_config_code", False)))
    check_pipeline_outputs(args, outputs, target)
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
