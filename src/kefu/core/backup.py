"""Backups (R3.3): SQLite online backup API; PostgreSQL through pg_dump / pg_restore.

Every backup is checked right after it is written (SQLite ``PRAGMA integrity_check``; PostgreSQL
``pg_restore --list``) and its SHA-256 is reported so that operators can record it.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess  # noqa: S404 - runs pg_dump/pg_restore with argument lists, no shell
from dataclasses import dataclass
from pathlib import Path

from kefu.core.config import Settings, plain_database_url


class BackupError(RuntimeError):
    pass


@dataclass
class BackupInfo:
    path: Path
    size: int
    sha256: str
    kind: str


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for cand in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(cand)
    raise BackupError(
        f"{name} is not installed; install the PostgreSQL client tools (apt-get install postgresql-client)"
    )


def backup(settings: Settings, target: Path) -> BackupInfo:
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new file name so no backup is overwritten")
    if settings.is_sqlite:
        src_path = settings.sqlite_path
        assert src_path is not None  # noqa: S101
        if not src_path.exists():
            raise BackupError(f"database file {src_path} does not exist")
        src = sqlite3.connect(str(src_path))
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
            check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dst.close()
            src.close()
        if check != "ok":
            raise BackupError(f"the backup failed its integrity check: {check}")
        kind = "sqlite"
    else:
        url = plain_database_url(settings.database_url)
        subprocess.run(  # noqa: S603
            [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target), url],
            check=True, capture_output=True,
        )  # fmt: skip
        listing = subprocess.run([_pg_tool("pg_restore"), "--list", str(target)], capture_output=True)  # noqa: S603
        if listing.returncode != 0:
            raise BackupError("the dump cannot be read back by pg_restore")
        kind = "postgresql"
    target.chmod(0o600)
    return BackupInfo(path=target, size=target.stat().st_size, sha256=_sha256(target), kind=kind)


def restore(settings: Settings, source: Path) -> None:
    """Restore into the configured database, replacing what it holds."""
    source = source.resolve()
    if not source.exists():
        raise BackupError(f"{source} does not exist")
    if settings.is_sqlite:
        dst_path = settings.sqlite_path
        assert dst_path is not None  # noqa: S101
        dst_path.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            try:
                check = src.execute("PRAGMA integrity_check").fetchone()[0]
            except sqlite3.DatabaseError as exc:
                raise BackupError(f"{source} is not a SQLite backup ({exc}); nothing was restored") from exc
            if check != "ok":
                raise BackupError("the backup file is damaged (integrity check failed); nothing was restored")
            dst = sqlite3.connect(str(dst_path))
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
        return
    url = plain_database_url(settings.database_url)
    proc = subprocess.run(  # noqa: S603
        [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--exit-on-error",
         "--single-transaction", "--dbname", url, str(source)],
        capture_output=True, text=True,
    )  # fmt: skip
    if proc.returncode != 0:
        last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit code {proc.returncode}"
        raise BackupError(f"pg_restore failed: {last}")
