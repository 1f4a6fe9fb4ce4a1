"""Who sees what of a wish, through the API (layers.wishes.access), and bad input.

    h1's wish (micro-grid A, micro-unit U1), claimed by v1:
        gw, cs, ss   full          mul (U1's leader)   unit          v1   claimant
        gw_b, cs2, bl, dispatcher, manager, v2, resident (h1 but not the wisher): 404
    h2's wish (micro-grid A, building a2), on the wall:
        bl unit; every signed-in user without scope: public; anonymous: only the wall
"""

from __future__ import annotations

import json

import pytest

from geogrid.models import AccessLog
from layers.wishes import services
from layers.wishes.models import Claim, Wish, WishEvent
from tests.layers.factories import COMMUNITY, A
from tests.layers.wishes.conftest import client_for, viewer

pytestmark = pytest.mark.django_db

CLAIMED = {"gw": "full", "cs": "full", "ss": "full", "mul": "unit", "v1": "claimant"}
ON_WALL = {"gw": "full", "cs": "full", "ss": "full", "bl": "unit"}
NAMES = ("gw", "gw_b", "cs", "cs2", "ss", "mul", "bl", "dispatcher", "manager", "v1", "v2",
         "resident", "member")
PHONES = ("13812345678", "138****5678", "13900001111", "139****1111")


def secrets_of(square, wish: Wish) -> list[str]:
    """What the wall and the public level must never carry."""
    head = wish.wisher
    return [head.name, wish.title, wish.description, *PHONES, "洋坊新村", "101室",
            wish.grid.code, wish.grid.name]


@pytest.mark.parametrize("name", NAMES)
def test_each_viewer_sees_each_wish_at_its_level(square, name):
    claimed = square.claimed("h1", "v1")
    wall = square.published("h2")
    c = client_for(square.users[name])
    r = c.get(f"/api/v1/wishes/{claimed.pk}/")
    want = CLAIMED.get(name)
    assert r.status_code == (200 if want else 404), r.content
    if want:
        assert r.json()["level"] == want
        assert ("wisher_name" in r.json()) == (want in ("full", "unit"))
        assert ("title" in r.json()) is True
    r = c.get(f"/api/v1/wishes/{wall.pk}/")
    assert r.status_code == 200
    assert r.json()["level"] == ON_WALL.get(name, "public")
    if r.json()["level"] == "public":
        text = r.content.decode()
        assert not [s for s in secrets_of(square, wall) if s in text]


def test_the_wall_is_public_and_never_names_the_wisher(square):
    wishes = [square.published(h) for h in ("h1", "h2", "h3")]
    square.claimed("h1", "v2")  # a claimed one is not on the wall
    for user in (None, square.users["v1"], square.users["cs"]):
        r = client_for(user).get("/api/v1/wishes/wall/?page_size=50")
        assert r.status_code == 200, r.content
        body = r.json()
        assert {w["id"] for w in body["results"]} == {w.pk for w in wishes}
        text = json.dumps(body, ensure_ascii=False)
        for w in wishes:
            assert not [s for s in secrets_of(square, w) if s in text]
        assert set(body["results"][0]) == {
            "id", "code", "public_title", "category", "category_label", "community",
            "value_band", "points_reward", "publish_until", "directed"}
        assert body["results"][0]["community"] == "西门社区"
        assert body["results"][0]["value_band"] == "51-100"
    assert AccessLog.objects.count() == 0


def test_the_claimant_reads_the_contact_only_while_the_claim_is_theirs_and_live(square):
    u = square.users
    wish = square.claimed("h1", "v1")
    url = f"/api/v1/wishes/{wish.pk}/contact/"
    r = client_for(u["v1"]).get(url)
    assert r.status_code == 200, r.content
    assert r.json()["phone"] == "13812345678" and r.json()["name"] == wish.wisher.name
    assert r.json()["address"].endswith("洋坊新村1幢") and r.json()["room"] == "1单元101室"
    log = AccessLog.objects.get()
    assert (log.user, log.subject_type, log.subject_ids, log.post) == (
        u["v1"], "wish_wisher", [wish.wisher_id], "wish_claimant")
    assert set(log.fields) == {"wisher_name", "phone", "address"}
    for name in ("v2", "gw", "cs", "mul", "resident"):
        assert client_for(u[name]).get(url).status_code in (403, 404), name
    assert client_for(None).get(url).status_code == 403
    services.cancel(wish.pk, viewer(u["v1"]))
    r = client_for(u["v1"]).get(url)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    services.claim(wish.pk, viewer(u["v2"]))  # someone else's now: still 403, not 404
    assert client_for(u["v1"]).get(url).status_code == 403
    assert client_for(u["v2"]).get(url).status_code == 200
    assert AccessLog.objects.count() == 2


