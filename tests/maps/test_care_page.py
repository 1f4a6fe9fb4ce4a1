"""The visitor's phone page (/m/care/): who gets it, who is offered it in the navigation, and
that the page itself carries no personal data (it all comes from the care API, logged)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from geogrid.models import AccessLog
from layers.care import services
from layers.care.access import CareViewer
from tests.layers.care.conftest import Ward, build_ward

pytestmark = pytest.mark.django_db

NAV_LINK = '<a href="/m/care/"'


@pytest.fixture
def ward(db) -> Ward:
    return build_ward()


def get(user, url: str = "/m/care/"):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user)
    return client.get(url)


def test_a_visitor_gets_the_page_with_its_data_but_no_personal_data(ward):
    before = AccessLog.objects.count()
    response = get(ward.users["vol"])  # a volunteer: no post at all, a visitor of s1
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Care visits</h1>" in html
    assert NAV_LINK + ' class="active"' in html
    data = json.loads(html.split('id="care-data" type="application/json">')[1]
                      .split("</script>")[0])
    assert {"kinds", "modes", "colours", "triggers", "categories", "strings"} <= set(data)
    assert "urgent_finding" in dict(data["triggers"])
    assert data["categories"] and data["strings"]["saved"] == "Visit saved."
    assert 'src="/static/maps/js/care.js"' in html and "<script>" not in html  # CSP: no inline
    for subject in ward.subjects.values():
        assert subject.person.name not in html
    assert AccessLog.objects.count() == before  # the page reads nothing personal itself


def test_anonymous_is_sent_to_the_login(client):
    response = client.get("/m/care/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/m/care/"


@pytest.mark.parametrize("name, offered", [
    ("gw", True),  # grid worker: care.grid
    ("cs", True),  # community staff: care.subtree
    ("co", True),  # care officer: care.subtree
    ("bl", True),  # building leader, visitor of s2
    ("mul", True),  # micro-unit leader, visitor of s1
    ("vol", True),  # volunteer, visitor of s1
    ("ss", False),  # subdistrict staff: care.list (masked) is not visiting
    ("dispatcher", False),  # care.counts only
    ("manager", False),
    ("resident", False),
])
def test_the_navigation_offers_the_page_to_those_who_may_visit(ward, name, offered):
    response = get(ward.users[name], "/")
    assert (NAV_LINK in response.content.decode()) is offered


def test_a_visitor_whose_assignment_ended_is_no_longer_offered_the_page(ward):
    u = ward.users
    assert NAV_LINK in get(u["vol"], "/").content.decode()
    services.end_visitor(ward.subjects["s1"].pk, CareViewer(u["gw"]), user=u["vol"].pk)
    assert NAV_LINK not in get(u["vol"], "/").content.decode()
    response = get(u["vol"])  # the page still opens, and says there is nothing for them
    assert response.status_code == 200
    assert "You are not assigned to visit anyone yet." in response.content.decode()
