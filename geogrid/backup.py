"""Backup and restore: one pg_dump (custom format) of the database plus the media files.

`backup(dest)` writes, into a new folder or a new `.tar` archive:

    manifest.json   what is inside: time, GeoGrid version, migrations, row counts, checksums
    database.dump   pg_dump --format=custom of the whole database (PostGIS extension included)
    media.sha256    one `sha256  path` line per media file (`sha256sum -c` reads it)
    media/…         MEDIA_ROOT as it was: appeal photos and their thumbnails

Rules and reasons:
- **One snapshot.** The manifest's counts, migration list and list of referenced media files are
  read in the same REPEATABLE READ snapshot that pg_dump dumps (`pg_export_snapshot()` and
  `pg_dump --snapshot`), so they describe exactly what the dump holds, even while GeoGrid runs.
- **Database first, media second.** A photo file is written before the transaction storing its
  row commits, so every photo the dump references was on disk before the snapshot, and the
  media copy made afterwards has it. Files of appeals stored after the snapshot may be in the
  copy too; they are harmless (no row points to them). A referenced file missing from the media
  folder already (lost on the live system) is listed in the manifest, not silently skipped.
- **No password on a command line.** pg_dump and pg_restore get the connection through PGHOST,
  PGPORT, PGUSER, PGDATABASE and PGPASSWORD in their environment.
- **A backup is never overwritten and never half-written.** It is built under a temporary name
  next to DEST and renamed when complete.
- **Restore goes into a new (or empty) database.** `restore(src, database_url=…)` creates the
  database when it does not exist, refuses one that has tables unless `force`, and restores in
  one transaction (`pg_restore --single-transaction --exit-on-error`): all or nothing. Objects
  are owned by the restoring role (`--no-owner --no-acl`). Media go to a folder that must be
  empty unless `force`. Every file is checked against its checksum before anything is
  restored, and the row counts of the restored database are checked against the manifest.
- **Versions.** A backup whose database has migrations this code does not know (made by a newer
  GeoGrid) is refused; one made by an older GeoGrid restores, and the result says to run
  `manage.py migrate` on it.

Nothing here imports from the layers: the media columns are found through Django's model
registry (every FileField), the counts cover every table.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import quote

import psycopg
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.models import FileField
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg import sql
from psycopg.conninfo import make_conninfo

from geogrid.env import database_from_url

FORMAT = "geogrid-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
MEDIA_INDEX = "media.sha256"
MEDIA_DIR = "media"
CHUNK = 1024 * 1024

# The tables a restore is judged by first (every table's count is in the manifest and checked).
KEY_TABLES = ("geogrid_grid", "layers_appeal", "layers_appealphoto", "layers_appealevent")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


# --- connections and the PostgreSQL client programs ------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where a database is: Django's DATABASES entry, reduced to what libpq needs."""

    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""

    @classmethod
    def from_settings(cls, entry: dict[str, Any]) -> Target:
        return cls(name=str(entry["NAME"]), user=str(entry.get("USER") or ""),
                   password=str(entry.get("PASSWORD") or ""), host=str(entry.get("HOST") or ""),
                   port=str(entry.get("PORT") or ""))

    @classmethod
    def from_url(cls, url: str) -> Target:
        try:
            return cls.from_settings(database_from_url(url))
        except ImproperlyConfigured as exc:  # a wrong scheme or no database name
            raise BackupError(str(exc)) from exc

    def other(self, name: str) -> Target:
        return Target(name, self.user, self.password, self.host, self.port)

    def connect(self, **kwargs: Any) -> psycopg.Connection:
        params = {"dbname": self.name, "user": self.user, "password": self.password,
                  "host": self.host, "port": self.port}
        conninfo = make_conninfo(**{k: v for k, v in params.items() if v})
        try:
            return psycopg.connect(conninfo, **kwargs)
        except psycopg.Error as exc:
            raise BackupError(_("cannot connect to database %(db)s: %(reason)s")
                              % {"db": self.label(), "reason": _first_line(exc)}) from exc

    def env(self) -> dict[str, str]:
        """The environment of a client program: the connection, the password never in argv."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        values = {"PGDATABASE": self.name, "PGUSER": self.user, "PGPASSWORD": self.password,
                  "PGHOST": self.host, "PGPORT": self.port}
        env.update({k: v for k, v in values.items() if v})
        return env

    def label(self) -> str:
        """host:port/name for messages (no user, no password)."""
        return f"{self.host or 'localhost'}:{self.port or 5432}/{self.name}"

    def url(self) -> str:
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        port = f":{self.port}" if self.port else ""
        return f"postgres://{auth}@{self.host or 'localhost'}{port}/{quote(self.name, safe='')}"


def pg_program(name: str) -> str:
    """pg_dump / pg_restore: $GEOGRID_PG_BIN, else the newest /usr/lib/postgresql/N/bin (Debian
    keeps the versioned programs there), else PATH."""
    folder = os.environ.get("GEOGRID_PG_BIN")
    candidates = [Path(folder) / name] if folder else []
    versioned = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    candidates += sorted((Path(p) for p in versioned),
                         key=lambda p: _int(p.parent.parent.name), reverse=True)
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    found = shutil.which(name)
    if found:
        return found
    raise BackupError(_("%(program)s not found: install the PostgreSQL client programs "
                        "(postgresql-client-15) or set GEOGRID_PG_BIN to their folder")
                      % {"program": name})


def _replace(pg_restore: str, staging: Path, target: Target) -> None:
    """Replace a database's contents by the dump, in one transaction. Not `pg_restore --clean`:
    it drops the primary keys of partitions one by one, which PostgreSQL refuses (they are
    inherited from the partitioned appeals and timeline, docs/partitioning.md); instead the
    public schema is dropped and the dump's script run after it, all in one psql transaction."""
    script = staging / "restore.sql"
    _run([pg_restore, "--no-owner", "--no-acl", f"--file={script}", str(staging / DUMP)],
         target)
    _run([pg_program("psql"), "--no-password", "-X", "-q", "--single-transaction",
          "-v", "ON_ERROR_STOP=1", f"--dbname={target.name}",
          "-c", "DROP SCHEMA public CASCADE; CREATE SCHEMA public", "-f", str(script)], target)


