"""``agritrace backup`` / ``agritrace restore``: the database plus everything in the data
directory that the database alone cannot rebuild (anchoring keystore and its password file,
device-secret and label keys, attachments, the embedded chain's state).

A backup is a directory (mode 0700: it holds keys)::

    manifest.json      format, time, backend, source revision, SHA-256 of every file
    database.dump      PostgreSQL: pg_dump custom format (consistent snapshot, taken while serving)
    database.sqlite    SQLite: the online backup API (consistent while the service writes)
    data/...           the data directory, less the live database and the node's lock/url/log files
    keystore/, attachments/   only when those settings point outside the data directory

Order matters: the database is copied first, then the files.  The service writes the chain
state to disk before it records a batch as anchored, and an attachment before the row citing it,
so files copied after the database are never older than what the database says.  Records
captured after the database copy are simply not in the backup; batches the chain has but the
copied database calls unfinished are found by the worker's resume on chain (``anchorOf``).

Restore goes into an empty database and an empty data directory only, after checking every
file against the manifest, so it can never overwrite a live installation."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL, make_url

from traceability_api.config import Settings
from traceability_api.errors import AgriTraceError, ConfigError
from traceability_api.timeutil import utcnow

FORMAT = 1
SKIP_SUFFIXES = (".lock", ".url", ".log")  # the embedded node's run-time files: remade at start
Progress = Callable[[str], None]


class BackupError(AgriTraceError):
    """A backup or restore that cannot be done as asked (the message says why)."""


@dataclass(frozen=True)
class Location:
    """Where the settings keep the database and files."""

    database_url: str
    data_dir: Path
    keystore: Path
    attachments: Path

    @classmethod
    def of(cls, settings: Settings) -> Location:
        return cls(settings.effective_database_url, settings.data_dir.resolve(), settings.keystore_path.resolve(),
                   settings.attachment_path.resolve())  # fmt: skip

    @property
    def url(self) -> URL:
        return make_url(self.database_url)

    @property
    def sqlite_file(self) -> Path | None:
        u = self.url
        return Path(u.database).resolve() if u.get_backend_name() == "sqlite" and u.database else None

    def extras(self) -> dict[str, Path]:
        """Keystore and attachments when they live outside the data directory."""
        out = {}
        if not self.keystore.is_relative_to(self.data_dir):
            out["keystore"] = self.keystore.parent
        if not self.attachments.is_relative_to(self.data_dir):
            out["attachments"] = self.attachments
        return out


def backup(settings: Settings, dest: Path, progress: Progress = lambda _: None) -> dict[str, Any]:
    loc = Location.of(settings)
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} exists and is not empty: give a new directory")
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    dest.chmod(0o700)
    progress("database")
    backend = loc.url.get_backend_name()
    if backend == "sqlite":
        _sqlite_backup(loc, dest / "database.sqlite")
    elif backend == "postgresql":
        _pg_dump(loc.url, dest / "database.dump")
    else:
        raise BackupError(f"cannot back up a {backend} database")
    progress("files")
    skip: set[Path | None] = {loc.sqlite_file}
    _copy_tree(loc.data_dir, dest / "data", skip)
    for name, path in loc.extras().items():
        _copy_tree(path, dest / name, skip)
    manifest = {"format": FORMAT, "created_at": utcnow().isoformat(), "backend": backend,
                "files": _digests(dest)}  # fmt: skip
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return manifest


def restore(settings: Settings, src: Path, progress: Progress = lambda _: None) -> dict[str, Any]:
    loc = Location.of(settings)
    manifest = _checked_manifest(src)
    backend = loc.url.get_backend_name()
    if manifest["backend"] != backend:
        raise BackupError(f"the backup holds a {manifest['backend']} database; DATABASE_URL is {backend}")
    _require_empty_dir(loc.data_dir, "data directory", allow={loc.sqlite_file})
    for name, path in loc.extras().items():
        if (src / name).exists():
            _require_empty_dir(path, name)
    progress("database")
    if backend == "sqlite":
        target = loc.sqlite_file
        assert target is not None
        if target.exists() and target.stat().st_size > 0:
            raise BackupError(f"{target} is not empty: restore goes into a new database only")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / "database.sqlite", target)
        target.chmod(0o600)
    else:
        _require_empty_pg(loc.database_url)
        _pg_restore(loc.url, src / "database.dump")
    progress("files")
    _copy_tree(src / "data", loc.data_dir, set())
    for name, path in loc.extras().items():
        if (src / name).exists():
            _copy_tree(src / name, path, set())
    return manifest


# ---- SQLite -------------------------------------------------------------------------------------
def _sqlite_backup(loc: Location, target: Path) -> None:
    source = loc.sqlite_file
    if source is None or not source.exists():
        raise BackupError(f"no SQLite database at {source}")
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)  # page by page, consistent even while the service writes
    src.close()
    dst.close()
    target.chmod(0o600)


# ---- PostgreSQL ---------------------------------------------------------------------------------
def _pg_env(url: URL) -> dict[str, str]:
    """libpq connection settings through the environment: the password never on a command line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    pairs = {"PGHOST": url.host, "PGPORT": url.port, "PGUSER": url.username, "PGPASSWORD": url.password,
             "PGDATABASE": url.database}  # fmt: skip
    env |= {k: str(v) for k, v in pairs.items() if v is not None}
    options = url.query.get("options")
    if options:
        env["PGOPTIONS"] = options if isinstance(options, str) else " ".join(options)
    return env


