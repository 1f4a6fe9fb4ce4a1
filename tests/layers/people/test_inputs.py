"""Bad input to the people API gets a 400 in the one error shape naming the field, and the
register is unchanged."""

from __future__ import annotations

import pytest

from layers.people.models import ChangeEvent, Household, Person, Residence

pytestmark = pytest.mark.django_db


def names(error: dict, field: str) -> bool:
    """The error names `field` (or an item of it: members.0, tags.0…)."""
    return any(k == field or k.startswith(field + ".") for k in error["fields"])


def counts() -> tuple[int, ...]:
    return (Household.objects.count(), Person.objects.count(), Residence.objects.count(),
            ChangeEvent.objects.count(),
            Residence.objects.filter(valid_to__isnull=True).count())


GOOD_MEMBER = {"name": "李四", "id_number": "350427199001020018", "relation": "spouse",
               "effective_date": "2026-11-01", "version": 1}


@pytest.mark.parametrize("action, body, field", [
    ("move_out", {"effective_date": "2026-13-01"}, "effective_date"),
    ("move_out", {"effective_date": "2999-01-01"}, "effective_date"),
    ("move_out", {"effective_date": "1800-01-01"}, "effective_date"),
    ("move_out", {"effective_date": "2026-11-01", "members": "all"}, "members"),
    ("move_out", {"effective_date": "2026-11-01", "members": [10**30]}, "members"),
    ("move_out", {"effective_date": "2026-11-01", "members": [999999]}, "members"),
    ("move_out", {"effective_date": "2026-11-01", "note": "a\x00b"}, "note"),
    ("add_member", {**GOOD_MEMBER, "id_number": "350427199001020019"}, "id_number"),
    ("add_member", {**GOOD_MEMBER, "id_number": "35042719900230001X"}, "id_number"),
    ("add_member", {**GOOD_MEMBER, "name": "x" * 51}, "name"),
    ("add_member", {**GOOD_MEMBER, "name": 7}, "name"),
    ("add_member", {**GOOD_MEMBER, "phone": "1" * 21}, "phone"),
    ("add_member", {**GOOD_MEMBER, "phone": "call me"}, "phone"),
    ("add_member", {**GOOD_MEMBER, "relation": "boss"}, "relation"),
    ("add_member", {**GOOD_MEMBER, "id_type": "none"}, "id_number"),
    ("set_tags", {"tags": ["VIP"]}, "tags"),
    ("set_tags", {"tags": "独居"}, "tags"),
    ("set_tags", {"tags": ["独居\x00"]}, "tags"),
    ("change_contact", {"contact_phone": None}, "contact_phone"),
    ("raise_issue", {"text": "x" * 501}, "text"),
    ("raise_issue", {"text": "灯坏了", "category": "NOPE"}, "category"),
    ("record_death", {"member": "one", "effective_date": "2026-11-01"}, "member"),
])
def test_bad_action_input_is_a_400_naming_the_field(client, town, action, body, field):
    client.force_login(town.users["gw"])
    h = town.households["h1"]
    body = {"version": 1, **body}
    before = counts()
    r = client.post(f"/api/v1/people/households/{h.pk}/actions/{action}/", body,
                    content_type="application/json")
    assert r.status_code == 400, r.content
    error = r.json()
    assert error["code"] == "invalid" and names(error, field), error
    assert counts() == before


@pytest.mark.parametrize("query, field", [
    ({"grid": "35a"}, "grid"), ({"page": "9" * 30}, "page"), ({"page_size": "0"}, "page_size"),
    ({"tag": "VIP"}, "tag"), ({"status": "gone"}, "status"), ({"building": "nan"}, "building"),
])
def test_bad_list_parameters_are_400(client, town, query, field):
    client.force_login(town.users["gw"])
    r = client.get("/api/v1/people/households/", query)
    assert r.status_code == 400 and field in r.json()["fields"]


def test_move_in_needs_valid_members(client, town):
    client.force_login(town.users["gw"])
    dwelling = town.households["h1"].dwelling_id
    before = counts()
    url = f"/api/v1/people/dwellings/{dwelling}/actions/move_in/"
    r = client.post(url, {"effective_date": "2026-11-01", "members": []},
                    content_type="application/json")
    assert r.status_code == 400 and names(r.json(), "members")
    r = client.post(url, {"effective_date": "2026-11-01", "members": [
        {"name": "甲", "id_number": "350427199001020018", "relation": "child"}]},
        content_type="application/json")
    assert r.status_code == 400 and names(r.json(), "members")
    assert counts() == before
