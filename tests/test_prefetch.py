"""The background imports that overlap model scoring (faro_audit._prefetch)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from faro_audit import _prefetch


def test_prefetch_imports_the_audit_modules_in_a_fresh_process() -> None:
    code = (
        "import sys\n"
        "from faro_audit._prefetch import prefetch, AUDIT_MODULES\n"
        "assert 'scipy.stats' not in sys.modules\n"
        "t = prefetch()\n"
        "t.join(120)\n"
        "assert not t.is_alive()\n"
        "missing = [m for m in AUDIT_MODULES if m not in sys.modules]\n"
        "assert not missing, missing\n"
        "assert 'matplotlib' not in sys.modules  # report modules only when asked\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr


def test_prefetch_is_off_with_the_environment_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FARO_NO_PREFETCH", "1")
    assert _prefetch.prefetch(report=True) is None


def test_a_module_that_fails_to_import_is_left_to_the_main_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FARO_NO_PREFETCH", raising=False)
    import threading

    raised: list[object] = []
    monkeypatch.setattr(threading, "excepthook", raised.append)
    monkeypatch.setattr(_prefetch, "AUDIT_MODULES", ("faro_audit.no_such_module", "colorsys"))
    sys.modules.pop("colorsys", None)
    thread = _prefetch.prefetch()
    assert thread is not None
    thread.join(30)
    assert not thread.is_alive() and not raised
    assert "colorsys" in sys.modules  # the failure did not stop the imports after it
    assert "faro_audit.no_such_module" not in sys.modules
    with pytest.raises(ModuleNotFoundError):
        import faro_audit.no_such_module  # noqa: F401
