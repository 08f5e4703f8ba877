"""Audit settings: defaults, ``faro.toml`` and the command line, in that order of precedence.

A ``faro.toml`` in a TARGET directory may hold (all optional)::

    model = "reward_model"          # model directory, relative to the toml file
    scores = "scores.parquet"       # or a scores file instead of a model
    data = "audit.csv"              # audit table (else --data/--suite/the default suite)
    suite = "default"
    group = ["gender", "race"]
    max_gap = ["dp=0.05", "cf:hard=0.1"]
    delta = 0.05
    bound = "auto"
    beta = 0.1
    seed = 0
    n_boot = 1000
    temperature = 1.0
    reference = "median"
    min_group_size = 30
    [model_options]
    batch_size = 32
    max_length = 512
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from faro_audit.errors import FaroUsageError
from faro_audit.stats.bounds import BOUND_CHOICES as BOUNDS  # "auto" first


@dataclass(frozen=True)
class AuditSettings:
    """Everything that decides an audit's numbers (recorded in ``report.json``)."""

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
    model_options: Mapping[str, Any] = field(default_factory=dict)

    def validate(self) -> AuditSettings:
        """Check ranges; raise a one-line :class:`FaroUsageError` naming the option."""
        if not 0 < self.delta < 1:
            raise FaroUsageError(f"--delta: {self.delta:g} is outside (0, 1); use e.g. 0.05 for 95% confidence")
        if self.bound not in BOUNDS:
            raise FaroUsageError(f"--bound: unknown bound {self.bound!r}; use one of {', '.join(BOUNDS)}")
        if self.beta is not None and not self.beta > 0:
            raise FaroUsageError(f"--beta: {self.beta:g} must be > 0 (the KL coefficient of fine-tuning)")
        if self.n_boot < 0:
            raise FaroUsageError(f"--n-boot: {self.n_boot} must be ≥ 0 (0 turns the bootstrap off)")
        if not self.temperature > 0:
            raise FaroUsageError(f"--temperature: {self.temperature:g} must be > 0")
        if self.sequential and self.bound not in ("auto", "betting"):
            raise FaroUsageError(
                f"--sequential with --bound {self.bound}: only betting confidence sequences stay valid when the "
                "audit stops early; use --bound auto or --bound betting"
            )
        if self.sequential_batches < 1:
            raise FaroUsageError(f"--sequential-batches: {self.sequential_batches} must be >= 1, e.g. 10")
        if self.min_group_size < 2:
            raise FaroUsageError(f"--min-group-size: {self.min_group_size} must be ≥ 2")
        return self

    def as_report(self) -> dict[str, Any]:
        """The ``settings`` block of ``report.json`` (SPEC §8)."""
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
        }


def load_toml(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """Read ``faro.toml`` in ``directory``; paths in it are made relative to that directory."""
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
    known = {f.name for f in fields(AuditSettings)} | {"model", "scores"}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise FaroUsageError(f"{path}: unknown key {unknown[0]!r}; known keys are {', '.join(sorted(known))}")
    for key in ("model", "scores", "data"):
        if key in doc:
            doc[key] = str((path.parent / str(doc[key])).resolve())
    return doc


def merge(base: AuditSettings, overrides: Mapping[str, Any]) -> AuditSettings:
    """``base`` with every non-``None`` (and non-empty, for lists) value of ``overrides``."""
    names = {f.name for f in fields(AuditSettings)}
    clean: dict[str, Any] = {}
    for key, value in overrides.items():
        if key not in names or value is None:
            continue
        if isinstance(value, (list, tuple)):
            if not value:
                continue
            value = tuple(str(v) for v in value)
        clean[key] = value
    return replace(base, **clean)
