"""On-disk score cache (SQLite), keyed by scorer fingerprint and text hash.

One table ``scores(fingerprint, key, score, truncated)``; rows are written and committed as
each batch finishes, so an interrupted run (Ctrl-C, crash, lost machine) keeps what it
scored, and the next run scores only what is missing. The database runs in WAL mode, so a
reader and a writer (two runs at once) do not block each other for long.

The directory is, in order: the ``cache_dir`` argument, ``$FARO_AUDIT_CACHE``,
``~/.cache/faro-audit``. The file is ``scores.sqlite3`` inside it.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from faro_audit.errors import FaroUsageError

DB_NAME = "scores.sqlite3"
#: Seconds to wait for a lock held by another process before running without the cache.
LOCK_TIMEOUT_S = 2.0
_COLUMNS = ("fingerprint", "key", "score", "truncated")
_CHUNK = 500  # keys per SELECT ... IN (...) (SQLite's default limit is 999 variables)


def default_cache_dir() -> Path:
    """``$FARO_AUDIT_CACHE`` if set, else ``~/.cache/faro-audit``."""
    env = os.environ.get("FARO_AUDIT_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "faro-audit"


def _warn(path: Path, why: str) -> None:
    """One line on stderr: the cache is not used for the rest of this run, and why."""
    text = " ".join(why.split())[:200]
    print(f"faro-audit: warning: score cache {path}: {text}; scoring without the cache "
          "(scores are the same, only slower; pass --no-cache to silence, or --cache-dir "
          "for another cache)", file=sys.stderr)


class ScoreCache:
    """A SQLite score cache.

    A cache that cannot be used (a corrupt file, a ``scores`` table of another schema, a lock
    held by another process for more than :data:`LOCK_TIMEOUT_S` seconds, a read-only file)
    never stops an audit nor hangs it: one warning line says why, and the cache is *disabled*
    (``get`` finds nothing, ``put`` stores nothing) for the rest of the run. Another schema's
    file is left as it is. Only a directory that cannot be created is an error.

    Parameters
    ----------
    directory
        Where ``scores.sqlite3`` lives; created if missing. ``None``: :func:`default_cache_dir`.

    Examples
    --------
    >>> import tempfile
    >>> with ScoreCache(tempfile.mkdtemp()) as cache:
    ...     cache.put("fp", [("k1", 0.5, False)])
    ...     cache.get("fp", ["k1", "k2"])
    {'k1': (0.5, False)}
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory).expanduser() if directory else default_cache_dir()
        self.path = self.directory / DB_NAME
        self._db: sqlite3.Connection | None = None
        self.disabled: str | None = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise FaroUsageError(
                f"--cache-dir {self.directory}: cannot create the score cache directory ({err}); "
                "give a writable directory, or pass --no-cache"
            ) from None
        try:
            self._db = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT_S)
            # the schema first: switching a file of another schema to WAL would rewrite it
            cols = tuple(row[1] for row in self._db.execute("PRAGMA table_info(scores)"))
            if cols and cols != _COLUMNS:
                self._disable(f"its scores table has columns {list(cols)}, not {list(_COLUMNS)} "
                              "(another schema; the file is left as it is)")
                return
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS scores (fingerprint TEXT NOT NULL, key TEXT NOT NULL, "
                "score REAL NOT NULL, truncated INTEGER NOT NULL, "
                "PRIMARY KEY (fingerprint, key)) WITHOUT ROWID"
            )
            self._db.commit()
        except (OSError, sqlite3.Error) as err:
            self._disable(self._why(err))

    def _why(self, err: BaseException) -> str:
        text = str(err)
        if "locked" in text or "busy" in text:
            return (f"locked by another process for more than {LOCK_TIMEOUT_S:g} s ({text})")
        return f"cannot be used ({type(err).__name__}: {text})"

    def _disable(self, why: str) -> None:
        """Stop using the cache for this run, with one warning line."""
        if self.disabled is None:
            _warn(self.path, why)
        self.disabled = why
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:  # pragma: no cover - closing a broken connection
                pass
            self._db = None

    def get(self, fingerprint: str, keys: Sequence[str]) -> dict[str, tuple[float, bool]]:
        """Cached ``{key: (score, truncated)}`` for the keys that are present."""
        found: dict[str, tuple[float, bool]] = {}
        if self._db is None:
            return found
        try:
            for start in range(0, len(keys), _CHUNK):
                chunk = list(keys[start:start + _CHUNK])
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, score, truncated FROM scores WHERE fingerprint = ? AND key IN ({marks})",
                    [fingerprint, *chunk],
                ).fetchall()
                for key, score, truncated in rows:
                    found[str(key)] = (float(score), bool(truncated))
        except (sqlite3.Error, TypeError, ValueError) as err:
            self._disable(self._why(err))
            return {}
        return found

    def put(self, fingerprint: str, items: Iterable[tuple[str, float, bool]]) -> None:
        """Insert or replace ``(key, score, truncated)`` rows and commit."""
        if self._db is None:
            return
        try:
            self._db.executemany(
                "INSERT OR REPLACE INTO scores (fingerprint, key, score, truncated) VALUES (?, ?, ?, ?)",
                [(fingerprint, k, float(s), int(bool(t))) for k, s, t in items],
            )
            self._db.commit()
        except sqlite3.Error as err:
            self._disable(self._why(err))

    def count(self, fingerprint: str) -> int:
        """Number of cached texts for one fingerprint."""
        if self._db is None:
            return 0
        return int(self._db.execute("SELECT COUNT(*) FROM scores WHERE fingerprint = ?",
                                    (fingerprint,)).fetchone()[0])

    def close(self) -> None:
        """Close the database (safe on a disabled cache, and twice)."""
        if self._db is not None:
            self._db.close()
            self._db = None

    # typing.Self needs Python 3.11; the package supports 3.10
    def __enter__(self) -> ScoreCache:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
