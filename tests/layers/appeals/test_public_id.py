"""Tracking numbers are sequential, so they open nothing by themselves: anonymous reads and
support go by the token or the unguessable public id, and every refused support is one answer
(no hint whether a number exists, is closed, or was supported already). docs/appeals.md,
"Tracking numbers and public ids"."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from layers.appeals import transitions
from layers.appeals.models import Appeal, public_id_of
from tests.layers.appeals.workflow_fixtures import A, build_city, checked, dispatched, new_appeal

pytestmark = pytest.mark.django_db

REFUSED = {
    "detail": "This report cannot be supported: the link is wrong, the report is no longer "
              "open, or it has your support already.",
    "code": "not_found", "fields": {}, "problems": [],
}


@pytest.fixture
def city():
    return build_city()


def support(client, ref):
    return client.post(f"/api/v1/appeals/{ref}/support/")


def test_every_appeal_gets_its_own_public_id_also_from_raw_inserts(client, city):
    appeal, _ = new_appeal(A)
    other, _ = new_appeal(A)
    assert isinstance(appeal.public_id, uuid.UUID) and appeal.public_id.version == 4
    assert appeal.public_id != other.public_id
    assert Appeal.objects.by_ref(str(appeal.public_id)).get() == appeal
    assert Appeal.objects.by_ref(appeal.tracking).get() == appeal
    # The importers INSERT raw rows: the database default fills the column.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO layers_appeal (tracking, token_hash, district_code, category_id,"
            " description, channel, source_ref, contact_phone, status, assignment, address,"
            " raw_crs, reported_at, created_at, updated_at)"
            " SELECT 'RAW-1', '', '350427', category_id, '', 'hotline_12345', 'x-1', '',"
            " 'received', 'unlocated', '', '', now(), now(), now() FROM layers_appeal LIMIT 1"
            " RETURNING public_id")
        (raw,) = cursor.fetchone()
    assert raw is not None and raw not in (appeal.public_id, other.public_id)


@pytest.mark.parametrize(("ref", "public"), [
    ("350427-20250601-00042", False), ("", False), ("x" * 36, False),
    ("{6f9619ff-8b86-d011-b42d-00c04fc964ff}", False), ("6f9619ff8b86d011b42d00c04fc964ff", False),
    ("6f9619ff-8b86-d011-b42d-00c04fc964ff", True), ("6F9619FF-8B86-D011-B42D-00C04FC964FF", True),
])
def test_a_public_id_is_a_uuid_in_its_36_character_form(ref, public):
    assert (public_id_of(ref) is not None) is public


def test_intake_answers_the_public_id_and_the_share_link(client, city):
    body = client.post("/api/v1/appeals/", {"category": "R0102", "lon": 117.795, "lat": 26.40,
                                            "contact_phone": "13812345678"},
                       content_type="application/json").json()
    appeal = Appeal.objects.get(tracking=body["tracking"])
    assert body["public_id"] == str(appeal.public_id)
    assert body["share_url"] == f"/m/follow/{appeal.public_id}/"
    # The reporter's own view names the share link too.
    seen = client.get(body["url"], HTTP_X_APPEAL_TOKEN=body["token"]).json()
    assert seen["share_url"] == body["share_url"] and seen["public_id"] == body["public_id"]


def test_the_public_id_shows_the_share_card_and_nothing_a_stranger_could_use(client, city):
    appeal, token = new_appeal(A)
    assert client.get(f"/api/v1/appeals/{appeal.tracking}/").status_code == 404
    card = client.get(f"/api/v1/appeals/{appeal.public_id}/")
    assert card.status_code == 200
    body = card.json()
    assert set(body) == {"public_id", "category", "grid", "reported_on", "supporters",
                         "support_url"}
    assert body["grid"] == {"code": A, "name": "微网格A"} and body["supporters"] == 0
    assert body["support_url"] == f"/api/v1/appeals/{appeal.public_id}/support/"
    assert appeal.tracking not in card.content.decode()
    assert "138" not in card.content.decode()  # no contact, masked or not
    # The reporter (token) and staff in scope get the appeal itself, by either reference.
    full = client.get(f"/api/v1/appeals/{appeal.public_id}/", HTTP_X_APPEAL_TOKEN=token).json()
    assert full["tracking"] == appeal.tracking and full["contact_phone"] == "138****5678"
    client.force_login(city.users["dispatcher"])
    assert client.get(f"/api/v1/appeals/{appeal.public_id}/").json()["contact_phone"] == (
        "13812345678")
    # An unknown public id is a plain 404.
    assert client.get(f"/api/v1/appeals/{uuid.uuid4()}/").status_code == 404


def test_anonymous_support_goes_by_the_public_id_and_every_refusal_is_one_answer(client, city):
    appeal = dispatched(city, A)
    closed = checked(city, A)
    transitions.close(closed.tracking, city.actor("dispatcher"))
    refusals = [
        support(client, appeal.tracking),  # a sequential number opens nothing
        support(client, "350427-20991231-99999"),  # a number that does not exist
        support(client, uuid.uuid4()),  # an id that does not exist
        support(client, closed.public_id),  # closed
        client.post(f"/api/v1/appeals/{closed.tracking}/actions/support/"),
    ]
    ok = support(client, appeal.public_id)
    assert ok.status_code == 200
    assert ok.json() == {"public_id": str(appeal.public_id), "supporters": 1, "supported": True}
    refusals.append(support(client, appeal.public_id))  # a second time
    refusals.append(client.post(f"/api/v1/appeals/{appeal.public_id}/support/",
                                {"version": "x"}, content_type="application/json"))
    for answer in refusals:
        assert (answer.status_code, answer.json()) == (404, REFUSED)
    assert Appeal.objects.get(pk=appeal.pk).supporters == 1
    assert Appeal.objects.get(pk=appeal.pk).version == appeal.version  # support bumps nothing
    # A signed-in resident is no different: the number refuses, the public id counts.
    client.force_login(city.users["resident"])
    assert (support(client, appeal.tracking).json()) == REFUSED
    assert support(client, appeal.public_id).json()["supporters"] == 2


def test_a_resident_acting_on_a_number_learns_nothing_staff_get_their_403(client, city):
    appeal, _ = new_appeal(A)
    client.force_login(city.users["resident"])
    for ref in (appeal.tracking, appeal.public_id, "350427-20991231-99999"):
        r = client.post(f"/api/v1/appeals/{ref}/actions/accept/", {"version": 1},
                        content_type="application/json")
        assert r.status_code == 404 and "current" not in r.json(), ref
    # Missing fields are not checked before the 404 either (a 400 would say "it exists").
    r = client.post(f"/api/v1/appeals/{appeal.tracking}/actions/reject/", {},
                    content_type="application/json")
    assert r.status_code == 404
    client.force_login(city.users["worker_B"])  # staff of another micro-grid
    r = client.post(f"/api/v1/appeals/{appeal.tracking}/actions/accept/", {"version": 1},
                    content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "forbidden" and "current" not in r.json()


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_existing_appeals_set_based():
    """A database that already has appeals: every row gets its own id, raw INSERTs get one."""
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    before = [("appeals", "0002_moved_relations")]
    executor.migrate(before)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM layers_category LIMIT 1")
            row = cursor.fetchone()
            if row is None:  # a flushed database (transactional tests): make one
                cursor.execute(
                    "INSERT INTO layers_category (code, major_zh, major_en, name_zh, name_en,"
                    " kind, deadline_class, deadline_value, deadline_unit, icon, active)"
                    " VALUES ('Z9902', '测', 'test', '测', 'test', 'event', 'general', 3,"
                    " 'working_days', '', true) RETURNING id")
                row = cursor.fetchone()
            for n in range(3):
                cursor.execute(
                    "INSERT INTO layers_appeal (tracking, token_hash, district_code,"
                    " category_id, description, channel, source_ref, contact_phone, status,"
                    " assignment, address, raw_crs, reported_at, created_at, updated_at)"
                    " VALUES (%s, '', '990001', %s, '', 'mobile', '', '', 'received',"
                    " 'unlocated', '', '', now(), now(), now())", [f"OLD-{n}", row[0]])
    finally:
        MigrationExecutor(connection).migrate(leaves)
    ids = list(Appeal.objects.filter(tracking__startswith="OLD-").values_list("public_id",
                                                                              flat=True))
    assert len(ids) == 3 and len(set(ids)) == 3 and None not in ids
    Appeal.objects.filter(tracking__startswith="OLD-").delete()
