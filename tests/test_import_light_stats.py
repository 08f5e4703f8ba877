"""The pure statistics layer is light: importing it loads neither pandas nor statsmodels (issue 11)."""

from __future__ import annotations

import subprocess
import sys

MODULES = (
    "faro_audit.vocabulary",
    "faro_audit.stats",
    "faro_audit.stats.certificates",
    "faro_audit.stats.certificate_requests",
    "faro_audit.stats.bounds",
    "faro_audit.stats.gaps",
    "faro_audit.stats.allocation",
    "faro_audit.stats.betting",
    "faro_audit.stats.planning",
    "faro_audit.stats.pilot",
    "faro_audit.stats.power",
    "faro_audit.stats.checks",
)


def test_stats_imports_neither_pandas_nor_statsmodels() -> None:
    code = (
        "import sys\n"
        f"for name in {MODULES!r}:\n"
        "    __import__(name)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pandas', 'statsmodels', 'torch'))\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_vocabulary_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "import faro_audit.vocabulary\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'scipy', 'pandas', 'statsmodels'))\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
