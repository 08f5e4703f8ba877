"""How a model is loaded and run: one frozen :class:`LoadOptions`, merged field by field.

The same options reach scoring from three layers, in this order of precedence::

    command line  >  faro.toml [model_options]  >  defaults

A layer gives a field only when it names it (a command-line option left out is ``None``), so
setting ``--device cpu`` on the command line keeps ``batch_size`` from ``faro.toml``.
:func:`merge_load_options` also says where every effective value came from (recorded in
``report.json``'s ``settings.sources``).

This module is pure (no torch, no pandas): the CLI imports it before anything heavy.
At the boundary to :mod:`faro_audit.models.worker` and :func:`faro_audit.models.load_scorer`
the options travel as a plain dict (:meth:`LoadOptions.scorer_kwargs`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from faro_audit.errors import FaroUsageError

__all__ = ["CODE_OPTIONS", "DEFAULT", "LoadOptions", "check_load_value", "merge_load_options"]

#: Source label of a value nobody gave.
DEFAULT = "default"

#: Fields that let a model directory run code when true (a faro.toml may only set them with
#: ``--trust-config-code``).
CODE_OPTIONS = ("allow_pickle", "trust_remote_code")

_CHOICES: dict[str, tuple[str, ...]] = {
    "template": ("auto", "chat", "pair", "concat"),
    "mode": ("auto", "reward", "policy"),
}

#: ``faro.toml`` spellings accepted for a field (``[model_options] beta`` is the DPO β there).
ALIASES = {"beta": "dpo_beta"}


@dataclass(frozen=True)
class LoadOptions:
    """Every option of loading and running a model (SPEC §9).

    Attributes
    ----------
    batch_size : int
        Texts per forward pass (≥ 1).
    device : str
        ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
    dtype : str or None
        ``float32``, ``float16`` or ``bfloat16`` (None: float32 on CPU, bfloat16 on CUDA).
    max_length : int or None
        Tokens per text; longer texts are cut and counted (None: the model's limit).
    ref_model : str or None
        Reference policy directory: a policy is scored by the DPO implicit reward.
    cache_dir : str or None
        Score cache directory (None: ``$FARO_AUDIT_CACHE`` or ``~/.cache/faro-audit``).
    no_cache : bool
        Neither read nor write the score cache.
    allow_pickle : bool
        Load pickle-only weights (unpickling can run code).
    trust_remote_code : bool
        Run the model directory's own Python code.
    dpo_beta : float
        β of the DPO implicit reward β·(log π − log π_ref) (> 0).
    template : str
        How prompt and response are joined: ``auto``, ``chat``, ``pair`` or ``concat``.
    mode : str
        Model kind: ``auto`` (from ``config.json``), ``reward`` or ``policy``.
    """

    batch_size: int = 32
    device: str = "auto"
    dtype: str | None = None
    max_length: int | None = None
    ref_model: str | None = None
    cache_dir: str | None = None
    no_cache: bool = False
    allow_pickle: bool = False
    trust_remote_code: bool = False
    dpo_beta: float = 0.1
    template: str = "auto"
    mode: str = "auto"

    def scorer_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`faro_audit.models.load_scorer` (a plain dict)."""
        return {"ref_model": self.ref_model, "beta": self.dpo_beta, "mode": self.mode,
                "device": self.device, "dtype": self.dtype, "batch_size": self.batch_size,
                "max_length": self.max_length, "allow_pickle": self.allow_pickle,
                "trust_remote_code": self.trust_remote_code, "template": self.template}

    def cache_kwargs(self) -> dict[str, Any]:
        """``cache`` and ``cache_dir`` of :func:`faro_audit.models.score_table` / ``start_scoring``."""
        return {"cache": not self.no_cache, "cache_dir": None if self.no_cache else self.cache_dir}

    def as_dict(self) -> dict[str, Any]:
        """Every field and its value (JSON-ready)."""
        return asdict(self)


_FIELDS = {f.name: f for f in fields(LoadOptions)}
_INT = ("batch_size", "max_length")
_BOOL = ("no_cache", "allow_pickle", "trust_remote_code")
_FLOAT = ("dpo_beta",)
_STR = ("device", "dtype", "ref_model", "cache_dir", "template", "mode")
_NULLABLE = ("dtype", "max_length", "ref_model", "cache_dir")


def check_load_value(name: str, value: Any, *, where: str) -> Any:
    """Check the type and range of one field; return the value (ints as int, floats as float).

    Parameters
    ----------
    name : str
        A :class:`LoadOptions` field.
    value
        The value given.
    where : str
        How to name the value in an error, e.g. ``"--batch-size"`` or
        ``"faro.toml [model_options] batch_size"``.

    Raises
    ------
    FaroUsageError
        A wrong type (``batch_size = "32"``, ``allow_pickle = "yes"``) or value out of range.
    """
    if name not in _FIELDS:
        raise FaroUsageError(f"{where}: unknown model option; known options are {', '.join(_FIELDS)}")
    if value is None and name in _NULLABLE:
        return None
    found = f"{value!r} ({type(value).__name__})"
    if name in _INT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise FaroUsageError(f"{where}: {found} is not a whole number; give e.g. 32")
        if value < 1:
            raise FaroUsageError(f"{where}: {value} must be at least 1")
        return int(value)
    if name in _BOOL:
        if not isinstance(value, bool):
            raise FaroUsageError(f"{where}: {found} is not true or false; write true or false "
                                 "without quotes")
        return value
    if name in _FLOAT:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise FaroUsageError(f"{where}: {found} is not a number; give e.g. 0.1")
        if not float(value) > 0:
            raise FaroUsageError(f"{where}: {value:g} must be > 0")
        return float(value)
    if not isinstance(value, str) or not value:
        raise FaroUsageError(f"{where}: {found} is not a non-empty string")
    choices = _CHOICES.get(name)
    if choices and value not in choices:
        raise FaroUsageError(f"{where}: {value!r} is not one of {', '.join(choices)}")
    return value


def _cli_label(key: str) -> str:
    return "--" + key.replace("_", "-")


def merge_load_options(*layers: tuple[str, Mapping[str, Any]] | tuple[str, Mapping[str, Any], Any]
                       ) -> tuple[LoadOptions, dict[str, str]]:
    """Merge layers of options field by field; the first layer that gives a field wins.

    Parameters
    ----------
    *layers : (source, mapping)
        Highest precedence first, e.g. ``("command line", cli), ("faro.toml", toml)``. A value
        ``None`` (or a key left out) means "not given". Keys may use :data:`ALIASES`.
        Values are checked with :func:`check_load_value`, named ``source key``.

    Returns
    -------
    (LoadOptions, dict)
        The effective options and, per field, the source it came from (``"default"`` if none).

    Raises
    ------
    FaroUsageError
        An unknown key or a wrongly typed value, naming its source and key.
    """
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, layer, *rest in layers:
        label = rest[0] if rest else (_cli_label if source == "command line"
                                      else (lambda k, _s=source: f"{_s} {k}"))
        for key, value in layer.items():
            name = ALIASES.get(key, key)
            if value is None or name in values:
                continue
            values[name] = check_load_value(name, value, where=label(key))
            sources[name] = source
    for name in _FIELDS:
        sources.setdefault(name, DEFAULT)
    return LoadOptions(**values), sources
