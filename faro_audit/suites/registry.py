"""Registry of audit suites: ``--suite NAME`` and ``faro-audit suites``.

``SUITES[name] = (description, loader)``; ``loader(data, shape=None)`` returns the suite as a
pandas DataFrame in a SPEC §1 shape. ``data`` is the ``--data`` path for suites that adapt an
external benchmark (``bbq``, ``crows``) and must be ``None`` for the built-in ``default``.
:func:`suite_info` says which shapes and group columns a suite has, so that callers can pass
the right ``--group`` columns without loading it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faro_audit.errors import FaroUsageError

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

__all__ = ["SUITES", "load_suite", "suite_info"]


def _need_data(name: str, data: str | None, what: str) -> str:
    if data is None or not str(data).strip():
        raise FaroUsageError(f"suite {name!r} needs --data PATH ({what}); it ships no data")
    return str(data)


def _check_shape(name: str, shape: str | None, allowed: tuple[str, ...]) -> str:
    if shape is None:
        return allowed[0]
    if shape not in allowed:
        raise FaroUsageError(
            f"--shape {shape!r} is not available for suite {name!r}; use one of {list(allowed)}"
        )
    return shape


def _load_default(data: str | None, shape: str | None = None) -> pd.DataFrame:
    if data is not None:
        raise FaroUsageError("suite 'default' is built in and takes no --data; drop --data")
    from faro_audit.suites.default import default_suite

    return default_suite(_check_shape("default", shape, ("pairs", "responses")))


def _load_bbq(data: str | None, shape: str | None = None) -> pd.DataFrame:
    path = _need_data("bbq", data, "a BBQ .jsonl file or a folder of them")
    _check_shape("bbq", shape, ("responses",))
    from faro_audit.suites.bbq import read_bbq

    return read_bbq(path)


def _load_crows(data: str | None, shape: str | None = None) -> pd.DataFrame:
    path = _need_data("crows", data, "a CSV with sent_more, sent_less, bias_type")
    _check_shape("crows", shape, ("pairs",))
    from faro_audit.suites.crows import read_crows

    return read_crows(path)


SUITES: dict[str, tuple[str, Callable[..., pd.DataFrame]]] = {
    "default": (
        "built-in counterfactual suite: 126 templates over 7 axes (gender, race_ethnicity, religion, "
        "age, disability, nationality, sexual_orientation), acceptable vs biased answers, no data needed",
        _load_default,
    ),
    "bbq": (
        "BBQ (Parrish et al. 2022) as labelled responses, twins = swapped persons; needs --data "
        "(BBQ jsonl file or folder)",
        _load_bbq,
    ),
    "crows": (
        "CrowS-Pairs-style CSV (sent_more, sent_less, bias_type) as pairs, chosen = less "
        "stereotypical; needs --data",
        _load_crows,
    ),
}

_INFO: dict[str, dict[str, Any]] = {
    "default": {"needs_data": False, "shapes": ["pairs", "responses"], "twins": True, "scoped_groups": True},
    "bbq": {
        "needs_data": True,
        "shapes": ["responses"],
        "group_columns": ["group"],
        "twins": True,
        "scoped_groups": False,
        "version": None,
    },
    "crows": {
        "needs_data": True,
        "shapes": ["pairs"],
        "group_columns": ["bias_type"],
        "twins": False,
        "scoped_groups": False,
        "version": None,
    },
}


def _unknown(name: str) -> FaroUsageError:
    return FaroUsageError(f"--suite {name!r} is not a known suite; use one of {sorted(SUITES)}")


def suite_info(name: str) -> dict[str, Any]:
    """Describe a suite without loading it.

    Returns
    -------
    dict
        ``name``, ``description``, ``needs_data`` (bool), ``shapes`` (the first is the
        default), ``group_columns`` (the columns to audit), ``twins`` (whether ``cf_id`` is
        filled), ``scoped_groups`` (True where a group column is defined only on some rows —
        the default suite's per-axis columns — so each attribute is analysed over the rows
        where it is defined) and ``version`` (the suite content's version, ``None`` for
        adapters: their data file's hash identifies them).

    Raises
    ------
    FaroUsageError
        If ``name`` is not a registered suite (the message lists the names).
    """
    if name not in SUITES:
        raise _unknown(name)
    info = dict(_INFO[name])
    if name == "default":
        from faro_audit.suites.default import GROUP_COLUMNS, SUITE_VERSION

        info["group_columns"] = list(GROUP_COLUMNS)
        info["version"] = SUITE_VERSION
    return {"name": name, "description": SUITES[name][0], **info}


def load_suite(name: str, *, data: str | None = None, shape: str | None = None) -> pd.DataFrame:
    """Load a registered suite as a pandas DataFrame.

    Parameters
    ----------
    name : str
        A key of :data:`SUITES`.
    data : str, optional
        Path of the benchmark data (required for ``bbq`` and ``crows``, not allowed for
        ``default``).
    shape : {"pairs", "responses"}, optional
        The table shape; ``None`` gives the suite's default (``default``: pairs, ``bbq``:
        responses, ``crows``: pairs).

    Raises
    ------
    FaroUsageError
        Unknown name (listing the names), missing or superfluous ``data``, or a shape the
        suite does not have.
    FaroInputError
        If the data cannot be read (raised by the adapter, naming file, column and row).
    """
    if name not in SUITES:
        raise _unknown(name)
    return SUITES[name][1](data, shape=shape)
