"""The 协商议事 screen's server side (/m/proposals/, maps/proposals.py): who gets it, who is
offered it, what it carries (labels, the action registry's fields and the user's own
communities with their grids — never a proposal), and that it speaks Chinese first."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.layers.deliberation.factories import COMMUNITY2, make_world
from tests.layers.factories import COMMUNITY, A, B

pytestmark = pytest.mark.django_db

NAV_LINK = '<a href="/m/proposals/"'


@pytest.fixture
def world():
    return make_world()


def client_for(user, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_login(user)
    return client


def page_data(html: str) -> dict:
    return json.loads(html.split('id="proposals-data" type="application/json">')[1]
                      .split("</script>")[0])


def test_community_staff_get_their_community_and_the_actions(world):
    response = client_for(world.users["staff"]).get("/m/proposals/")
    html = response.content.decode()
    assert response.status_code == 200
    assert NAV_LINK + ' class="active"' in html
    data = page_data(html)
    [community] = data["communities"]
    assert community["code"] == COMMUNITY
    codes = [g["code"] for g in community["grids"]]
    assert codes[0] == COMMUNITY and {A, B} <= set(codes)
    actions = {a["name"]: a for a in data["actions"]}
    assert set(actions) == {"assess", "link_appeals", "hold_meeting", "decide",
                            "start_project", "evaluate", "close", "withdraw"}
    assert [f["name"] for f in actions["assess"]["fields"]] == ["outcome", "reason"]
    assert [f["name"] for f in actions["close"]["fields"]] == ["note"]  # optional
    assert data["path"][0] == "proposed" and data["path"][-1] == "closed"
    assert 'src="/static/maps/js/proposals.js"' in html and "<script>" not in html
    assert 'id="pr-new-form"' in html and 'role="tablist"' in html


def test_subdistrict_staff_get_the_communities_below(world):
    data = page_data(client_for(world.users["office"]).get("/m/proposals/").content.decode())
    assert [c["code"] for c in data["communities"]] == [COMMUNITY]
    data = page_data(client_for(world.users["staff2"]).get("/m/proposals/").content.decode())
    assert [c["code"] for c in data["communities"]] == [COMMUNITY2]


def test_the_page_speaks_chinese_first(world):
    html = client_for(world.users["staff"], "zh-hans").get("/m/proposals/").content.decode()
    data = page_data(html)
    assert "<h1>协商议事</h1>" in html and "需求清单" in html and "认领清单" in html
    assert "项目清单" in html
    assert data["stages"]["proposed"] == "提案" and data["stages"]["closed"] == "已办结"
    assert data["sizes"] == {"small": "小事", "big": "大事", "urgent": "急事"}
    labels = {a["name"]: a["label"] for a in data["actions"]}
    assert labels["assess"] == "需求评估" and labels["hold_meeting"] == "记录议事会议"
    assert data["strings"]["closeHint"] == "须先完成效果评估才能办结。"
    english = client_for(world.users["staff"]).get("/m/proposals/").content.decode()
    assert "<h1>Proposals 协商议事</h1>" in english


def test_who_is_offered_the_page(world):
    assert client_for(None).get("/m/proposals/").status_code == 302
    for name in ("staff", "office", "staff2"):
        assert NAV_LINK in client_for(world.users[name]).get("/").content.decode(), name
    for name in ("resident", "leader", "worker", "dispatcher", "stranger"):
        response = client_for(world.users[name]).get("/m/proposals/")
        html = response.content.decode()
        assert response.status_code == 200, name
        assert NAV_LINK not in html, name
        assert "you hold no such post" in html and page_data(html)["communities"] == []
        assert 'id="pr-lists"' not in html