def test_the_wisher_sees_the_claimant_by_display_name_only(square):
    u = square.users
    wish = square.claimed("h1", "v1")
    head = wish.wisher
    head.user = u["v3"]
    head.save(update_fields=["user"])
    r = client_for(u["v3"]).get("/api/v1/wishes/mine/")
    assert r.status_code == 200
    (row,) = r.json()["results"]
    assert row["level"] == "wisher" and row["claim"]["claimant_name"] == "小王"
    assert "v1" not in r.content.decode()  # never the claimant's login
    assert row["timeline"] and all(e["data"] == {} for e in row["timeline"])


def test_staff_lists_are_scoped_and_logged(square):
    a = square.published("h1")
    b = square.published("h3")
    for name, want in (("gw", {a.pk}), ("gw_b", {b.pk}), ("cs", {a.pk, b.pk}),
                       ("mul", {a.pk}), ("bl", set()), ("dispatcher", set()), ("v1", set()),
                       ("cs2", set())):
        before = AccessLog.objects.count()
        r = client_for(square.users[name]).get("/api/v1/wishes/")
        assert r.status_code == 200, r.content
        assert {w["id"] for w in r.json()["results"]} == want, name
        assert AccessLog.objects.count() == before + (1 if want else 0)
    assert client_for(None).get("/api/v1/wishes/").status_code == 403
    r = client_for(square.users["cs"]).get(f"/api/v1/wishes/?grid={a.grid.code}&status=published")
    assert {w["id"] for w in r.json()["results"]} == {a.pk}


def test_my_claims_lists_live_and_released_claims_and_offers(square):
    u = square.users
    live = square.claimed("h1", "v1")
    gone = square.claimed("h2", "v1")
    services.cancel(gone.pk, viewer(u["v1"]))
    offered = square.published("h3")
    services.direct(offered.pk, viewer(u["cs"]), volunteer=square.volunteers["v1"].pk)
    r = client_for(u["v1"]).get("/api/v1/wishes/claims/")
    assert r.status_code == 200, r.content
    body = r.json()
    levels = {row["wish"]["id"]: row["wish"]["level"] for row in body["claims"]}
    assert levels == {live.pk: "claimant", gone.pk: "public"}
    assert [w["id"] for w in body["offers"]] == [offered.pk]
    assert "accept" in body["offers"][0]["actions"]
    assert (body["active"], body["max_active"]) == (1, 3)


def test_figures_count_wishes_per_grid_for_counts_posts_only(square):
    square.published("h1")
    square.claimed("h2", "v1")
    confirmed = square.delivered("h3", "v2")
    services.confirm(confirmed.pk, viewer(square.users["gw_b"]), note="by phone")
    square.posted("h1")
    community = square.town.grids[COMMUNITY]
    url = f"/api/v1/wishes/figures/?grid={community.code}&by=5"
    for name in ("dispatcher", "manager", "cs", "ss"):
        r = client_for(square.users[name]).get(url)
        assert r.status_code == 200, (name, r.content)
        rows = {row["name"]: row for row in r.json()["rows"]}
        assert (rows["微网格A"]["open"], rows["微网格A"]["claimed"],
                rows["微网格A"]["submitted"]) == (1, 1, 1)
        assert rows["微网格B"]["fulfilled"] == 1 and rows["微网格C"]["total"] == 0
        assert r.json()["totals"]["total"] == 4
    assert AccessLog.objects.count() == 0
    assert client_for(square.users["gw"]).get(url).status_code == 404  # A only
    grid_a = square.town.grids[A]
    r = client_for(square.users["gw"]).get(f"/api/v1/wishes/figures/?grid={grid_a.code}")
    assert r.status_code == 200 and r.json()["rows"][0]["open"] == 1
    for name in ("v1", "resident", "cs2", "mul"):
        assert client_for(square.users[name]).get(url).status_code == 404, name
    assert client_for(None).get(url).status_code == 403
    r = client_for(square.users["dispatcher"]).get(
        f"/api/v1/wishes/figures/layer/?grid={community.code}&by=5")
    assert r.status_code == 200 and r.json()["type"] == "FeatureCollection"
    assert r.json()["features"][0]["geometry"]["type"] == "MultiPolygon"