def _run(args: list[str], target: Target) -> str:
    done = subprocess.run(args, env=target.env(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise BackupError(_("%(program)s failed (exit status %(status)d): %(reason)s")
                          % {"program": Path(args[0]).name, "status": done.returncode,
                             "reason": " / ".join(lines[:5]) or "no message"})
    return done.stdout


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return -1


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# --- what the database holds -----------------------------------------------------------------

_TABLES = """
    SELECT n.nspname, c.relname
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p')
       AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                          AND d.deptype = 'e')
     ORDER BY 1, 2
"""


def _tables(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """Every table but the system's and the extensions' own (PostGIS's spatial_ref_sys)."""
    return [(schema, name) for schema, name in conn.execute(_TABLES).fetchall()]


def _table_key(schema: str, name: str) -> str:
    return name if schema == "public" else f"{schema}.{name}"


def _counts(conn: psycopg.Connection) -> dict[str, int]:
    counts = {}
    for schema, name in _tables(conn):
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema),
                                                             sql.Identifier(name))
        row = conn.execute(query).fetchone()
        counts[_table_key(schema, name)] = int(row[0]) if row else 0
    return counts


def _migrations(conn: psycopg.Connection) -> dict[str, list[str]]:
    exists = conn.execute("SELECT to_regclass('django_migrations')").fetchone()
    if not exists or exists[0] is None:
        return {}
    applied: dict[str, list[str]] = {}
    for app, name in conn.execute("SELECT app, name FROM django_migrations ORDER BY app, id"):
        applied.setdefault(app, []).append(name)
    return applied


def _media_columns() -> list[tuple[str, str]]:
    """(table, column) of every FileField/ImageField of the installed models."""
    return sorted({(m._meta.db_table, f.column) for m in apps.get_models()
                   for f in m._meta.concrete_fields if isinstance(f, FileField)})


def _referenced_media(conn: psycopg.Connection) -> set[str]:
    names: set[str] = set()
    present = {name for _schema, name in _tables(conn)}
    for table, column in _media_columns():
        if table not in present:
            continue
        query = sql.SQL("SELECT {c} FROM {t} WHERE {c} <> ''").format(
            c=sql.Identifier(column), t=sql.Identifier(table))
        names.update(value for (value,) in conn.execute(query) if value)
    return names


def code_migrations() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(migrations on disk, migrations they replace): what this code knows."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    replaced = {old for key in loader.replacements for old in loader.replacements[key].replaces}
    return known, replaced


def unknown_migrations(applied: dict[str, list[str]]) -> list[str]:
    """Migrations recorded in a backup that this code does not have: made by a newer GeoGrid."""
    known, replaced = code_migrations()
    return [f"{app}.{name}" for app, names in sorted(applied.items()) for name in names
            if (app, name) not in known and (app, name) not in replaced]


def pending_migrations(applied: dict[str, list[str]]) -> list[str]:
    """Migrations of this code that the backup's database has not applied yet."""
    known, _replaced = code_migrations()
    have = {(app, name) for app, names in applied.items() for name in names}
    loader = MigrationLoader(None, ignore_no_migrations=True)
    missing = []
    for key in sorted(known):
        if key in have:
            continue
        migration = loader.disk_migrations[key]
        if migration.replaces and all(tuple(old) in have for old in migration.replaces):
            continue  # a squashed migration whose parts were applied
        missing.append(f"{key[0]}.{key[1]}")
    return missing


def geogrid_version() -> str:
    try:
        return metadata.version("geogrid")
    except metadata.PackageNotFoundError:
        return "unknown"


def source_revision() -> str:
    """The git commit of the running code, when it runs from a checkout ('' otherwise)."""
    try:
        done = subprocess.run(["git", "-C", str(settings.BASE_DIR), "rev-parse", "HEAD"],
                              capture_output=True, text=True, check=False, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


# --- backup ----------------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]

    def lines(self) -> list[str]:
        m = self.manifest
        counts = m["counts"]
        out = [_("database %(db)s: %(tables)d tables, %(bytes)s bytes dumped")
               % {"db": m["database"]["name"], "tables": len(counts),
                  "bytes": f"{m['database']['bytes']:,}"}]
        out += [f"  {table:<24} {counts[table]:>10,}" for table in KEY_TABLES if table in counts]
        media = m["media"]
        out.append(_("media: %(files)d files, %(bytes)s bytes (%(referenced)d referenced by "
                     "the database)") % {"files": media["files"], "bytes": f"{media['bytes']:,}",
                                         "referenced": media["referenced"]})
        if media["missing"]:
            out.append(_("warning: %(n)d files the database refers to are missing from "
                         "MEDIA_ROOT already (listed in the manifest), e.g. %(first)s")
                       % {"n": media["missing_count"], "first": media["missing"][0]})
        out.append(_("backup written to %(path)s in %(seconds)s s")
                   % {"path": self.path, "seconds": f"{sum(m['seconds'].values()):.1f}"})
        return out


def backup(dest: Path, *, using: str = "default", media_root: Path | None = None) -> BackupResult:
    """Write a backup of database `using` and of `media_root` (default MEDIA_ROOT) to `dest`:
    a `.tar` archive when the name ends in .tar, a folder otherwise. `dest` must not exist."""
    dest = Path(dest)
    media_root = Path(media_root if media_root is not None else settings.MEDIA_ROOT)
    if dest.exists():
        raise BackupError(_("%(dest)s exists already; a backup never overwrites one")
                          % {"dest": dest})
    if not dest.parent.is_dir():
        raise BackupError(_("folder %(dir)s does not exist") % {"dir": dest.parent})
    target = Target.from_settings(connections[using].settings_dict)
    pg_dump = pg_program("pg_dump")
    as_tar = dest.suffix == ".tar"
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    try:
        seconds: dict[str, float] = {}
        started = time.perf_counter()
        with target.connect(autocommit=False) as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            row = conn.execute("SELECT pg_export_snapshot(), current_setting('server_version')"
                               ).fetchone()
            assert row is not None
            snapshot, server_version = row
            counts = _counts(conn)
            migrations = _migrations(conn)
            referenced = _referenced_media(conn)
            # The exporting transaction stays open while pg_dump reads the same snapshot.
            _run([pg_dump, "--format=custom", "--no-password", f"--snapshot={snapshot}",
                  f"--file={work / DUMP}"], target)
            conn.rollback()
        pg_dump_version = _run([pg_dump, "--version"], target).strip()
        seconds["dump"] = time.perf_counter() - started

        started = time.perf_counter()
        dump_bytes, dump_sha = _file_digest(work / DUMP)
        media_files = list(_walk_media(media_root))
        missing = sorted(referenced - {name for name, _path in media_files})
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": timezone.localtime().isoformat(timespec="seconds"),
            "geogrid_version": geogrid_version(),
            "source_revision": source_revision(),
            "database": {"name": target.name, "server_version": server_version,
                         "pg_dump": pg_dump_version, "file": DUMP, "bytes": dump_bytes,
                         "sha256": dump_sha},
            "migrations": migrations,
            "counts": counts,
            "media": {"root": str(media_root), "dir": MEDIA_DIR, "index": MEDIA_INDEX,
                      "files": len(media_files), "bytes": 0, "index_sha256": "",
                      "referenced": len(referenced), "missing_count": len(missing),
                      "missing": missing[:100]},
            "seconds": seconds,
        }
        if as_tar:
            partial = work / "archive.tar"
            with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
                tar.add(work / DUMP, arcname=DUMP)
                index, total = _media_into_tar(tar, media_files)
                _finish_manifest(manifest, index, total, started)
                _add_bytes(tar, MEDIA_INDEX, index)
                _add_bytes(tar, MANIFEST, _manifest_bytes(manifest))
            os.replace(partial, dest)
        else:
            index, total = _media_into_folder(work / MEDIA_DIR, media_files)
            _finish_manifest(manifest, index, total, started)
            (work / MEDIA_INDEX).write_bytes(index)
            (work / MANIFEST).write_bytes(_manifest_bytes(manifest))
            os.replace(work, dest)
        return BackupResult(dest, manifest)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def _walk_media(root: Path) -> Iterator[tuple[str, Path]]:
    """(posix name relative to root, path) of every regular file under root, sorted."""
    if not root.is_dir():
        return
    found = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in files:
            path = Path(folder) / name
            if path.is_file():
                found.append((path.relative_to(root).as_posix(), path))
    yield from sorted(found)


def _media_into_tar(tar: tarfile.TarFile, files: list[tuple[str, Path]]) -> tuple[bytes, int]:
    lines, total = [], 0
    for name, path in files:
        content = path.read_bytes()
        info = tar.gettarinfo(str(path), arcname=f"{MEDIA_DIR}/{name}")
        info.size = len(content)  # the file may have grown since stat: store what was read
        tar.addfile(info, io.BytesIO(content))
        lines.append(f"{hashlib.sha256(content).hexdigest()}  {name}\n")
        total += len(content)
    return "".join(lines).encode(), total


def _media_into_folder(out: Path, files: list[tuple[str, Path]]) -> tuple[bytes, int]:
    lines, total = [], 0
    out.mkdir()
    for name, path in files:
        content = path.read_bytes()
        copy = out / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(content)
        shutil.copystat(path, copy)
        lines.append(f"{hashlib.sha256(content).hexdigest()}  {name}\n")
        total += len(content)
    return "".join(lines).encode(), total


def _finish_manifest(manifest: dict[str, Any], index: bytes, total: int, started: float) -> None:
    manifest["media"]["bytes"] = total
    manifest["media"]["index_sha256"] = hashlib.sha256(index).hexdigest()
    manifest["seconds"]["media"] = time.perf_counter() - started


def _manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, ensure_ascii=False, indent=1).encode()


