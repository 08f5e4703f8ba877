"""``faro-audit report``: audit and write report.html, report.json, junit.xml and summary.md."""

from __future__ import annotations

import argparse

from faro_audit.cli.options import (
    REPORT_FILES,
    add_audit_options,
    print_summary,
    run_pipeline,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="audit a model or scores and write the HTML report",
        description="Audit a reward model, policy or scores file and write the audit report.",
    )
    add_audit_options(p)
    p.add_argument("--out", metavar="DIR", default="faro-report",
                   help="output directory (default ./faro-report/); it must not replace an input "
                        "(a report.json given as TARGET, a model directory)")
    p.add_argument("--fail-on", choices=("violated", "inconclusive"),
                   help="exit with the verdict's code when it is this bad (default: exit 0 once written)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from faro_audit.io.outputs import Output
    from faro_audit.report.writer import write_report

    out = Output("--out", args.out, is_dir=True, files=REPORT_FILES)
    result = run_pipeline(args, report=True, outputs=[out])
    paths = write_report(result, args.out)
    print_summary(result)
    print("\nwrote " + ", ".join(str(p) for p in paths.values()))
    if args.fail_on == "violated" and result.verdict == "violated":
        return result.exit_code
    if args.fail_on == "inconclusive" and result.verdict in ("violated", "inconclusive"):
        return result.exit_code
    return 0
