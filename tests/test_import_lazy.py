"""faro_audit._lazy.lazy_exports: PEP 562 hooks shared by faro_audit.models and faro_audit.retrain."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from faro_audit._lazy import lazy_exports


def _package(exports: dict[str, str]) -> types.ModuleType:
    pkg = types.ModuleType("fake_pkg")
    pkg.__getattr__, pkg.__dir__ = lazy_exports("fake_pkg", exports, vars(pkg))  # type: ignore[attr-defined]
    return pkg


def test_lazy_export_imports_on_first_use_and_caches() -> None:
    pkg = _package({"dedent": "textwrap", "sqrt": "math"})
    assert "dedent" not in vars(pkg)
    import textwrap

    assert pkg.dedent is textwrap.dedent
    assert vars(pkg)["dedent"] is textwrap.dedent  # cached: the hook runs once per name
    assert "sqrt" not in vars(pkg)
    assert {"dedent", "sqrt"} <= set(dir(pkg))
    assert dir(pkg) == sorted(dir(pkg))


def test_lazy_export_unknown_name_is_attribute_error() -> None:
    pkg = _package({"dedent": "textwrap"})
    with pytest.raises(AttributeError, match=r"module 'fake_pkg' has no attribute 'nope'"):
        pkg.nope  # noqa: B018
    assert not hasattr(pkg, "nope")


def test_models_and_retrain_exports_resolve_lazily() -> None:
    """Each listed export is the object of its module; dir() lists them before first use."""
    code = (
        "import sys, faro_audit.models as m, faro_audit.retrain as r\n"
        "names = set(dir(m)) | set(dir(r))\n"
        "assert set(m._EXPORTS) <= names and set(r._EXPORTS) <= names, names\n"
        "assert set(m.__all__) == set(m._EXPORTS) and set(r.__all__) == set(r._EXPORTS)\n"
        "assert 'torch' not in sys.modules\n"
        "import faro_audit.models.safety as s\n"
        "assert m.is_model_dir is s.is_model_dir\n"
        "try:\n"
        "    m.not_a_name\n"
        "except AttributeError as e:\n"
        "    assert \"'faro_audit.models'\" in str(e), e\n"
        "else:\n"
        "    raise SystemExit('no AttributeError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