def _add_bytes(tar: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(content)
    info.mtime = int(time.time())
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(content))


def _file_digest(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


# --- reading a backup ------------------------------------------------------------------------


class Source:
    """A backup folder or .tar archive, opened for reading."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.tar: tarfile.TarFile | None = None
        if self.path.is_dir():
            return
        if not self.path.is_file():
            raise BackupError(_("%(src)s does not exist") % {"src": self.path})
        try:
            self.tar = tarfile.open(self.path, "r:")  # noqa: SIM115 (closed by close())
        except tarfile.TarError as exc:
            raise BackupError(_("%(src)s is neither a backup folder nor a .tar archive: "
                                "%(reason)s") % {"src": self.path, "reason": exc}) from exc

    def close(self) -> None:
        if self.tar is not None:
            self.tar.close()

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        if self.tar is None:
            path = self.path / name
            if not path.is_file():
                raise BackupError(_("%(src)s has no %(name)s: not a complete GeoGrid backup")
                                  % {"src": self.path, "name": name})
            with path.open("rb") as handle:
                yield handle
            return
        member: IO[bytes] | None
        try:
            member = self.tar.extractfile(self.tar.getmember(name))
        except KeyError:
            member = None
        if member is None:
            raise BackupError(_("%(src)s has no %(name)s: not a complete GeoGrid backup")
                              % {"src": self.path, "name": name})
        with member:
            yield member

    def read(self, name: str) -> bytes:
        with self.open(name) as handle:
            return handle.read()

    def manifest(self) -> dict[str, Any]:
        try:
            manifest = json.loads(self.read(MANIFEST))
        except (ValueError, UnicodeDecodeError) as exc:
            raise BackupError(_("%(src)s: manifest.json is not valid JSON: %(reason)s")
                              % {"src": self.path, "reason": exc}) from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BackupError(_("%(src)s is not a GeoGrid backup (manifest format %(fmt)r)")
                              % {"src": self.path, "fmt": manifest.get("format")
                                 if isinstance(manifest, dict) else None})
        version = manifest.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise BackupError(_("%(src)s was written in backup format %(v)s, which this GeoGrid "
                                "does not read (it reads up to %(mine)d): upgrade GeoGrid")
                              % {"src": self.path, "v": version, "mine": FORMAT_VERSION})
        return manifest


def _safe_name(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or name != path.as_posix():
        raise BackupError(_("unsafe file name in the backup's media index: %(name)r")
                          % {"name": name})
    return name


def _media_index(source: Source, manifest: dict[str, Any]) -> list[tuple[str, str]]:
    index = source.read(manifest["media"]["index"])
    if hashlib.sha256(index).hexdigest() != manifest["media"]["index_sha256"]:
        raise BackupError(_("%(src)s: the media index does not match the manifest's checksum: "
                            "the backup is damaged") % {"src": source.path})
    entries = []
    for line in index.decode().splitlines():
        digest, sep, name = line.partition("  ")
        if not sep:
            raise BackupError(_("%(src)s: malformed media index line %(line)r")
                              % {"src": source.path, "line": line})
        entries.append((digest, _safe_name(name)))
    if len(entries) != manifest["media"]["files"]:
        raise BackupError(_("%(src)s: the media index lists %(n)d files, the manifest %(m)d")
                          % {"src": source.path, "n": len(entries),
                             "m": manifest["media"]["files"]})
    return entries


def _copy_checked(source: Source, name: str, out: Path | None, expected: str) -> int:
    """Copy member `name` to `out` (None: only read it), checking its SHA-256; its size."""
    digest, size = hashlib.sha256(), 0
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
    with source.open(name) as handle, (out.open("wb") if out else io.BytesIO()) as copy:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            if out is not None:
                copy.write(chunk)
            size += len(chunk)
    if digest.hexdigest() != expected:
        raise BackupError(_("%(src)s: %(name)s does not match its checksum: the backup is "
                            "damaged") % {"src": source.path, "name": name})
    return size


# --- restore ---------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    database: str  # host:port/name
    media_root: Path
    manifest: dict[str, Any]
    counts: dict[str, int] = field(default_factory=dict)
    media_files: int = 0
    pending_migrations: list[str] = field(default_factory=list)
    created_database: bool = False
    checked_only: bool = False
    seconds: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        m = self.manifest
        out = [_("backup of %(db)s made %(at)s by GeoGrid %(version)s")
               % {"db": m["database"]["name"], "at": m["created_at"],
                  "version": m["geogrid_version"]}]
        if self.checked_only:
            out.append(_("checked: manifest, database dump and %(n)d media files match their "
                         "checksums; nothing restored") % {"n": self.media_files})
            return out
        out.append(_("database restored into %(db)s%(created)s: %(tables)d tables, row counts "
                     "as in the manifest")
                   % {"db": self.database, "tables": len(self.counts),
                      "created": _(" (created)") if self.created_database else ""})
        out += [f"  {table:<24} {self.counts[table]:>10,}" for table in KEY_TABLES
                if table in self.counts]
        out.append(_("media: %(n)d files restored into %(dir)s")
                   % {"n": self.media_files, "dir": self.media_root})
        if self.pending_migrations:
            out.append(_("the backup is older than this code: run `manage.py migrate` on the "
                         "restored database (%(n)d migrations to apply, e.g. %(first)s)")
                       % {"n": len(self.pending_migrations),
                          "first": self.pending_migrations[0]})
        out.append(_("restored in %(s)s s") % {"s": f"{sum(self.seconds.values()):.1f}"})
        return out


def check(src: Path) -> RestoreResult:
    """Verify a backup without restoring it: manifest, dump and media checksums."""
    source = Source(src)
    try:
        manifest = source.manifest()
        _copy_checked(source, manifest["database"]["file"], None, manifest["database"]["sha256"])
        entries = _media_index(source, manifest)
        for digest, name in entries:
            _copy_checked(source, f"{MEDIA_DIR}/{name}", None, digest)
        return RestoreResult(database="", media_root=Path(), manifest=manifest,
                             media_files=len(entries), checked_only=True)
    finally:
        source.close()


def restore(src: Path, *, database_url: str, media_root: Path | None = None,
            force: bool = False) -> RestoreResult:
    """Restore backup `src` into the database at `database_url` (created when missing; refused
    when it has tables, unless `force`) and its media into `media_root` (default MEDIA_ROOT;
    refused when it has files, unless `force`)."""
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    media_root = Path(media_root if media_root is not None else settings.MEDIA_ROOT)
    target = Target.from_url(database_url)
    pg_restore = pg_program("pg_restore")
    source = Source(src)
    try:
        manifest = source.manifest()
        newer = unknown_migrations(manifest.get("migrations", {}))
        if newer:
            raise BackupError(_("the backup was made by a newer GeoGrid: its database has "
                                "migrations this code does not know (%(names)s); upgrade "
                                "GeoGrid first, then restore") % {"names": ", ".join(newer[:5])})
        if not force and any(p.is_file() for p in media_root.rglob("*")):
            raise BackupError(_("media folder %(dir)s is not empty; restore into an empty "
                                "folder, or pass --force to write over it") % {"dir": media_root})
        exists, tables = _inspect_database(target)
        if tables and not force:
            raise BackupError(_("database %(db)s is not empty (%(n)d tables, e.g. %(first)s): "
                                "restore into a new database, or pass --force to replace what "
                                "is in it") % {"db": target.label(), "n": len(tables),
                                               "first": tables[0]})
        media_root.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=media_root.parent))
        try:
            # Everything is read and checked before anything is created or restored.
            _copy_checked(source, manifest["database"]["file"], staging / DUMP,
                          manifest["database"]["sha256"])
            entries = _media_index(source, manifest)
            for digest, name in entries:
                _copy_checked(source, f"{MEDIA_DIR}/{name}", staging / MEDIA_DIR / name, digest)
            seconds["check"] = time.perf_counter() - started

            started = time.perf_counter()
            if not exists:
                _create_database(target)
            args = [pg_restore, "--no-password", "--single-transaction", "--exit-on-error",
                    "--no-owner", "--no-acl", f"--dbname={target.name}"]
            if tables:
                _replace(pg_restore, staging, target)
            else:
                _run([*args, str(staging / DUMP)], target)
            counts = _verify_counts(target, manifest)
            seconds["database"] = time.perf_counter() - started

            started = time.perf_counter()
            _move_media(staging / MEDIA_DIR, media_root, [name for _d, name in entries])
            seconds["media"] = time.perf_counter() - started
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return RestoreResult(database=target.label(), media_root=media_root, manifest=manifest,
                             counts=counts, media_files=len(entries),
                             pending_migrations=pending_migrations(manifest["migrations"]),
                             created_database=not exists, seconds=seconds)
    finally:
        source.close()


def _inspect_database(target: Target) -> tuple[bool, list[str]]:
    """(does the database exist, its tables — the extensions' own not counted)."""
    try:
        with target.other("postgres").connect(autocommit=True) as admin:
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                   [target.name]).fetchone()
    except BackupError:  # a role without access to the maintenance database: ask the target
        try:
            with target.connect(autocommit=True) as conn:
                return True, [_table_key(*t) for t in _tables(conn)]
        except BackupError:
            pass
        raise
    if not exists:
        return False, []
    with target.connect(autocommit=True) as conn:
        return True, [_table_key(*t) for t in _tables(conn)]


def _create_database(target: Target) -> None:
    with target.other("postgres").connect(autocommit=True) as admin:
        try:
            admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'")
                          .format(sql.Identifier(target.name)))
        except psycopg.Error as exc:
            raise BackupError(_("cannot create database %(db)s: %(reason)s (create it empty, "
                                "owned by the restoring role, and run again)")
                              % {"db": target.label(), "reason": _first_line(exc)}) from exc


def _verify_counts(target: Target, manifest: dict[str, Any]) -> dict[str, int]:
    with target.connect(autocommit=True) as conn:
        counts = _counts(conn)
    expected = manifest["counts"]
    wrong = [f"{table}: {counts.get(table)} instead of {n}" for table, n in expected.items()
             if counts.get(table) != n]
    if wrong:
        raise BackupError(_("the restored database %(db)s does not match the manifest (%(what)s)"
                            "; do not use it") % {"db": target.label(),
                                                  "what": "; ".join(wrong[:5])})
    return counts


def _move_media(staged: Path, media_root: Path, names: list[str]) -> None:
    media_root.mkdir(parents=True, exist_ok=True)
    for name in names:
        out = media_root / name
        out.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged / name, out)


def database_url_for(name: str, using: str = "default") -> str:
    """A postgres:// URL for database `name` on the server of connection `using`."""
    return Target.from_settings(connections[using].settings_dict).other(name).url()


__all__ = ["BackupError", "BackupResult", "RestoreResult", "backup", "check",
           "database_url_for", "restore"]
