"""manage.py backup / restore (geogrid/backup.py): a backup restored into a new database has
every appeal, photo file and grid version, byte for byte; a damaged or foreign backup, a
non-empty target and a backup from a newer GeoGrid are refused before anything is written."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path

import psycopg
import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from PIL import Image

from geogrid import backup as backups
from geogrid.models import Grid
from geogrid.versions import replace_boundaries
from layers.appeals import transitions
from layers.appeals.categories import load_categories
from layers.appeals.intake import AppealInput, submit_appeal
from layers.appeals.models import Appeal, AppealEvent, AppealPhoto
from tests.layers.appeals.workflow_fixtures import POINT, A, B, C, build_city, resolved
from tests.layers.factories import box

# pg_dump and pg_restore read committed data on their own connections.
pytestmark = pytest.mark.django_db(transaction=True)

# Compared row by row, every column, between the original and the restored database.
TABLES = ["geogrid_grid", "geogrid_staffassignment", "layers_appeal", "layers_appealphoto",
          "layers_appealevent", "layers_trackingsequence", "auth_user"]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def new_db():
    """A database name on the test server that does not exist yet; dropped afterwards."""
    names: list[str] = []

    def make(suffix: str = "restored") -> str:
        name = f"{connection.settings_dict['NAME']}_{suffix}"
        _drop(name)
        names.append(name)
        return name

    yield make
    for name in names:
        _drop(name)


def _admin() -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(dbname="postgres", user=s["USER"], password=s["PASSWORD"],
                           host=s["HOST"], port=s["PORT"], autocommit=True)


def _drop(name: str) -> None:
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _connect(name: str) -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(dbname=name, user=s["USER"], password=s["PASSWORD"],
                           host=s["HOST"], port=s["PORT"], autocommit=True)


def jpeg(color: tuple[int, int, int], size=(640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="JPEG")
    return out.getvalue()


def photo(name: str, color: tuple[int, int, int]) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg(color), content_type="image/jpeg")


def make_data() -> dict:
    """Grids with a second boundary version, appeals with photos through the real intake, a
    workflow with after-photos: what a deployment has."""
    load_categories()
    city = build_city()
    # A second version of micro-grid C (same box, one more vertex): C now has a closed version.
    replace_boundaries([(C, box(117.80, 26.39, 117.81, 26.40).wkb)])
    with_photos = []
    for i, where in enumerate((A, B, C)):
        lon, lat = POINT[where]
        result = submit_appeal(
            AppealInput(category="E0102", lon=lon, lat=lat, description=f"垃圾 {i}",
                        contact_phone="13812345678",
                        photos=[photo(f"p{i}a.jpg", (200, 30 * i, 30)),
                                photo(f"p{i}b.jpg", (30, 200, 30 * i))]),
            actor=AnonymousUser())
        with_photos.append(result.appeal.tracking)
    done = resolved(city, A)
    transitions.check_pass(done.tracking, city.actor("leader_A"))
    after = transitions.accept(
        submit_appeal(AppealInput(category="E0102", lon=POINT[B][0], lat=POINT[B][1]),
                      actor=AnonymousUser()).appeal.tracking, city.actor("dispatcher"))
    transitions.dispatch(after.tracking, city.actor("dispatcher"))
    transitions.start(after.tracking, city.actor("worker_B"))
    transitions.resolve(after.tracking, city.actor("worker_B"), result="cleared",
                        photos=[photo("after.jpg", (10, 10, 250))])
    assert AppealPhoto.objects.filter(event__isnull=False).count() == 1
    return {"city": city, "with_photos": with_photos}


def rows(conn, table: str) -> list[str]:
    """Every row of `table` as text (all columns), in id order."""
    return [r[0] for r in conn.execute(f"SELECT t::text FROM {table} t ORDER BY t.id")]


def original(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT t::text FROM {table} t ORDER BY t.id")
        return [r[0] for r in cursor.fetchall()]


def test_backup_restores_into_a_new_database_with_every_appeal_photo_and_grid_version(
        tmp_path, media, new_db):
    data = make_data()
    archive = tmp_path / "backups" / "geogrid.tar"
    archive.parent.mkdir()
    out = io.StringIO()
    call_command("backup", str(archive), stdout=out)
    assert archive.is_file(), out.getvalue()
    assert "backup written to" in out.getvalue()

    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert {"database.dump", "manifest.json", "media.sha256"} <= set(names)
    assert manifest["format"] == "geogrid-backup" and manifest["geogrid_version"]
    assert manifest["counts"]["layers_appeal"] == Appeal.objects.count() == 5
    assert manifest["counts"]["layers_appealphoto"] == AppealPhoto.objects.count() == 7
    assert manifest["counts"]["geogrid_grid"] == Grid.objects.count() == 8  # 7 + C's new version
    assert "0001_initial" in manifest["migrations"]["geogrid"]
    assert manifest["media"]["files"] == 14 == manifest["media"]["referenced"]  # photo + thumb
    assert manifest["media"]["missing"] == []

    name = new_db()
    restored_media = tmp_path / "restored" / "media"
    url = backups.database_url_for(name)
    out = io.StringIO()
    call_command("restore", str(archive), "--database-url", url, "--media-root",
                 str(restored_media), stdout=out)
    assert "(created)" in out.getvalue() and "14 files restored" in out.getvalue()
    assert url.split("@")[0].split(":")[-1] not in out.getvalue()  # no password printed

    with _connect(name) as conn:
        for table in TABLES:
            assert rows(conn, table) == original(table), table
        # Every appeal, by tracking number, with its photos and timeline.
        trackings = [r[0] for r in conn.execute("SELECT tracking FROM layers_appeal ORDER BY id")]
        assert trackings == list(Appeal.objects.order_by("id").values_list("tracking", flat=True))
        assert set(data["with_photos"]) <= set(trackings)
        events = conn.execute("SELECT count(*) FROM layers_appealevent").fetchone()[0]
        assert events == AppealEvent.objects.count()
        # Every photo file and thumbnail, byte for byte.
        files = conn.execute("SELECT image, thumbnail FROM layers_appealphoto").fetchall()
        assert len(files) == 7
        for image, thumbnail in files:
            for stored in (image, thumbnail):
                assert (restored_media / stored).read_bytes() == (media / stored).read_bytes()
        # Every grid version: C has its closed first version and the current one.
        versions = conn.execute(
            "SELECT code, valid_to IS NULL FROM geogrid_grid ORDER BY code, id").fetchall()
        assert [v for v in versions if v[0] == C] == [(C, False), (C, True)]
        assert sorted(v[0] for v in versions if v[1]) == sorted(
            Grid.objects.current().values_list("code", flat=True))
        # PostGIS works in the restored database: each located appeal is in its grid.
        misplaced = conn.execute(
            """SELECT a.tracking FROM layers_appeal a JOIN geogrid_grid g ON g.id = a.grid_id
                WHERE a.location IS NOT NULL AND NOT ST_Covers(g.boundary, a.location)"""
        ).fetchall()
        assert misplaced == []
        applied = conn.execute("SELECT count(*) FROM django_migrations").fetchone()[0]
        assert applied == sum(len(v) for v in manifest["migrations"].values())

    # The restored database is not empty any more: a second restore is refused…
    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(archive), "--database-url", url, "--media-root",
                     str(tmp_path / "other-media"))
    # …and so is a media folder with files.
    other = new_db("other")
    with pytest.raises(CommandError, match=r"media folder .* is not empty"):
        call_command("restore", str(archive), "--database-url",
                     backups.database_url_for(other), "--media-root", str(restored_media))
    # --force replaces both.
    Appeal.objects.filter(tracking=trackings[0]).delete()  # the original changes; not the backup
    backups.restore(archive, database_url=url, media_root=restored_media, force=True)
    with _connect(name) as conn:
        assert conn.execute("SELECT count(*) FROM layers_appeal").fetchone()[0] == 5


def test_backup_folder_is_checked_and_damage_is_refused_before_anything_is_written(
        tmp_path, media, new_db):
    load_categories()
    build_city()
    lon, lat = POINT[B]
    submit_appeal(AppealInput(category="E0102", lon=lon, lat=lat,
                              photos=[photo("x.jpg", (1, 2, 3))]), actor=AnonymousUser())
    folder = tmp_path / "backup"
    result = backups.backup(folder)
    assert (folder / "media").is_dir() and result.manifest["media"]["files"] == 2
    # The index is `sha256sum -c` compatible.
    checked = subprocess.run(["sha256sum", "-c", "--quiet", "../media.sha256"],
                             cwd=folder / "media", capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    out = io.StringIO()
    call_command("restore", str(folder), "--check", stdout=out)
    assert "match their checksums" in out.getvalue()

    with pytest.raises(CommandError, match="exists already"):
        call_command("backup", str(folder))

    name = new_db()
    url = backups.database_url_for(name)
    # A damaged photo: refused, and no database was created.
    image = next((folder / "media").rglob("*.jpg"))
    good = image.read_bytes()
    image.write_bytes(good[:-10] + b"0123456789")
    with pytest.raises(CommandError, match="does not match its checksum"):
        call_command("restore", str(folder), "--database-url", url, "--media-root",
                     str(tmp_path / "m1"))
    image.write_bytes(good)
    with _admin() as admin:
        assert admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                             [name]).fetchone() is None
    assert not (tmp_path / "m1").exists() or not any((tmp_path / "m1").rglob("*.*"))

    # A damaged dump: refused.
    fresh = tmp_path / "m2"
    dump = folder / "database.dump"
    original_dump = dump.read_bytes()
    dump.write_bytes(original_dump[:-1] + bytes([original_dump[-1] ^ 1]))
    with pytest.raises(CommandError, match=r"database\.dump does not match its checksum"):
        call_command("restore", str(folder), "--database-url", url, "--media-root", str(fresh))
    dump.write_bytes(original_dump)

    # A backup from a newer GeoGrid (a migration this code does not have): refused.
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["migrations"]["appeals"].append("9999_from_the_future")
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match=r"newer GeoGrid.*appeals\.9999_from_the_future"):
        call_command("restore", str(folder), "--database-url", url, "--media-root", str(fresh))
    with _admin() as admin:
        assert admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                             [name]).fetchone() is None
    # Not a backup at all.
    manifest_path.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(CommandError, match="is not a GeoGrid backup"):
        call_command("restore", str(folder), "--database-url", url, "--media-root", str(fresh))
    with pytest.raises(CommandError, match="does not exist"):
        call_command("restore", str(tmp_path / "nowhere"), "--database-url", url)


def test_password_goes_to_pg_dump_through_the_environment_only(tmp_path, media, monkeypatch):
    load_categories()
    calls = []
    real_run = subprocess.run

    def spy(args, **kwargs):
        calls.append((list(args), kwargs.get("env") or {}))
        return real_run(args, **kwargs)

    monkeypatch.setattr(backups.subprocess, "run", spy)
    backups.backup(tmp_path / "b.tar")
    password = connection.settings_dict["PASSWORD"]
    dumps = [(args, env) for args, env in calls if Path(args[0]).name == "pg_dump"]
    assert dumps
    for args, env in dumps:
        assert password and not any(password in a for a in args)
        assert env["PGPASSWORD"] == password
        assert env["PGDATABASE"] == connection.settings_dict["NAME"]
