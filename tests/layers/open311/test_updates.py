"""Two-way: a department's system moves appeals by posting updates, through the appeals
layer's action registry; the app's timeline names the client; what the workflow forbids is a
400 that changes nothing; a replayed update_id acts once."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from layers.appeals.models import Appeal, AppealEvent
from layers.open311.models import Open311Update
from tests.factories import make_user
from tests.layers.open311.conftest import BASE, YA, A, errors_of

pytestmark = pytest.mark.django_db
WATER = "water works system"


def update(client, world, appeal, status: str, update_id: str, key: str = WATER,
           fmt: str = "json", **extra):
    return client.post(BASE + f"servicerequestupdates.{fmt}", {
        "api_key": world.keys[key], "service_request_id": appeal.tracking,
        "update_id": update_id, "status": status,
        "updated_datetime": "2026-05-01T09:30:00+08:00", **extra})


def state(appeal: Appeal) -> tuple[str, int, int]:
    appeal.refresh_from_db()
    return appeal.status, appeal.version, appeal.events.count()


def test_in_progress_then_fixed_shows_in_the_apps_timeline(client, world):
    appeal = world.to_department(world.file(A))
    answer = update(client, world, appeal, "IN_PROGRESS", "wo-1", description="crew sent")
    assert answer.status_code == 200, answer.content
    [started] = answer.json()
    assert state(appeal)[0] == "in_progress"
    answer = update(client, world, appeal, "FIXED", "wo-2", fmt="xml",
                    description="pipe replaced")
    assert answer.status_code == 200, answer.content
    assert b"<service_request_updates><request_update><update_id>" in answer.content
    appeal.refresh_from_db()
    assert appeal.status == "resolved" and appeal.result == "pipe replaced"
    rows = {e.kind: e for e in appeal.events.all()}
    assert rows["start"].data["client"] == WATER and rows["resolve"].data["client"] == WATER
    assert rows["start"].actor_role == "department"
    assert started["update_id"] == str(rows["start"].pk)
    # The app's timeline: a dispatcher of the district sees the client by name.
    dispatcher = make_user("dispatcher")
    from geogrid.models import Post
    from tests.factories import assign
    assign(dispatcher, world.grids["350427"], Post.DISPATCHER)
    client.force_login(dispatcher)
    timeline = client.get(f"/api/v1/appeals/{appeal.tracking}/").json()["timeline"]
    assert [(r["kind"], r["actor"]) for r in timeline if r["kind"] in ("start", "resolve")] == [
        ("start", WATER), ("resolve", WATER)]
    # and GET servicerequestupdates lists them as IN_PROGRESS and FIXED
    listed = client.get(BASE + "servicerequestupdates.json",
                        {"api_key": world.keys[WATER]}).json()
    assert [u["status"] for u in listed][-2:] == ["IN_PROGRESS", "FIXED"]
    assert listed[-1]["description"].endswith("pipe replaced")
    assert Open311Update.objects.get(update_id="wo-2").actions == ["resolve"]


def test_fixed_on_a_dispatched_appeal_starts_and_resolves(client, world):
    appeal = world.to_department(world.file(A))
    answer = update(client, world, appeal, "fixed", "wo-9", description="done")
    assert answer.status_code == 200, answer.content
    assert state(appeal)[0] == "resolved"
    assert Open311Update.objects.get().actions == ["start", "resolve"]


def test_a_forbidden_update_is_a_400_and_changes_nothing(client, world):
    appeal = world.to_department(world.file(A))
    assert update(client, world, appeal, "IN_PROGRESS", "a").status_code == 200
    before = state(appeal)
    for status, word in (("IN_PROGRESS", "being handled"), ("REOPEN", "reopened"),
                         ("OPEN", "reopened"), ("SOMETHING", "unknown")):
        assert word in errors_of(update(client, world, appeal, status, f"x-{status}"), 400)
    assert "description" in errors_of(update(client, world, appeal, "FIXED", "no-result"), 400)
    assert state(appeal) == before
    assert Open311Update.objects.count() == 1


def test_an_after_photo_comes_as_a_file_for_categories_that_need_one(client, world):
    appeal = world.to_department(world.file(A, category="E0102"))
    assert "after-photo" in errors_of(
        update(client, world, appeal, "FIXED", "p1", description="swept"), 400)
    assert state(appeal)[0] == "dispatched"  # the start rolled back with the resolve
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 30)).save(out, format="PNG")
    photo = SimpleUploadedFile("after.png", out.getvalue(), content_type="image/png")
    answer = update(client, world, appeal, "FIXED", "p1", description="swept", media=photo)
    assert answer.status_code == 200, answer.content
    appeal.refresh_from_db()
    assert appeal.status == "resolved" and appeal.photos.filter(event__isnull=False).count() == 1


def test_return_statuses_send_the_appeal_back_to_the_dispatchers(client, world):
    appeal = world.to_department(world.file(A))
    answer = update(client, world, appeal, "NOT_COUNCILS_RESPONSIBILITY", "r1")
    assert answer.status_code == 200, answer.content
    appeal.refresh_from_db()
    assert appeal.status == "returned" and appeal.department is None
    assert appeal.events.get(kind="return").note == "NOT_COUNCILS_RESPONSIBILITY"


def test_a_replayed_update_acts_once(client, world):
    appeal = world.to_department(world.file(A))
    first = update(client, world, appeal, "IN_PROGRESS", "same")
    after_first = state(appeal)
    again = update(client, world, appeal, "IN_PROGRESS", "same")
    assert again.status_code == 200 and again.json() == first.json()
    assert state(appeal) == after_first
    assert "another update" in errors_of(update(client, world, appeal, "FIXED", "same",
                                                description="x"), 400)
    assert Open311Update.objects.count() == 1


def test_scope_permission_and_keys(client, world):
    in_x = world.to_department(world.file(A))
    in_y = world.to_department(world.file(YA))
    before = state(in_x)
    # a key of district Y cannot see or move district X's appeal (its account is in the dept)
    errors_of(update(client, world, in_x, "IN_PROGRESS", "y1", key="district Y system"), 404)
    assert update(client, world, in_y, "IN_PROGRESS", "y2",
                  key="district Y system").status_code == 200
    # no update permission; no key; a bad key
    assert "update" in errors_of(update(client, world, in_x, "IN_PROGRESS", "h1",
                                        key="hotline 12345"), 403)
    assert "API key" in errors_of(client.post(BASE + "servicerequestupdates.json", {
        "service_request_id": in_x.tracking, "update_id": "n", "status": "IN_PROGRESS"}), 403)
    errors_of(client.post(BASE + "servicerequestupdates.xml", {
        "api_key": "gg_0123456789_" + "A" * 43, "service_request_id": in_x.tracking,
        "update_id": "n", "status": "IN_PROGRESS"}), 403, "xml")
    assert state(in_x) == before


def test_the_service_account_must_handle_the_appeal(client, world):
    appeal = world.file(A)  # not dispatched to the department: grid staff handle it
    errors_of(update(client, world, appeal, "IN_PROGRESS", "z"), 403)
    assert state(appeal)[0] == "received" and not Open311Update.objects.exists()


@pytest.mark.parametrize("field, value", [
    ("service_request_id", "not-a-number"), ("service_request_id", "350427-20260101-0000\x001"),
    ("update_id", "u" * 65), ("update_id", ""), ("status", ""),
    ("updated_datetime", "yesterday"), ("description", "d" * 4001),
    ("description", "d" * 2001), ("description", "bad\x00"),
])
def test_bad_update_input_is_a_400(client, world, field, value):
    appeal = world.to_department(world.file(A))
    before = state(appeal)
    data = {"api_key": world.keys[WATER], "service_request_id": appeal.tracking,
            "update_id": "u1", "status": "IN_PROGRESS", "description": "x", field: value}
    answer = client.post(BASE + "servicerequestupdates.json", data)
    if field == "description" and value == "d" * 2001:
        assert "description" in errors_of(answer, 400)  # the workflow's note limit
    else:
        assert field in errors_of(answer, 400)
    assert state(appeal) == before and not Open311Update.objects.exists()


def test_unknown_appeal_is_a_404(client, world):
    answer = client.post(BASE + "servicerequestupdates.json", {
        "api_key": world.keys[WATER], "service_request_id": "350427-20260101-99999",
        "update_id": "u", "status": "IN_PROGRESS"})
    errors_of(answer, 404)
    assert not AppealEvent.objects.exists()
