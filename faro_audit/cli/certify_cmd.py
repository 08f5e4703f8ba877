"""``faro-audit certify``: the CI gate. Exit 0 certified, 1 violated, 3 inconclusive, 2 bad input."""

from __future__ import annotations

import argparse

from faro_audit.cli.options import add_audit_options, print_summary, run_pipeline


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "certify",
        help="certify fairness constraints; exit code 0/1/3 (certified/violated/inconclusive)",
        description="Certify fairness constraints with simultaneous confidence bounds (SPEC §5).",
    )
    add_audit_options(p)
    p.add_argument("--json", metavar="PATH", help="write the full result (report.json schema) here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from faro_audit.io.outputs import Output
    from faro_audit.report.writer import atomic_write_text, render_json

    result = run_pipeline(args, outputs=[Output("--json", args.json)] if args.json else [])
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, render_json(result))
    print_summary(result)
    return result.exit_code
