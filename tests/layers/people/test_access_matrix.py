"""Who sees what of people: every post (and anonymous, resident, dispatcher) × every people
endpoint × a household inside and outside their scope. Allowed reads answer at the expected
level and write exactly one access-log row; refused ones answer 404/403 and write none; no
answer a post may not have holds an ID number or a clear phone."""

from __future__ import annotations

import json

import pytest

from geogrid.models import AccessLog
from layers.people import identity
from layers.people.models import ChangeEvent, Person

pytestmark = pytest.mark.django_db

# household → the level each user sees it at ("-" = not at all: 404)
SEES = {
    #              h1 (A, U1)  h2 (A, building a2)  h3 (B, U2)
    "mul":        ("unit", "-", "-"),
    "bl":         ("-", "unit", "-"),
    "gw":         ("full", "full", "-"),
    "gw_b":       ("-", "-", "full"),
    "cs":         ("full", "full", "full"),
    "cs2":        ("-", "-", "-"),
    "ss":         ("full", "full", "full"),
    "dispatcher": ("-", "-", "-"),
    "manager":    ("-", "-", "-"),
    "resident":   ("self", "-", "-"),
}
HOUSEHOLDS = ("h1", "h2", "h3")


def clear_identifiers(town) -> list[str]:
    """Every ID number and phone of the town in the clear."""
    out = []
    for p in Person.objects.all():
        out.append(identity.open_value(p.id_cipher, identity.ID_COLUMN))
        out.append(identity.open_value(p.phone_cipher, identity.PHONE_COLUMN))
    return [v for v in out if v] + ["13900001111"]  # households' contact phone


def login(client, town, who):
    if who != "anonymous":
        client.force_login(town.users[who])


@pytest.mark.parametrize("who", [*SEES, "anonymous"])
def test_household_detail_by_post_and_scope(client, town, who):
    login(client, town, who)
    secrets = clear_identifiers(town)
    for i, name in enumerate(HOUSEHOLDS):
        h = town.households[name]
        before = AccessLog.objects.count()
        r = client.get(f"/api/v1/people/households/{h.pk}/")
        body = r.content.decode()
        assert not any(s in body for s in secrets), (who, name)
        if who == "anonymous":
            assert r.status_code in (401, 403)
            assert AccessLog.objects.count() == before
            continue
        want = SEES[who][i]
        if want == "-":
            assert r.status_code == 404, (who, name, r.status_code)
            assert AccessLog.objects.count() == before
            continue
        assert r.status_code == 200, (who, name, body)
        data = r.json()
        assert data["level"] == want
        if want == "unit":
            assert "members" not in data and "id_number" not in body
            assert data["head_name"] and data["contact_phone"].count("*") == 4
        else:
            assert {m["id_number"][:3] for m in data["members"]} == {"350"}
            assert all("*" in m["id_number"] and "*" in m["phone"] for m in data["members"])
        log = AccessLog.objects.order_by("-id").first()
        assert AccessLog.objects.count() == before + 1
        assert (log.user, log.action, log.subject_type, log.subject_ids) == (
            town.users[who], "read", "household", [h.pk])
        assert ("id_number" in log.fields) == (want != "unit")


@pytest.mark.parametrize("who", [*SEES, "anonymous"])
def test_household_list_shows_exactly_the_scope(client, town, who):
    login(client, town, who)
    before = AccessLog.objects.count()
    r = client.get("/api/v1/people/households/")
    if who == "anonymous":
        assert r.status_code in (401, 403)
        return
    assert r.status_code == 200
    got = {x["id"]: x["level"] for x in r.json()["results"]}
    want = {town.households[n].pk: lvl for n, lvl in zip(HOUSEHOLDS, SEES[who], strict=True)
            if lvl != "-"}
    assert got == want
    assert not any(s in r.content.decode() for s in clear_identifiers(town))
    assert AccessLog.objects.count() == before + (1 if want else 0)
    if want:
        assert sorted(AccessLog.objects.order_by("-id").first().subject_ids) == sorted(want)


REPORTERS = {"mul": ("h1",), "bl": ("h2",), "gw": ("h1", "h2"), "gw_b": ("h3",),
             "cs": HOUSEHOLDS, "ss": HOUSEHOLDS}


@pytest.mark.parametrize("who", [*SEES, "anonymous"])
def test_reporting_a_change_by_post_and_scope(client, town, who):
    """set_tags stands for every household action: allowed → 200 and one change-log row;
    a household out of sight → 404, in sight but not theirs to change → 403; nothing written."""
    login(client, town, who)
    for name in HOUSEHOLDS:
        h = town.households[name]
        before = ChangeEvent.objects.count()
        r = client.post(f"/api/v1/people/households/{h.pk}/actions/set_tags/",
                        {"version": h.version, "tags": ["独居"]},
                        content_type="application/json")
        h.refresh_from_db()
        if name in REPORTERS.get(who, ()):
            assert r.status_code == 200, (who, name, r.content)
            assert h.tags == ["独居"] and ChangeEvent.objects.count() == before + 1
            continue
        if who == "anonymous":
            assert r.status_code in (401, 403)
        else:  # resident: sees their own household but may not change it (correction request)
            want = 403 if (who, name) == ("resident", "h1") else 404
            assert r.status_code == want, (who, name, r.status_code)
        assert h.tags != ["独居"] and ChangeEvent.objects.count() == before


