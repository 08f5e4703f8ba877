"""Lazy package exports (PEP 562): a public name's module is imported on first attribute access.

A package whose public names live in heavy modules (torch, transformers) lists them as
``{name: module}`` and installs the two hooks this helper returns::

    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

so ``import package`` stays light and ``package.name`` imports ``module`` only when first used.
The value is then cached in the package namespace, so later look-ups are plain attribute reads.
Reference: PEP 562, "Module __getattr__ and __dir__".
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str], namespace: MutableMapping[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module-level ``__getattr__`` and ``__dir__`` that import ``exports`` on first use.

    Parameters
    ----------
    package : str
        The package's ``__name__`` (used in the ``AttributeError`` message).
    exports : mapping of str to str
        Public name → dotted module that defines it (the name is read from that module).
    namespace : mutable mapping
        The package's ``globals()``; an imported value is stored there, so ``__getattr__``
        runs at most once per name.

    Returns
    -------
    (__getattr__, __dir__)
        ``__getattr__(name)`` returns ``getattr(import_module(exports[name]), name)`` or raises
        ``AttributeError`` for a name not in ``exports``; ``__dir__()`` lists the namespace and
        every export, sorted.
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
