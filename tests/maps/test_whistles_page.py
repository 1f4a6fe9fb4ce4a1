"""The 吹哨报到 screens' server side: the department member's phone page (/m/whistles/) — who
gets it, who is offered it, what it carries (labels and the user's own departments, never a
whistle) —, the dashboard's whistle data, and the read-only list of departments the blowing
form offers (GET /api/v1/whistles/departments/)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from layers.appeals.models import Department
from tests.layers.whistles.factories import make_world

pytestmark = pytest.mark.django_db

NAV_LINK = '<a href="/m/whistles/"'


@pytest.fixture
def world():
    return make_world()


def client_for(user, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_login(user)
    return client


def page_data(html: str, name: str) -> dict:
    return json.loads(html.split(f'id="{name}" type="application/json">')[1]
                      .split("</script>")[0])


def test_a_member_gets_the_page_with_labels_and_own_departments_only(world):
    response = client_for(world.members["CG"]).get("/m/whistles/")
    html = response.content.decode()
    assert response.status_code == 200
    assert NAV_LINK + ' class="active"' in html
    data = page_data(html, "whistles-data")
    assert [d["code"] for d in data["departments"]] == ["CG"]
    assert set(data["actions"]) == {"report_in", "refuse", "finish", "release", "replace",
                                    "rate"}
    assert data["strings"]["denied"].startswith("Location access was refused")
    assert 'src="/static/maps/js/whistles.js"' in html and "<script>" not in html


def test_the_page_speaks_chinese_first(world):
    html = client_for(world.members["CG"], "zh-hans").get("/m/whistles/").content.decode()
    data = page_data(html, "whistles-data")
    assert "<h1>吹哨报到</h1>" in html
    assert data["strings"]["remoteButton"] == "远程接单"
    assert data["roles"] == {"lead": "主办", "assist": "协办"}


def test_who_is_offered_the_page(world):
    assert client_for(None).get("/m/whistles/").status_code == 302
    for user in (world.dispatcher, world.office, world.community):
        response = client_for(user).get("/m/whistles/")
        assert response.status_code == 200
        assert NAV_LINK not in response.content.decode()
        assert "you are not a member of one" in response.content.decode()
    Department.objects.filter(code="CG").update(active=False)  # an inactive department: no link
    assert NAV_LINK not in client_for(world.members["CG"]).get("/").content.decode()


def test_the_dashboard_carries_the_whistle_registries_and_districts(world):
    html = client_for(world.dispatcher).get("/maps/dispatch/").content.decode()
    whistles = page_data(html, "dashboard")["whistles"]
    assert whistles["districts"] == ["350427"]
    assert {a["name"] for a in whistles["unitActions"]} >= {"rate", "release", "replace"}
    rate = next(a for a in whistles["unitActions"] if a["name"] == "rate")
    assert [f["name"] for f in rate["fields"]][:3] == ["rating", "speed", "quality"]
    assert 'src="/static/maps/js/dashboard-whistles.js"' in html
    assert 'id="whistles-layer"' in html and 'id="a-whistle"' in html


def test_the_departments_a_whistle_may_call_in(world):
    Department.objects.create(code="GD", name_zh="供电公司", district_code="")  # every district
    Department.objects.create(code="XX", name_zh="外区", district_code="350428")
    Department.objects.create(code="OLD", name_zh="撤并", district_code="350427", active=False)
    client = client_for(world.dispatcher)
    body = client.get("/api/v1/whistles/departments/?district=350427").json()
    assert [d["code"] for d in body["departments"]] == ["CG", "GA", "GD", "SW", "ZJ"]
    assert set(body["departments"][0]) == {"code", "name_zh", "name_en"}  # never the members
    bad = client.get("/api/v1/whistles/departments/?district=35")
    assert bad.status_code == 400 and "district" in bad.json()["fields"]
    assert client_for(None).get("/api/v1/whistles/departments/?district=350427"
                                ).status_code == 403