VERIFIERS = {"gw": ("h1", "h2"), "gw_b": ("h3",), "cs": HOUSEHOLDS, "ss": HOUSEHOLDS}


@pytest.mark.parametrize("who", list(SEES))
def test_verifying_a_change(client, town, who):
    """Changes a leader reported are verified by grid workers and staff in scope, never by
    the reporter; the leaders themselves may not verify."""
    from layers.people import services
    from tests.layers.people.test_services import viewer

    changes = {}
    for name in HOUSEHOLDS:
        h = town.households[name]
        services.change_contact(h.pk, viewer(town.users["cs"]), contact_phone="13700001234",
                                version=h.version)
        changes[name] = ChangeEvent.objects.filter(household=h).latest("id")
    login(client, town, who)
    for name, change in changes.items():
        r = client.post(f"/api/v1/people/changes/{change.pk}/actions/verify/", {},
                        content_type="application/json")
        if who == "cs":
            assert r.status_code == 403  # the reporter
        elif name in VERIFIERS.get(who, ()):
            assert r.status_code == 200, (who, name, r.content)
            assert r.json()["state"] == "confirmed"
        else:
            assert r.status_code == 404, (who, name, r.status_code)


UNMASKERS = {"cs": HOUSEHOLDS, "ss": HOUSEHOLDS}


@pytest.mark.parametrize("who", list(SEES))
def test_unmask_by_post_and_scope(client, town, who):
    login(client, town, who)
    for name in HOUSEHOLDS:
        person = town.person(name)
        clear = identity.open_value(person.id_cipher, identity.ID_COLUMN)
        before = AccessLog.objects.count()
        r = client.post(f"/api/v1/people/persons/{person.pk}/unmask/",
                        {"reason": "家访核对身份", "fields": ["id_number"]},
                        content_type="application/json")
        if name in UNMASKERS.get(who, ()):
            assert r.status_code == 200 and r.json()["id_number"] == clear
            log = AccessLog.objects.latest("id")
            assert (log.action, log.subject_ids, log.fields, log.reason) == (
                "unmask", [person.pk], ["id_number"], "家访核对身份")
            continue
        assert r.status_code in (403, 404), (who, name, r.status_code)
        assert clear not in r.content.decode()
        assert AccessLog.objects.count() == before


def test_unmask_needs_a_reason_and_has_a_daily_limit(client, town, settings):
    settings.GEOGRID = {**settings.GEOGRID, "UNMASK_DAILY_LIMIT": 2}
    client.force_login(town.users["cs"])
    person = town.person("h2")
    url = f"/api/v1/people/persons/{person.pk}/unmask/"
    r = client.post(url, {"fields": ["phone"]}, content_type="application/json")
    assert r.status_code == 400 and "reason" in r.json()["fields"]
    r = client.post(url, {"fields": ["phone"], "reason": "  "}, content_type="application/json")
    assert r.status_code == 400
    assert not AccessLog.objects.filter(action="unmask").exists()
    for left in (1, 0):
        r = client.post(url, {"fields": ["phone"], "reason": "核对电话号码"},
                        content_type="application/json")
        assert r.status_code == 200 and r.json()["unmasks_left_today"] == left
        assert r.json()["phone"] == "13812345678"
    r = client.post(url, {"fields": ["phone"], "reason": "核对电话号码"},
                    content_type="application/json")
    assert r.status_code == 429 and int(r["Retry-After"]) > 0
    assert "13812345678" not in r.content.decode()
    assert AccessLog.objects.filter(action="unmask").count() == 2


def test_exact_search_by_id_number_stays_in_scope(client, town):
    person = town.person("h3")
    number = identity.open_value(person.id_cipher, identity.ID_COLUMN)
    client.force_login(town.users["gw_b"])
    r = client.get("/api/v1/people/persons/", {"id_number": number.lower()})
    assert r.status_code == 200 and [h["id"] for h in r.json()] == [town.households["h3"].pk]
    log = AccessLog.objects.latest("id")
    assert number not in json.dumps([log.reason, log.fields, log.path])
    client.force_login(town.users["gw"])  # micro-grid A: not theirs
    r = client.get("/api/v1/people/persons/", {"id_number": number})
    assert r.status_code == 200 and r.json() == []
    client.force_login(town.users["mul"])
    assert client.get("/api/v1/people/persons/", {"id_number": number}).status_code == 403


def test_access_report_lists_heaviest_readers_to_subdistrict_staff(client, town):
    client.force_login(town.users["gw"])
    for _ in range(3):
        client.get("/api/v1/people/households/")
    client.force_login(town.users["cs"])
    assert client.get("/api/v1/people/access-report/").status_code == 403
    client.force_login(town.users["ss"])
    rows = client.get("/api/v1/people/access-report/").json()
    assert rows[0]["username"] == "gw" and rows[0]["reads"] == 3 and rows[0]["subjects"] == 6
