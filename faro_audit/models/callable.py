"""Python callables as scorers: ``module:function`` or ``path/to/file.py:function``.

The function takes ``(prompts: list[str], responses: list[str])`` and returns one number per
response (any sequence or array). It is called on chunks of ``batch_size`` texts so that the
score cache fills as it goes. Its fingerprint is the SHA-256 of the source file that defines
it plus its qualified name, so editing the file invalidates cached scores (edits to other
files it imports do not: clear the cache, or pass ``--no-cache``, after changing those).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.models.base import BatchResult, check_texts
from faro_audit.models.fingerprint import file_sha256, json_sha256


def looks_like_callable(target: str) -> bool:
    """``module:function`` or ``file.py:function`` syntax (a Windows drive letter is not)."""
    if ":" not in target:
        return False
    left, right = target.rsplit(":", 1)
    return bool(left) and bool(right) and right.replace(".", "_").isidentifier() and len(left) > 1


class _ScorerExited(BaseException):
    """Raised in place of ``os._exit(code)`` while a user's scorer runs (see :func:`_guard_exit`)."""

    def __init__(self, code: object) -> None:
        super().__init__(code)
        self.code = code


def _clean(text: object, limit: int = 200) -> str:
    """``text`` on one line, control characters escaped, at most ``limit`` characters."""
    out = "".join(ch if ch == " " or (ch.isprintable() and ch not in "\x7f") else
                  ch.encode("unicode_escape").decode("ascii") for ch in " ".join(str(text).split()))
    return out if len(out) <= limit else out[:limit - 3] + "..."


def _what(err: BaseException) -> str:
    """What a failure of the user's code was, in words (``SystemExit``/``os._exit`` named)."""
    if isinstance(err, SystemExit):
        return f"it called sys.exit({_clean(repr(err.code), 60)})"
    if isinstance(err, _ScorerExited):
        return f"it called os._exit({_clean(repr(err.code), 60)})"
    return f"raised {type(err).__name__}: {_clean(err)}"


@contextmanager
def _guard_exit() -> Iterator[None]:
    """Turn ``os._exit()`` in the user's code into an exception for as long as it runs.

    ``os._exit`` ends the process at once, with no message, and its exit code would read as an
    audit verdict (0 certified, 1 violated); while a scorer runs it raises instead, and the
    caller reports it as an error naming the callable.
    """
    real = os._exit

    def fake_exit(code: int) -> None:
        raise _ScorerExited(code)

    os._exit = fake_exit  # type: ignore[assignment]
    try:
        yield
    finally:
        os._exit = real


