"""A database made before the layers became apps (layers/migrations/0006 and earlier) migrates
forward in place: appeals, timeline rows, buildings, grids and permission grants all survive,
nothing is copied (layers/migrations/0007_moved_to_layer_apps.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from layers.appeals.models import Appeal, AppealEvent
from layers.buildings.models import Building

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_THE_MOVE = [("layers", "0006_holiday_schedule"), ("analytics", "0003_cube_channel"),
                   ("geogrid", "0005_holiday_schedule")]
SQUARE = "SRID=4326;MULTIPOLYGON(((117.7 26.3,117.9 26.3,117.9 26.5,117.7 26.5,117.7 26.3)))"


def _migrate(targets) -> MigrationExecutor:
    # A new executor reads the graph and what is applied now (its constructor builds both).
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def test_appeals_events_buildings_and_grants_survive_the_move():
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    # The models as they were before the move, rendered once; migrating on to the leaves
    # afterwards renders no models of the whole project here (the executor renders its own).
    old = _migrate(BEFORE_THE_MOVE).loader.project_state(BEFORE_THE_MOVE).apps
    try:
        Grid = old.get_model("geogrid", "Grid")
        grid = Grid.objects.create(level=1, code="990001", name="旧区", boundary=SQUARE)
        category = old.get_model("layers", "Category").objects.create(
            code="Z9901", major_zh="测试", name_zh="迁移测试", name_en="move test",
            kind="event", deadline_class="general", deadline_value=3,
            deadline_unit="working_days")
        building = old.get_model("layers", "Building").objects.create(
            source_id="mv-1", address="旧区1幢", estate_or_road="旧区", building_no="1",
            households=12, location="SRID=4326;POINT(117.8 26.4)", grid=grid,
            assignment="covers")
        appeal = old.get_model("layers", "Appeal").objects.create(
            tracking="990001-20261130-00001", district_code="990001", category=category,
            channel="mobile", assignment="covers", grid=grid, building=building,
            location="SRID=4326;POINT(117.8 26.4)", reported_at="2026-11-30T10:00:00+08:00",
            status="received")
        old.get_model("layers", "AppealEvent").objects.create(
            appeal=appeal, kind="received", data={"channel": "mobile"})
        # A grant on a moved model, made through the old app label.
        ContentType = old.get_model("contenttypes", "ContentType")
        Permission = old.get_model("auth", "Permission")
        appeal_type, _ = ContentType.objects.get_or_create(app_label="layers", model="appeal")
        view, _ = Permission.objects.get_or_create(
            content_type=appeal_type, codename="view_appeal",
            defaults={"name": "Can view appeal"})
        old.get_model("auth", "Group").objects.create(name="auditors").permissions.add(view)
    finally:
        _migrate(leaves)

    moved = Appeal.objects.get(tracking="990001-20261130-00001")
    assert moved.category.code == "Z9901" and moved.grid.code == "990001"
    assert moved.building == Building.objects.get(source_id="mv-1")
    assert moved.building.grid_id == moved.grid_id
    assert list(AppealEvent.objects.filter(appeal=moved).values_list("kind", flat=True)) == [
        "received"]
    assert moved.on_time is None  # the generated column is still computed by the database
    perms = Group.objects.get(name="auditors").permissions.get()
    assert (perms.content_type.app_label, perms.codename) == ("appeals", "view_appeal")
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('layers_appeal'), to_regclass('appeals_appeal')")
        assert cursor.fetchone() == ("layers_appeal", None)  # same table, no copy
