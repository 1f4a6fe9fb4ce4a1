"""The access matrix of care data, through the API: who sees which subject, which fields (the
groups only at FULL), what each read writes to the access log, and the aggregates-only posts.

    gw      grid worker of A         s1, s2 full            s3 (micro-grid B) 404
    cs, co  community staff / care officer: full everywhere in the community
    ss      subdistrict staff        masked lists, no groups; open with a reason
    mul     micro-unit leader, s1's visitor   s1 as visitor (no groups); s2, s3 404
    bl      building leader, s2's visitor     s2 as visitor
    vol     a volunteer (no post), s1's visitor
    dispatcher, manager, resident, cs2 (the other community): no subject
"""

from __future__ import annotations

import pytest
from django.test import Client

from geogrid.models import AccessLog
from layers.care.models import CareEvent

pytestmark = pytest.mark.django_db

FULL_ONLY = {"groups", "colour_reason", "id_number", "review_due"}


def client_for(user) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


def listed(ward, name: str) -> dict[int, dict]:
    r = client_for(ward.users[name]).get("/api/v1/care/subjects/")
    assert r.status_code == 200, r.content
    return {row["id"]: row for row in r.json()["results"]}


# (user, subject) → expected level; absent → not visible.
MATRIX = {
    "gw": {"s1": "full", "s2": "full"},
    "gw_b": {"s3": "full"},
    "cs": {"s1": "full", "s2": "full", "s3": "full"},
    "co": {"s1": "full", "s2": "full", "s3": "full"},
    "ss": {"s1": "masked", "s2": "masked", "s3": "masked"},
    "mul": {"s1": "visitor"},
    "bl": {"s2": "visitor"},
    "vol": {"s1": "visitor"},
    "dispatcher": {}, "manager": {}, "resident": {}, "cs2": {},
}


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_each_post_lists_exactly_its_subjects_at_its_level(ward, name):
    rows = listed(ward, name)
    want = {ward.subjects[s].pk: level for s, level in MATRIX[name].items()}
    assert {pk: row["level"] for pk, row in rows.items()} == want
    for row in rows.values():
        assert FULL_ONLY.isdisjoint(row) or row["level"] == "full"
        if row["level"] == "masked":
            assert "*" in row["name"] and "phone" not in row and "room" not in row


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_each_detail_read_is_one_log_row_or_a_404(ward, name):
    c = client_for(ward.users[name])
    for key, subject in ward.subjects.items():
        before = AccessLog.objects.count()
        r = c.get(f"/api/v1/care/subjects/{subject.pk}/")
        level = MATRIX[name].get(key)
        if level is None:
            assert r.status_code == 404 and r.json()["code"] == "not_found"
            assert AccessLog.objects.count() == before
            continue
        assert r.status_code == 200 and r.json()["level"] == level
        log = AccessLog.objects.latest("id")
        assert AccessLog.objects.count() == before + 1
        assert log.user == ward.users[name] and log.subject_ids == [subject.pk]
        assert ("groups" in log.fields) == (level == "full")


def test_a_building_leader_never_receives_the_group_anywhere(ward):
    s2 = ward.subjects["s2"]
    c = client_for(ward.users["bl"])
    answers = [c.get(f"/api/v1/care/subjects/{s2.pk}/"), c.get("/api/v1/care/subjects/"),
               c.get("/api/v1/care/dues/?state=open&mine=1"),
               c.get(f"/api/v1/care/subjects/{s2.pk}/visits/")]
    for r in answers:
        assert r.status_code == 200, r.content
        body = r.content.decode()
        assert "hardship" not in body and "困难" not in body and '"groups"' not in body
    detail = answers[0].json()
    assert detail["name"] == s2.person.name and detail["phone"] == s2.person.phone_masked
    assert detail["colour"] == "yellow" and len(detail["checklist"]) == 4
    assert "timeline" not in detail  # the timeline holds the groups of each proposal


def test_a_grid_worker_sees_groups_and_the_timeline(ward):
    s1 = ward.subjects["s1"]
    r = client_for(ward.users["gw"]).get(f"/api/v1/care/subjects/{s1.pk}/")
    body = r.json()
    assert body["groups"] == ["disabled", "subsistence"]
    assert [e["kind"] for e in body["timeline"]][:3] == ["visitor_added", "visitor_added",
                                                         "visitor_added"]
    assert {"proposed", "approved"} <= {e["kind"] for e in body["timeline"]}


def test_subdistrict_staff_open_a_masked_record_with_a_reason_and_it_is_logged(ward):
    s3 = ward.subjects["s3"]
    c = client_for(ward.users["ss"])
    no_reason = c.post(f"/api/v1/care/subjects/{s3.pk}/open/", {}, content_type="application/json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["fields"]
    assert not AccessLog.objects.filter(action="unmask").exists()
    r = c.post(f"/api/v1/care/subjects/{s3.pk}/open/", {"reason": "低保复核"},
               content_type="application/json")
    assert r.status_code == 200 and r.json()["groups"] == ["disabled"]
    log = AccessLog.objects.get(action="unmask")
    assert log.reason == "低保复核" and log.subject_ids == [s3.pk] and "groups" in log.fields
    assert CareEvent.objects.filter(subject=s3, kind="opened").count() == 1
    # A grid worker sees s1 fully but has no right to "open": 403, nothing logged.
    gw = client_for(ward.users["gw"]).post(f"/api/v1/care/subjects/{ward.subjects['s1'].pk}"
                                           "/open/", {"reason": "x"},
                                           content_type="application/json")
    assert gw.status_code == 403 and AccessLog.objects.filter(action="unmask").count() == 1


def test_opening_counts_against_the_daily_unmask_limit(ward, settings):
    settings.GEOGRID = {**settings.GEOGRID, "UNMASK_DAILY_LIMIT": 2}
    c = client_for(ward.users["ss"])
    codes = [c.post(f"/api/v1/care/subjects/{s.pk}/open/", {"reason": "check"},
                    content_type="application/json").status_code
             for s in ward.subjects.values()]
    assert codes == [200, 200, 429]
    assert AccessLog.objects.filter(action="unmask").count() == 2


def test_dispatchers_see_overdue_visits_without_personal_data(ward):
    from django.utils import timezone

    from layers.care.models import VisitDue

    VisitDue.objects.filter(subject=ward.subjects["s2"], kind="regular").update(
        due_at=timezone.now() - timezone.timedelta(days=4))
    before = AccessLog.objects.count()
    r = client_for(ward.users["dispatcher"]).get("/api/v1/care/dues/")
    rows = r.json()
    assert r.status_code == 200 and len(rows) == 1
    assert rows[0]["subject"] is None and "name" not in rows[0] and "address" not in rows[0]
    assert rows[0]["due"]["days_overdue"] == 4 and rows[0]["grid_name"] == "微网格A"
    assert AccessLog.objects.count() == before  # nothing personal was read
    gw_rows = client_for(ward.users["gw"]).get("/api/v1/care/dues/").json()
    assert [x["name"] for x in gw_rows] == [ward.subjects["s2"].person.name]