def _import(target: str) -> tuple[Callable[..., Any], str | None]:
    left, name = target.rsplit(":", 1)
    if left.endswith(".py"):
        path = Path(left).expanduser()
        if not path.is_file():
            raise FaroInputError(f"TARGET {target}: no such file {path}; check the path before ':'")
        mod_name = f"_faro_callable_{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]}"
        spec = importlib.util.spec_from_file_location(mod_name, path)
        if spec is None or spec.loader is None:
            raise FaroInputError(f"TARGET {target}: cannot import {path} as a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        try:
            spec.loader.exec_module(module)
        except KeyboardInterrupt:
            sys.modules.pop(mod_name, None)
            raise
        except BaseException as err:  # noqa: BLE001 - the user's file failed to import (SystemExit too)
            sys.modules.pop(mod_name, None)
            raise FaroInputError(f"TARGET {target}: importing {path} failed ({_what(err)}); fix "
                                 "the file") from None
    else:
        try:
            module = importlib.import_module(left)
        except ImportError as err:
            raise FaroInputError(f"TARGET {target}: cannot import module {left!r} ({err}); check "
                                 "the name, or give path/to/file.py:function") from None
        except KeyboardInterrupt:
            raise
        except BaseException as err:  # noqa: BLE001 - the module raised or exited on import
            raise FaroInputError(f"TARGET {target}: importing module {left!r} failed "
                                 f"({_what(err)}); fix the module") from None
    obj: Any = module
    for part in name.split("."):
        if not hasattr(obj, part):
            raise FaroInputError(f"TARGET {target}: {left} has no attribute {name!r}; check the "
                                 "name after ':'")
        obj = getattr(obj, part)
    if not callable(obj):
        raise FaroInputError(f"TARGET {target}: {name} is {type(obj).__name__}, not a function")
    try:
        source = inspect.getsourcefile(obj) or getattr(module, "__file__", None)
    except TypeError:  # builtins, C extensions
        source = getattr(module, "__file__", None)
    return obj, source


class CallableScorer:
    """A Python function ``f(prompts, responses) -> scores`` as a :class:`Scorer`."""

    kind = "callable"

    def __init__(self, target: str, *, batch_size: int = 32) -> None:
        if batch_size < 1:
            raise FaroUsageError(f"--batch-size {batch_size}: must be at least 1")
        self.target = target
        self.function, self.source = _import(target)
        self.batch_size = int(batch_size)
        self.sha256 = file_sha256(self.source) if self.source and os.path.isfile(self.source) else None
        qualname = getattr(self.function, "__qualname__", target.rsplit(":", 1)[1])
        self.fingerprint = json_sha256({"kind": self.kind, "source_sha256": self.sha256,
                                        "qualname": qualname, "target": target.rsplit(":", 1)[1]})

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.target, "sha256": self.sha256,
                "source": self.source, "fingerprint": self.fingerprint,
                "settings": {"batch_size": self.batch_size}}

    def _call(self, prompts: list[str], responses: list[str]) -> np.ndarray:
        """Call the user's function once; every way it can fail is a :class:`FaroInputError`.

        An exception, ``sys.exit()`` or ``os._exit()`` in the function, or a result that is
        not one finite number per response, ends the audit with a one-line error naming the
        callable; only Ctrl-C (``KeyboardInterrupt``) passes through as an interruption.
        """
        try:
            with _guard_exit():
                raw = self.function(prompts, responses)
        except KeyboardInterrupt:
            raise
        except BaseException as err:  # noqa: BLE001 - the user's function failed or exited
            raise FaroInputError(f"TARGET {self.target}: the scorer failed while scoring "
                                 f"{len(prompts)} texts ({_what(err)}); it must return one float "
                                 "per response: fix the callable") from None
        try:
            arr = np.asarray(raw)
            if arr.dtype.kind not in "biuf":
                raise TypeError(arr.dtype)
            out = arr.astype(np.float64).reshape(-1)
        except KeyboardInterrupt:
            raise
        except Exception:  # noqa: BLE001 - anything that is not an array of numbers
            raise FaroInputError(f"TARGET {self.target}: returned {_clean(type(raw).__name__, 60)} "
                                 f"({_clean(repr(raw), 60)}), not numbers; return one float per "
                                 "response") from None
        if out.shape[0] != len(prompts):
            raise FaroInputError(f"TARGET {self.target}: returned {out.shape[0]} scores for "
                                 f"{len(prompts)} responses; return one float per response")
        bad = np.flatnonzero(~np.isfinite(out))
        if bad.size:
            raise FaroInputError(f"TARGET {self.target}: returned a non-finite score ({out[bad[0]]}) "
                                 f"for response {_clean(repr(responses[bad[0]]), 60)}; return a "
                                 "finite float per response")
        return out

    def score_batches(self, prompts: Sequence[str], responses: Sequence[str]) -> Iterator[BatchResult]:
        """Call the function on consecutive chunks of ``batch_size`` texts."""
        check_texts(prompts, responses)
        n = len(prompts)
        for start in range(0, n, self.batch_size):
            idx = np.arange(start, min(n, start + self.batch_size))
            scores = self._call([prompts[i] for i in idx], [responses[i] for i in idx])
            yield BatchResult(idx, scores, np.zeros(len(idx), dtype=bool))

    def score(self, prompts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
        out = np.empty(len(prompts), dtype=np.float64)
        for batch in self.score_batches(prompts, responses):
            out[batch.indices] = batch.scores
        return out


def load_callable(target: str, *, batch_size: int = 32) -> CallableScorer:
    """Import ``module:function`` / ``file.py:function`` and wrap it as a scorer."""
    return CallableScorer(target, batch_size=batch_size)
