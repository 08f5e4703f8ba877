"""``faro-audit suites``: list the built-in audit suite and the benchmark adapters."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("suites", help="list built-in suites and benchmark adapters")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from faro_audit.suites.registry import SUITES

    for name, entry in SUITES.items():
        print(f"{name:10s} {entry[0]}")
    return 0
