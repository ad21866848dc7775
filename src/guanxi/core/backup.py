"""Online backup and restore of the database (C8), for `guanxi backup` and `guanxi restore`.

SQLite: the SQLite online backup API (`sqlite3.Connection.backup`) copies every page in one
step inside one read transaction, so the copy is a consistent snapshot while the server keeps
writing (WAL: writers are not blocked by the reader). The copy is checked with
`PRAGMA integrity_check` before it is kept.

PostgreSQL: `pg_dump --format=custom` (one consistent snapshot by MVCC) and
`pg_restore --clean --if-exists` from it.
"""

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connections
from django.utils import timezone
from django.utils.translation import gettext as _


class BackupError(Exception):
    pass


@dataclass
class BackupResult:
    path: Path
    engine: str
    size: int


def _db(alias: str = "default") -> dict:
    # The connection's own settings: under tests these name the test database.
    return connections[alias].settings_dict


def engine_of(alias: str = "default") -> str:
    engine = _db(alias)["ENGINE"]
    if engine.endswith("sqlite3"):
        return "sqlite"
    if "postgresql" in engine:
        return "postgresql"
    raise BackupError(f"Backups support SQLite and PostgreSQL, not {engine}.")


def default_path(engine: str) -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    suffix = "sqlite3" if engine == "sqlite" else "dump"
    return Path(settings.VAR_DIR) / "backups" / f"guanxi-{stamp}.{suffix}"


def backup(output: Path | None = None, alias: str = "default") -> BackupResult:
    engine = engine_of(alias)
    path = Path(output) if output else default_path(engine)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        raise BackupError(f"{path} exists; choose another name.")
    # Write beside the target and rename: a half-written backup never carries the final name.
    partial = path.with_name(path.name + ".partial")
    try:
        if engine == "sqlite":
            _sqlite_backup(Path(_db(alias)["NAME"]), partial)
        else:
            _pg_dump(alias, partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    path.chmod(0o600)  # a backup holds every customer's contact details
    return BackupResult(path=path, engine=engine, size=path.stat().st_size)


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.exists():
        raise BackupError(f"No database at {source}.")
    src = sqlite3.connect(source, timeout=60)
    dst = sqlite3.connect(target)
    try:
        src.execute("PRAGMA busy_timeout=60000")
        # pages=-1: all pages in one step, inside one read transaction: a consistent snapshot.
        src.backup(dst, pages=-1)
        # The copy is a standalone file: no WAL beside it.
        dst.execute("PRAGMA journal_mode=DELETE")
        _check_sqlite(dst)
    finally:
        dst.close()
        src.close()


def _check_sqlite(conn: sqlite3.Connection) -> None:
    # A file that is no SQLite database at all (a text file, a PostgreSQL dump, a picture)
    # or a truncated copy makes SQLite raise, not answer: each gets a sentence.
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        has_migrations = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='django_migrations'"
        ).fetchone()[0]
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc):
            raise BackupError(
                _(
                    "This file is not a Guanxi backup: it is not an SQLite database. Give the "
                    "file `guanxi backup` wrote (guanxi-….sqlite3). Nothing was changed."
                )
            ) from exc
        raise BackupError(
            _(
                "This backup is damaged or incomplete (it was cut short while being copied?). "
                "Use another backup. Nothing was changed."
            )
        ) from exc
    if result != "ok":
        raise BackupError(
            _(
                "This backup is damaged or incomplete (SQLite's check found: %(result)s). Use "
                "another backup. Nothing was changed."
            )
            % {"result": result}
        )
    if not has_migrations:
        raise BackupError(
            _(
                "This file is not a Guanxi database (no django_migrations table). Nothing was "
                "changed."
            )
        )


def restore(path: Path, alias: str = "default") -> None:
    """Replace the database's contents with the backup at `path`. Stop the server first."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(_("No backup at %(path)s.") % {"path": path})
    engine = engine_of(alias)
    with open(path, "rb") as handle:
        head = handle.read(16)
    if engine == "postgresql" and not head.startswith(b"PGDMP"):
        raise BackupError(
            _(
                "This file is not a Guanxi backup of a PostgreSQL database (a `guanxi backup` "
                "dump starts with PGDMP). Nothing was changed."
            )
        )
    if engine == "sqlite":
        _sqlite_restore(path, Path(_db(alias)["NAME"]), alias)
    else:
        connections[alias].close()
        _pg_restore(alias, path)


def _sqlite_restore(backup_file: Path, target: Path, alias: str = "default") -> None:
    # Check a private copy, so a backup file is never modified by being read.
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.sqlite3"
        shutil.copyfile(backup_file, probe)
        src = sqlite3.connect(probe)
        try:
            _check_sqlite(src)  # before anything is touched: a refused file changes nothing
            connections[alias].close()
            # The backup API writes into the live file through SQLite's own locking, so the
            # WAL and any open connections stay coherent (a plain file copy would not).
            dst = sqlite3.connect(target, timeout=60)
            try:
                dst.execute("PRAGMA busy_timeout=60000")
                src.backup(dst, pages=-1)
                dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                dst.close()
        finally:
            src.close()


def _pg_env_and_url(alias: str) -> tuple[dict, str]:
    db = _db(alias)
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    host = db.get("HOST") or ""
    port = db.get("PORT") or ""
    user = quote(str(db.get("USER") or ""), safe="")
    netloc = f"{user}@" if user else ""
    netloc += host if host and not host.startswith("/") else ""
    if port:
        netloc += f":{port}"
    url = f"postgresql://{netloc}/{quote(str(db['NAME']), safe='')}"
    if host.startswith("/"):
        url += f"?host={quote(host, safe='')}"
    return env, url


def _run(command: list[str], env: dict) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(
            f"{command[0]} is not installed (Debian: apt-get install postgresql-client)."
        )
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[:2000]}")


def _pg_dump(alias: str, target: Path) -> None:
    env, url = _pg_env_and_url(alias)
    _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), "--dbname", url], env)


def _pg_restore(alias: str, backup_file: Path) -> None:
    env, url = _pg_env_and_url(alias)
    if shutil.which("pg_restore") is None:
        _run(["pg_restore"], env)  # says what to install
    try:
        _pg_restore_run(env, url, backup_file)
    except BackupError as exc:
        raise BackupError(
            _(
                "This backup could not be restored; it may be damaged or incomplete. Nothing "
                "was changed (the restore runs in one transaction). Details: %(details)s"
            )
            % {"details": exc}
        ) from exc


def _pg_restore_run(env: dict, url: str, backup_file: Path) -> None:
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            url,
            str(backup_file),
        ],
        env,
    )
