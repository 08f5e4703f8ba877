"""`import faro_audit` stays light: torch, transformers, pandas and matplotlib load only when used."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "transformers", "pandas", "matplotlib", "statsmodels")


def test_package_import_is_light():
    code = (
        "import sys, faro_audit, faro_audit.metrics, faro_audit.models, faro_audit.retrain, "
        "faro_audit.audit.result, faro_audit.cli.main; "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"heavy modules imported at package import: {out.stdout}"