def _schema(url: URL) -> str | None:
    options = url.query.get("options")
    text = options if isinstance(options, str) else " ".join(options or ())
    for part in text.split():
        if part.startswith("-csearch_path="):
            return part.removeprefix("-csearch_path=").split(",")[0]
    return None


def _run(args: list[str], url: URL) -> None:
    tool = shutil.which(args[0])
    if tool is None:
        raise ConfigError(f"{args[0]} not found: install the PostgreSQL client tools (postgresql-client)")
    done = subprocess.run([tool, *args[1:]], env=_pg_env(url), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{args[0]} failed: {done.stderr.strip()[-500:]}")


def _pg_dump(url: URL, target: Path) -> None:
    schema = _schema(url)
    _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}",
          *([f"--schema={schema}"] if schema else [])], url)  # fmt: skip
    target.chmod(0o600)


def _pg_restore(url: URL, dump: Path) -> None:
    _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
          f"--dbname={url.database}", str(dump)], url)  # fmt: skip


def _require_empty_pg(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        tables = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise BackupError(f"the target database has tables ({', '.join(sorted(tables)[:5])} ...): "
                          "restore goes into an empty database only")  # fmt: skip


# ---- files --------------------------------------------------------------------------------------
def _skipped(path: Path, skip: set[Path | None]) -> bool:
    if path.suffix in SKIP_SUFFIXES and path.parent.name == "chain":
        return True
    return any(s is not None and path.name in (s.name, s.name + "-wal", s.name + "-shm", s.name + "-journal")
               and path.parent == s.parent for s in skip)  # fmt: skip


def _copy_tree(src: Path, dst: Path, skip: set[Path | None]) -> None:
    if not src.exists():
        return
    for path in sorted(src.rglob("*")):
        if path.is_dir() or _skipped(path, skip):
            continue
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copy2(path, target)  # keeps mode 0600 of key and password files


def _digests(root: Path) -> dict[str, str]:
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != "manifest.json":
            h = hashlib.sha256()
            with path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            out[path.relative_to(root).as_posix()] = h.hexdigest()
    return out


def _checked_manifest(src: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((src / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{src} is not an AgriTrace backup (manifest.json unreadable: {exc})") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')!r} is not {FORMAT}")
    if _digests(src) != manifest.get("files"):
        raise BackupError(f"{src}: files differ from the manifest (damaged or edited backup)")
    return manifest


def _require_empty_dir(path: Path, what: str, allow: set[Path | None] | None = None) -> None:
    if not path.exists():
        return
    allowed = {a for a in (allow or set()) if a is not None}
    extra = [p for p in path.iterdir() if p.resolve() not in allowed]
    if extra:
        raise BackupError(f"the {what} {path} is not empty: restore goes into an empty one only")
