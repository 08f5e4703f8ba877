"""``faro-audit score``: score an audit table with a model and write a scores file (SPEC §9).

    faro-audit score TARGET --data PATH --out PATH [--group COL ...] [--shape pairs|responses]
                     [--batch-size N] [--device D] [--dtype T] [--max-length N] [--template T]
                     [--mode auto|reward|policy] [--ref-model DIR] [--beta B]
                     [--cache-dir DIR | --no-cache] [--allow-pickle] [--trust-remote-code]

The model-loading options are the group shared with ``report``, ``certify`` and ``retrain``
(:func:`faro_audit.cli.options.add_model_options`); here ``--beta`` is the DPO β. A CSV
``--out`` has its text cells neutralised against spreadsheet formulas
(:func:`faro_audit.io.outputs.csv_safe`).

The scores file is the audit table with ``reward_chosen``/``reward_rejected`` (pairs) or
``reward`` (responses) added, written atomically (a temporary file in the same directory, then
``os.replace``) as CSV, JSONL (``.jsonl``/``.jsonl.gz``) or Parquet by the extension of
``--out``. Errors print one line on stderr and exit with code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from faro_audit.cli.options import add_model_options, load_options_from_args
from faro_audit.errors import FaroError, FaroUsageError

_OUT_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet",
                ".pq": "parquet"}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``score`` subcommand to an ``argparse`` subparsers object and return it."""
    p = subparsers.add_parser(
        "score", help="score an audit table with a reward model, policy or Python callable",
        description="Score every text of an audit table and write a scores file (SPEC §9).",
        epilog="CSV output: a text cell that starts with =, +, -, @, a tab or a carriage return "
               "is written with a leading ' so that spreadsheets do not run it as a formula "
               "(numbers are untouched; JSONL and Parquet are written as is).",
    )
    p.add_argument("target", metavar="TARGET",
                   help="model directory (reward model or policy), module:function or file.py:function")
    p.add_argument("--data", required=True, metavar="PATH", help="audit table (.csv, .jsonl[.gz], .parquet)")
    p.add_argument("--out", required=True, metavar="PATH",
                   help="scores file to write (.csv, .jsonl, .jsonl.gz, .parquet); never an input "
                        "(--data, a file in the model directory); CSV text cells that start with "
                        "=, +, -, @ get a leading '")
    p.add_argument("--group", action="append", default=[], metavar="COL",
                   help="group column (repeat for several); required")
    p.add_argument("--shape", choices=("pairs", "responses"), default=None,
                   help="table shape (default: detected from the columns)")
    add_model_options(p, dpo_beta_flag="--beta", trust_config_code=True, title="model loading")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p


def _out_format(path: str) -> tuple[str, str | None]:
    name = Path(path).name.lower()
    gz = name.endswith(".gz")
    base = name[:-3] if gz else name
    fmt = next((f for ext, f in _OUT_FORMATS.items() if base.endswith(ext)), None)
    if fmt is None or (gz and fmt != "jsonl"):
        raise FaroUsageError(f"--out {path}: unknown output type; use .csv, .jsonl, .jsonl.gz "
                             "or .parquet")
    return fmt, ("gzip" if gz else None)


def write_scores(frame: Any, path: str) -> None:
    """Write a DataFrame atomically: a temporary file in the same directory, then ``os.replace``."""
    fmt, compression = _out_format(path)
    target = Path(path).expanduser()
    if target.is_dir():
        raise FaroUsageError(f"--out {path}: is a directory; give a file name such as scores.csv")
    if not target.parent.exists():
        raise FaroUsageError(f"--out {path}: directory {target.parent} does not exist; create it first")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        if fmt == "csv":
            from faro_audit.io.outputs import csv_safe

            csv_safe(frame).to_csv(tmp, index=False)
        elif fmt == "jsonl":
            frame.to_json(tmp, orient="records", lines=True, force_ascii=False,
                          compression=compression)
        else:
            frame.to_parquet(tmp, index=False)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def run(args: argparse.Namespace) -> int:
    """Run ``faro-audit score``; return the exit code (0 written, 2 usage or input error)."""
    try:
        return _run(args)
    except FaroError as err:
        from faro_audit.cli.terminal import print_error

        print_error("score", err)
        return err.exit_code


def _run(args: argparse.Namespace) -> int:
    from faro_audit.io.outputs import Output, check_outputs
    from faro_audit.io.readers import read_table
    from faro_audit.models.options import merge_load_options
    from faro_audit.models.resolve import check_target, load_scorer
    from faro_audit.models.scoring import score_table

    _out_format(args.out)
    if not args.group:
        raise FaroUsageError("--group: name at least one group column (e.g. --group gender)")
    load, _ = merge_load_options(("command line", load_options_from_args(args)))
    code_file = args.target.rsplit(":", 1)[0] if ":" in args.target else None
    check_outputs([Output("--out", args.out, must_exist_parent=True)], {
        "--data": args.data, "TARGET": args.target, "--ref-model": load.ref_model,
        "TARGET code file": code_file if code_file and code_file.endswith(".py") else None,
    })
    # cheap checks first (no torch): the target's path, weights format and custom code
    check_target(args.target, ref_model=load.ref_model, mode=load.mode,
                 allow_pickle=load.allow_pickle, trust_remote_code=load.trust_remote_code)
    table = read_table(args.data, group=args.group, shape=args.shape)
    scorer = load_scorer(args.target, **load.scorer_kwargs())
    scored, info = score_table(table, scorer, **load.cache_kwargs(),
                               progress=False if args.no_progress else None)
    write_scores(scored.frame, args.out)
    rate = f"{info.rows_per_second:.1f} texts/s" if info.n_scored else "all from cache"
    print(f"wrote {args.out}: {scored.n_rows} rows, {info.n_texts} texts "
          f"({info.n_from_cache} from cache, {info.n_scored} scored, {rate}), "
          f"{info.n_truncated} rows truncated")
    for note in scored.notes[len(table.notes):]:
        print(f"note: {note}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point (``python -m faro_audit.cli.score_cmd``)."""
    parser = argparse.ArgumentParser(prog="faro-audit")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    args = parser.parse_args(["score", *(sys.argv[1:] if argv is None else argv)])
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
