"""``faro-audit`` command line: subcommands, one-line errors, SPEC §8 exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from faro_audit._version import __version__
from faro_audit.cli.terminal import print_error
from faro_audit.errors import FaroError

#: Subcommand modules; each has ``add_parser(subparsers)`` and ``run(args) -> int``.
_COMMANDS = ("report", "certify", "plan", "score", "retrain", "suites")


def _module(name: str):
    import importlib

    return importlib.import_module(f"faro_audit.cli.{name}_cmd")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="faro-audit",
        description=(
            "Audit reward models and policies for demographic fairness, certify the result, "
            "and retrain flagged models (Faro)."
        ),
        epilog="Exit codes: 0 certified, 1 violated, 3 inconclusive, 2 usage or input error.",
    )
    parser.add_argument("--version", action="version", version=f"faro-audit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMANDS:
        try:
            _module(name).add_parser(sub)
        except ModuleNotFoundError as exc:  # a subcommand whose optional module is absent
            if exc.name and exc.name.startswith("faro_audit.cli."):
                continue
            raise
    return parser


def _quiet_openmp() -> None:
    """Let idle OpenMP threads sleep instead of spin (``OMP_WAIT_POLICY=PASSIVE``) unless the
    user chose a policy.

    torch's CPU kernels wait for their OpenMP threads by spinning. When another thread or process
    wants a core (a CI job, a test runner, an editor's indexer beside it), the spinning threads
    take turns with it and scoring a small model becomes up to 10x slower
    (measured on 2 cores: 36-44 s instead of 3-6 s for the 6,642 suite texts). Sleeping waits
    cost little on larger models. It must be set before torch is imported, so it is set here.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    _quiet_openmp()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except FaroError as err:
        print_error(args.command, err)
        return err.exit_code
    except SystemExit as exc:
        # Exit codes 0/1/3 only ever come from a finished audit: a scorer, plugin or library
        # calling sys.exit() inside a command must not read as "certified" or "violated".
        print_error(args.command, f"something inside the command called sys.exit({exc.code!r}) "
                    "before it finished, so no verdict was reached; a Python scorer must return "
                    "rewards, not exit; fix the callable or report the bug")
        return 2
    except KeyboardInterrupt:
        print(f"faro-audit {args.command}: interrupted; no partial output was written", file=sys.stderr)
        return 130
    return int(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
