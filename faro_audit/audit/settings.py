"""Audit settings: command line > ``faro.toml`` > defaults, field by field, with the source of each.

A ``faro.toml`` in a TARGET directory may hold (all optional)::

    model = "reward_model"          # model directory, relative to the toml file
    scores = "scores.parquet"       # or a scores file instead of a model
    data = "audit.csv"              # audit table (else --data/--suite/the default suite)
    suite = "default"
    group = ["gender", "race"]      # or one group: group = "gender"
    max_gap = ["dp=0.05", "cf:hard=0.1"]
    delta = 0.05
    bound = "auto"
    beta = 0.1                      # KL β of the reward→policy bound (--kl-beta)
    seed = 0
    n_boot = 1000
    temperature = 1.0
    reference = "median"
    min_group_size = 30
    [model_options]                 # the fields of faro_audit.models.options.LoadOptions
    batch_size = 32
    max_length = 512
    dpo_beta = 0.1                  # DPO β of the implicit reward (also spelt beta here)

Every value is type-checked on reading; an error names the file and the key. A ``model`` or
``scores`` that is a Python callable (``file.py:function``, ``module:function``) and
``allow_pickle``/``trust_remote_code`` in ``[model_options]`` run code that came with the
audited directory: :func:`load_toml` refuses them unless ``trust_code`` (``--trust-config-code``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from faro_audit.errors import FaroUsageError
from faro_audit.models.options import (
    CODE_OPTIONS,
    DEFAULT,
    LoadOptions,
    check_load_value,
    merge_load_options,
)
from faro_audit.stats.bounds import BOUND_CHOICES as BOUNDS  # "auto" first

#: Source labels recorded in ``report.json`` ``settings.sources``.
CLI, TOML = "command line", "faro.toml"

#: Command-line spelling of a setting whose flag is not ``--name-with-dashes``.
_FLAGS = {"beta": "--kl-beta"}


@dataclass(frozen=True)
class AuditSettings:
    """Everything that decides an audit's numbers (recorded in ``report.json``).

    ``model_options`` is a :class:`~faro_audit.models.options.LoadOptions` (a mapping of its
    fields is converted). ``sources`` maps a setting to where its value came from
    (``"command line"``, ``"faro.toml"``; missing: ``"default"``); ``config_path`` is the
    ``faro.toml`` read, if any, so that errors name it.
    """

    group: tuple[str, ...] = ()
    max_gap: tuple[str, ...] = ()
    delta: float = 0.05
    bound: str = "auto"
    beta: float | None = None
    seed: int = 0
    n_boot: int = 1000
    temperature: float = 1.0
    reference: str = "median"
    min_group_size: int = 30
    sequential: bool = False
    sequential_batches: int = 10
    shape: str | None = None
    drop_missing_groups: bool = False
    data: str | None = None
    suite: str | None = None
    model_options: Any = field(default_factory=LoadOptions)
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    config_path: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.model_options, Mapping):
            opts = dict(self.model_options)
            if "cache_dir" in opts:  # the former dict spelling: None = no cache, "default"
                cache = opts.pop("cache_dir")
                opts["no_cache"] = opts.get("no_cache") or cache is None
                opts["cache_dir"] = None if cache in (None, "default") else cache
            load, _ = merge_load_options(("model_options", opts))
            object.__setattr__(self, "model_options", load)

    def label(self, name: str) -> str:
        """How to name setting ``name`` in an error: its ``faro.toml`` key or its option."""
        if self.sources.get(name) == TOML and self.config_path:
            return f"{self.config_path}: key {name!r}"
        return _FLAGS.get(name, "--" + name.replace("_", "-"))

    def validate(self) -> AuditSettings:
        """Check ranges; raise a one-line :class:`FaroUsageError` naming the option or key."""
        lab = self.label
        if not 0 < self.delta < 1:
            raise FaroUsageError(f"{lab('delta')}: {self.delta:g} is outside (0, 1); use e.g. 0.05 for 95% confidence")
        if self.bound not in BOUNDS:
            raise FaroUsageError(f"{lab('bound')}: unknown bound {self.bound!r}; use one of {', '.join(BOUNDS)}")
        if self.beta is not None and not self.beta > 0:
            raise FaroUsageError(f"{lab('beta')}: {self.beta:g} must be > 0 (the KL coefficient of fine-tuning)")
        if self.n_boot < 0:
            raise FaroUsageError(f"{lab('n_boot')}: {self.n_boot} must be ≥ 0 (0 turns the bootstrap off)")
        if not self.temperature > 0:
            raise FaroUsageError(f"{lab('temperature')}: {self.temperature:g} must be > 0")
        if self.sequential and self.bound not in ("auto", "betting"):
            raise FaroUsageError(
                f"{lab('sequential')} with bound {self.bound}: only betting confidence sequences stay valid "
                "when the audit stops early; use bound auto or betting"
            )
        if self.sequential_batches < 1:
            raise FaroUsageError(f"{lab('sequential_batches')}: {self.sequential_batches} must be >= 1, e.g. 10")
        if self.min_group_size < 2:
            raise FaroUsageError(f"{lab('min_group_size')}: {self.min_group_size} must be ≥ 2")
        if self.shape not in (None, "pairs", "responses"):
            raise FaroUsageError(f"{lab('shape')}: {self.shape!r} is not pairs or responses")
        return self

    def as_report(self) -> dict[str, Any]:
        """The ``settings`` block of ``report.json`` (SPEC §8).

        Besides the statistical settings it records the effective model-loading options
        (``model_options``) and where every value came from (``sources``: ``"command line"``,
        ``"faro.toml"`` or ``"default"``; model options by their field name).
        """
        names = [f.name for f in fields(AuditSettings) if f.name not in ("model_options", "sources", "config_path")]
        load: LoadOptions = self.model_options
        sources = {n: self.sources.get(n, DEFAULT) for n in names}
        sources.update({n: self.sources.get(f"model_options.{n}", DEFAULT) for n in load.as_dict()})
        return {
            "delta": self.delta,
            "temperature": self.temperature,
            "bound": self.bound,
            "seed": self.seed,
            "n_boot": self.n_boot,
            "reference": self.reference,
            "min_group_size": self.min_group_size,
            "sequential": self.sequential,
            "sequential_batches": self.sequential_batches if self.sequential else None,
            "beta": self.beta,
            "max_gap": list(self.max_gap),
            "group": list(self.group),
            "model_options": load.as_dict(),
            "config": self.config_path,
            "sources": sources,
        }


# ---------------------------------------------------------------------------------------------
# faro.toml: typed reading


def _strings(v: Any) -> tuple[str, ...] | None:
    if isinstance(v, str) and v:
        return (v,)  # one group, never split into letters
    if isinstance(v, list) and v and all(isinstance(x, str) and x for x in v):
        return tuple(v)
    return None


def _number(v: Any) -> float | None:
    return None if isinstance(v, bool) or not isinstance(v, (int, float)) else float(v)


def _integer(v: Any) -> int | None:
    return None if isinstance(v, bool) or not isinstance(v, int) else int(v)


def _boolean(v: Any) -> bool | None:
    return v if isinstance(v, bool) else None


def _string(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _reference(v: Any) -> str | None:
    return _string(v) or (None if _number(v) is None else repr(v))


#: faro.toml key → (parser returning None on a wrong type, what is expected, an example).
_TOML_KEYS: dict[str, tuple[Any, str, str]] = {
    "group": (_strings, "a column name or a list of them", 'group = ["gender"]'),
    "max_gap": (_strings, "a constraint or a list of them", 'max_gap = ["dp=0.05"]'),
    "delta": (_number, "a number", "delta = 0.05"),
    "bound": (_string, "a string", 'bound = "auto"'),
    "beta": (_number, "a number", "beta = 0.1"),
    "seed": (_integer, "a whole number", "seed = 0"),
    "n_boot": (_integer, "a whole number", "n_boot = 1000"),
    "temperature": (_number, "a number", "temperature = 1.0"),
    "reference": (_reference, "a string or a number", 'reference = "median"'),
    "min_group_size": (_integer, "a whole number", "min_group_size = 30"),
    "sequential": (_boolean, "true or false", "sequential = true"),
    "sequential_batches": (_integer, "a whole number", "sequential_batches = 10"),
    "shape": (_string, "a string", 'shape = "pairs"'),
    "drop_missing_groups": (_boolean, "true or false", "drop_missing_groups = true"),
    "data": (_string, "a path", 'data = "audit.csv"'),
    "suite": (_string, "a string", 'suite = "default"'),
    "model": (_string, "a path", 'model = "reward_model"'),
    "scores": (_string, "a path", 'scores = "scores.csv"'),
}
_TOML_ALIASES = {"kl_beta": "beta"}
_PATH_KEYS = ("model", "scores", "data")


def is_code_target(value: str) -> bool:
    """``module:function`` or ``file.py:function`` — a target that imports and runs code.

    An existing file or directory is a path, not code.
    """
    if os.path.exists(os.path.expanduser(value)) or ":" not in value:
        return False
    left, right = value.rsplit(":", 1)
    return bool(left) and len(left) > 1 and bool(right) and right.replace(".", "_").isidentifier()


def _refuse_code(path: Path, key: str, value: Any, what: str) -> None:
    raise FaroUsageError(
        f"{path}: key {key!r} = {value!r} {what}; faro-audit never runs code that came with an "
        "audited directory unless you pass --trust-config-code (or give the target on the command line)"
    )


def load_toml(directory: str | os.PathLike[str], *, trust_code: bool = False) -> dict[str, Any]:
    """Read and type-check ``faro.toml`` in ``directory``.

    Paths in it (``model``, ``scores``, ``data``, ``[model_options] ref_model`` and
    ``cache_dir``) are made relative to that directory. ``[model_options]`` comes back as a
    dict of checked :class:`~faro_audit.models.options.LoadOptions` fields.

    Parameters
    ----------
    directory : path
        The TARGET directory holding ``faro.toml``.
    trust_code : bool
        Allow values that run code (``--trust-config-code``): a callable ``model``/``scores``,
        ``allow_pickle``/``trust_remote_code = true``.

    Raises
    ------
    FaroUsageError
        Invalid TOML, an unknown key, a wrongly typed value, or code without ``trust_code``;
        the message names the file and the key.
    """
    try:
        import tomllib  # Python ≥ 3.11
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    path = Path(directory) / "faro.toml"
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise FaroUsageError(f"{path}: not valid TOML ({exc}); fix the file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FaroUsageError(f"{path}: cannot be read ({exc.__class__.__name__}); fix the file") from None
    known = sorted(set(_TOML_KEYS) | set(_TOML_ALIASES) | {"model_options"})
    out: dict[str, Any] = {}
    for raw_key, value in doc.items():
        key = _TOML_ALIASES.get(raw_key, raw_key)
        if key == "model_options":
            out[key] = _model_options(path, value, trust_code)
            continue
        if key not in _TOML_KEYS:
            raise FaroUsageError(f"{path}: unknown key {raw_key!r}; known keys are {', '.join(known)}")
        parse, expected, example = _TOML_KEYS[key]
        parsed = parse(value)
        if parsed is None:
            raise FaroUsageError(f"{path}: key {raw_key!r} is {value!r} ({type(value).__name__}), "
                                 f"expected {expected}; write e.g. {example}")
        if key in ("model", "scores") and is_code_target(parsed) and not trust_code:
            _refuse_code(path, raw_key, value, "names Python code to import and run")
        if key in _PATH_KEYS:
            parsed = str((path.parent / parsed).resolve()) if not is_code_target(parsed) else (
                str((path.parent / parsed.rsplit(":", 1)[0]).resolve()) + ":" + parsed.rsplit(":", 1)[1]
                if parsed.rsplit(":", 1)[0].endswith(".py") else parsed)
        out[key] = parsed
    return out


def _model_options(path: Path, table: Any, trust_code: bool) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise FaroUsageError(f"{path}: key 'model_options' is {table!r}, expected a table; write "
                             "[model_options] followed by lines like batch_size = 32")
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = {"beta": "dpo_beta"}.get(key, key)
        where = f"{path}: [model_options] key {key!r}"
        checked = check_load_value(name, value, where=where)
        if name in CODE_OPTIONS and checked and not trust_code:
            _refuse_code(path, f"model_options.{key}", value, "lets the model directory run code")
        if name in ("ref_model", "cache_dir") and checked is not None:
            checked = str((path.parent / checked).resolve())
        out[name] = checked
    return out


# ---------------------------------------------------------------------------------------------
# merging


def _clean(overrides: Mapping[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(AuditSettings)} - {"model_options", "sources", "config_path"}
    clean: dict[str, Any] = {}
    for key, value in overrides.items():
        if key not in names or value is None:
            continue
        if isinstance(value, (list, tuple)):
            if not value:
                continue
            value = tuple(str(v) for v in value)
        clean[key] = value
    return clean


def resolve_settings(cli: Mapping[str, Any], toml: Mapping[str, Any] | None = None, *,
                     config_path: str | os.PathLike[str] | None = None,
                     base: AuditSettings | None = None) -> AuditSettings:
    """Merge field by field: command line > ``faro.toml`` > ``base`` (the defaults).

    Parameters
    ----------
    cli : mapping
        Command-line values; ``None`` or an empty list means "not given". Its
        ``model_options`` is a mapping of :class:`LoadOptions` fields (``None``: not given).
    toml : mapping, optional
        What :func:`load_toml` returned.
    config_path : path, optional
        The ``faro.toml`` file, named in errors about its values.
    base : AuditSettings, optional
        The defaults.

    Returns
    -------
    AuditSettings
        With ``sources`` telling, for each value given, where it came from.
    """
    base = base or AuditSettings()
    toml = dict(toml or {})
    from_toml, from_cli = _clean(toml), _clean(cli)
    sources = {**{k: TOML for k in from_toml}, **{k: CLI for k in from_cli}}
    load, load_sources = merge_load_options(
        (CLI, dict(cli.get("model_options") or {})),
        (TOML, dict(toml.get("model_options") or {})),
        ("default", base.model_options.as_dict()),
    )
    sources.update({f"model_options.{k}": v for k, v in load_sources.items()})
    return replace(base, **{**from_toml, **from_cli}, model_options=load, sources=sources,
                   config_path=str(config_path) if config_path else None)


def merge(base: AuditSettings, overrides: Mapping[str, Any]) -> AuditSettings:
    """``base`` with every non-``None`` (and non-empty, for lists) value of ``overrides``.

    Kept for API users; :func:`resolve_settings` also merges the model options field by field
    and records the sources.
    """
    clean = _clean(overrides)
    if overrides.get("model_options") is not None:
        clean["model_options"] = overrides["model_options"]
    return replace(base, **clean)