def _unchanged(square):
    return (Wish.objects.count(), Claim.objects.count(), WishEvent.objects.count())


@pytest.mark.parametrize("body, field", [
    ({"category": "material", "title": "x", "est_value": 501}, "est_value"),
    ({"category": "material", "title": "x", "est_value": -1}, "est_value"),
    ({"category": "material", "title": "x", "est_value": "lots"}, "est_value"),
    ({"category": "money", "title": "x", "est_value": 5}, "category"),
    ({"category": "material", "title": "  ", "est_value": 5}, "title"),
    ({"category": "material", "title": "x" * 61, "est_value": 5}, "title"),
    ({"category": "material", "title": 7, "est_value": 5}, "title"),
    ({"category": "material", "title": "a\x00b", "est_value": 5}, "title"),
    ({"category": "material", "title": "x", "est_value": 5, "household": "h1"}, "household"),
    ({"category": "material", "title": "x", "est_value": 5, "household": 0}, "household"),
    ({"category": "material", "title": "x", "est_value": 5, "household": 10**30}, "household"),
    ({"title": "x", "est_value": 5}, "category"),
])
def test_bad_posts_are_400_in_the_one_shape_and_change_nothing(square, body, field):
    before = _unchanged(square)
    r = client_for(square.users["gw"]).post("/api/v1/wishes/", body,
                                            content_type="application/json")
    assert r.status_code == 400, r.content
    assert set(r.json()) >= {"detail", "code", "fields", "problems"}
    assert r.json()["code"] == "invalid" and field in r.json()["fields"]
    assert _unchanged(square) == before


@pytest.mark.parametrize("body", [
    {"mode": "teleport"}, {"participants": "x"}, {"mode": "many_to_one"},
    {"mode": "many_to_one", "participants": [0]}, {"mode": "many_to_one", "participants": [1, 1]},
    {"mode": "unit_pairing"}, {"partner_unit": "x"}, {"partner_unit": 999999},
    {"mode": "many_to_one", "participants": [999999]}, {"participants": [5]},
])
def test_bad_claims_are_400_and_claim_nothing(square, body):
    wish = square.published("h1")
    before = _unchanged(square)
    r = client_for(square.users["v1"]).post(f"/api/v1/wishes/{wish.pk}/actions/claim/", body,
                                            content_type="application/json")
    assert r.status_code == 400, r.content
    assert r.json()["code"] == "invalid" and r.json()["fields"]
    assert _unchanged(square) == before


@pytest.mark.parametrize("url", [
    "/api/v1/wishes/wall/?page=0", "/api/v1/wishes/wall/?category=x",
    "/api/v1/wishes/wall/?community=abc", "/api/v1/wishes/?status=nope",
    "/api/v1/wishes/figures/?grid=abc", "/api/v1/wishes/figures/?grid=350427&by=9",
    "/api/v1/wishes/figures/?grid=999", "/api/v1/wishes/figures/?grid=350427001001&by=2",
])
def test_bad_query_parameters_are_400(square, url):
    r = client_for(square.users["cs"]).get(url)
    assert r.status_code == 400, r.content
    assert r.json()["code"] == "invalid"


def test_unknown_wishes_are_404_in_the_one_shape(square):
    c = client_for(square.users["v1"])
    for url in ("/api/v1/wishes/999999/", "/api/v1/wishes/999999/contact/"):
        r = c.get(url)
        assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = c.post("/api/v1/wishes/999999/actions/claim/", {}, content_type="application/json")
    assert r.status_code == 404


def test_the_admin_lists_wishes_without_the_wisher(square):
    from tests.factories import make_user

    wish = square.claimed("h1", "v1")
    root = make_user(username="root", is_superuser=True, is_staff=True)
    c = client_for(root)
    for url in ("/admin/wishes/wish/", f"/admin/wishes/wish/{wish.pk}/change/",
                "/admin/wishes/claim/", f"/admin/wishes/claim/{wish.claims.get().pk}/change/"):
        r = c.get(url)
        assert r.status_code == 200, url
        text = r.content.decode()
        assert wish.wisher.name not in text and wish.title not in text, url
