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
from collections.abc import Iterable, Sequence
from pathlib import Path

from faro_audit.errors import FaroUsageError

DB_NAME = "scores.sqlite3"
_CHUNK = 500  # keys per SELECT ... IN (...) (SQLite's default limit is 999 variables)


def default_cache_dir() -> Path:
    """``$FARO_AUDIT_CACHE`` if set, else ``~/.cache/faro-audit``."""
    env = os.environ.get("FARO_AUDIT_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "faro-audit"


class ScoreCache:
    """A SQLite score cache.

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
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.path = self.directory / DB_NAME
            self._db = sqlite3.connect(self.path, timeout=60.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS scores (fingerprint TEXT NOT NULL, key TEXT NOT NULL, "
                "score REAL NOT NULL, truncated INTEGER NOT NULL, "
                "PRIMARY KEY (fingerprint, key)) WITHOUT ROWID"
            )
            self._db.commit()
        except (OSError, sqlite3.Error) as err:
            raise FaroUsageError(
                f"--cache-dir {self.directory}: cannot open the score cache ({err}); give a "
                "writable directory, or pass --no-cache"
            ) from None

    def get(self, fingerprint: str, keys: Sequence[str]) -> dict[str, tuple[float, bool]]:
        """Cached ``{key: (score, truncated)}`` for the keys that are present."""
        found: dict[str, tuple[float, bool]] = {}
        for start in range(0, len(keys), _CHUNK):
            chunk = list(keys[start:start + _CHUNK])
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, score, truncated FROM scores WHERE fingerprint = ? AND key IN ({marks})",
                [fingerprint, *chunk],
            )
            for key, score, truncated in rows:
                found[key] = (float(score), bool(truncated))
        return found

    def put(self, fingerprint: str, items: Iterable[tuple[str, float, bool]]) -> None:
        """Insert or replace ``(key, score, truncated)`` rows and commit."""
        self._db.executemany(
            "INSERT OR REPLACE INTO scores (fingerprint, key, score, truncated) VALUES (?, ?, ?, ?)",
            [(fingerprint, k, float(s), int(bool(t))) for k, s, t in items],
        )
        self._db.commit()

    def count(self, fingerprint: str) -> int:
        """Number of cached texts for one fingerprint."""
        return int(self._db.execute("SELECT COUNT(*) FROM scores WHERE fingerprint = ?",
                                    (fingerprint,)).fetchone()[0])

    def close(self) -> None:
        self._db.close()

    # typing.Self needs Python 3.11; the package supports 3.10
    def __enter__(self) -> ScoreCache:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
