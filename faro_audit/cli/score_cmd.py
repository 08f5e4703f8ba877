"""``faro-audit score``: score an audit table with a model and write a scores file (SPEC §9).

    faro-audit score TARGET --data PATH --out PATH [--group COL ...] [--shape pairs|responses]
                     [--batch-size N] [--device D] [--dtype T] [--max-length N] [--template T]
                     [--mode auto|reward|policy] [--ref-model DIR] [--beta B]
                     [--cache-dir DIR | --no-cache] [--allow-pickle] [--trust-remote-code]

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

from faro_audit.errors import FaroError, FaroUsageError

_OUT_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet",
                ".pq": "parquet"}


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``score`` subcommand to an ``argparse`` subparsers object and return it."""
    p = subparsers.add_parser(
        "score", help="score an audit table with a reward model, policy or Python callable",
        description="Score every text of an audit table and write a scores file (SPEC §9).",
    )
    p.add_argument("target", metavar="TARGET",
                   help="model directory (reward model or policy), module:function or file.py:function")
    p.add_argument("--data", required=True, metavar="PATH", help="audit table (.csv, .jsonl[.gz], .parquet)")
    p.add_argument("--out", required=True, metavar="PATH",
                   help="scores file to write (.csv, .jsonl, .jsonl.gz, .parquet)")
    p.add_argument("--group", action="append", default=[], metavar="COL",
                   help="group column (repeat for several); required")
    p.add_argument("--shape", choices=("pairs", "responses"), default=None,
                   help="table shape (default: detected from the columns)")
    p.add_argument("--batch-size", type=_positive_int, default=32, metavar="N")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    p.add_argument("--dtype", default=None, help="float32, bfloat16 or float16 "
                   "(default float32 on CPU, bfloat16 on CUDA)")
    p.add_argument("--max-length", type=_positive_int, default=None, metavar="N",
                   help="tokens per text; longer texts are cut and counted (default: model limit)")
    p.add_argument("--template", choices=("auto", "chat", "pair", "concat"), default="auto",
                   help="how prompt and response are joined (default auto: chat template if any)")
    p.add_argument("--mode", choices=("auto", "reward", "policy"), default="auto",
                   help="model kind (default: from config.json's architectures)")
    p.add_argument("--ref-model", default=None, metavar="DIR",
                   help="reference policy: score a policy by the DPO implicit reward")
    p.add_argument("--beta", type=float, default=0.1, help="DPO beta of the implicit reward (default 0.1)")
    p.add_argument("--cache-dir", default=None, metavar="DIR",
                   help="score cache (default $FARO_AUDIT_CACHE or ~/.cache/faro-audit)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the score cache")
    p.add_argument("--allow-pickle", action="store_true",
                   help="load pickle-only weights (pytorch_model.bin); unpickling can run code")
    p.add_argument("--trust-remote-code", action="store_true",
                   help="run custom model code from the model directory")
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
            frame.to_csv(tmp, index=False)
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
        print(f"faro-audit score: error: {err}", file=sys.stderr)
        return err.exit_code


def _run(args: argparse.Namespace) -> int:
    from faro_audit.io.readers import read_table
    from faro_audit.models.resolve import check_target, load_scorer
    from faro_audit.models.scoring import score_table

    _out_format(args.out)
    if not args.group:
        raise FaroUsageError("--group: name at least one group column (e.g. --group gender)")
    # cheap checks first (no torch): the target's path, weights format and custom code
    check_target(args.target, ref_model=args.ref_model, mode=args.mode,
                 allow_pickle=args.allow_pickle, trust_remote_code=args.trust_remote_code)
    table = read_table(args.data, group=args.group, shape=args.shape)
    scorer = load_scorer(args.target, ref_model=args.ref_model, beta=args.beta, mode=args.mode,
                         device=args.device, dtype=args.dtype, batch_size=args.batch_size,
                         max_length=args.max_length, allow_pickle=args.allow_pickle,
                         trust_remote_code=args.trust_remote_code, template=args.template)
    scored, info = score_table(table, scorer, cache_dir=args.cache_dir, cache=not args.no_cache,
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
