"""A wish's life through the services and the API: review, claim, delivery with photos,
confirmation and its points (once), cancellation (none), disputes, directing, the rules on the
claimant (own household, the cap)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from PIL import Image

from geogrid.errors import Conflict, NotFound
from layers.appeals.models import Notification
from layers.volunteering.models import PointsEntry
from layers.wishes import services
from layers.wishes.models import Claim, ClaimPhoto, Wish, WishEvent
from tests.layers.wishes.conftest import client_for, jpeg_with_gps, viewer

pytestmark = pytest.mark.django_db

S = Wish.Status


def act(user, wish: Wish, action: str, body: dict | None = None, multipart: bool = False):
    url = f"/api/v1/wishes/{wish.pk}/actions/{action}/"
    c = client_for(user)
    if multipart:
        return c.post(url, body or {})
    return c.post(url, body or {}, content_type="application/json")


def points_of(volunteer) -> list[int]:
    return list(PointsEntry.objects.filter(account__volunteer=volunteer)
                .values_list("amount", flat=True))


def test_a_wish_goes_from_posting_to_confirmation_and_the_volunteer_earns_once(square):
    u, v1 = square.users, square.volunteers["v1"]
    wish = square.posted("h1")
    assert wish.status == S.SUBMITTED and wish.code.startswith("WX")
    assert Notification.objects.filter(user=u["cs"], kind="wish_submitted").exists()
    assert act(u["cs"], wish, "publish").status_code == 200
    wish.refresh_from_db()
    assert wish.status == S.PUBLISHED and wish.points_reward == 10 and wish.publish_until

    r = act(u["v1"], wish, "claim")
    assert r.status_code == 201, r.content
    assert r.json()["level"] == "claimant" and r.json()["claim"]["claimant_name"] == "小王"
    r = act(u["v1"], wish, "deliver", {"photos": [jpeg_with_gps()], "note": "送到了"},
            multipart=True)
    assert r.status_code == 200, r.content
    assert r.json()["status"] == S.DELIVERED
    resident = u["resident"]  # a member of h1, but not the wisher: the wisher is h1's head
    assert act(resident, wish, "confirm").status_code in (403, 404)
    r = act(u["gw"], wish, "confirm", {"note": "老人电话确认收到"})
    assert r.status_code == 200, r.content
    assert points_of(v1) == [10]
    claim = Claim.objects.get(wish=wish)
    assert (claim.status, claim.confirmed_as, claim.proxy_note) == (
        "confirmed", "proxy", "老人电话确认收到")
    again = act(u["gw"], wish, "confirm", {"note": "again"})
    assert again.status_code == 409
    assert points_of(v1) == [10]  # a second confirmation posts nothing
    assert list(WishEvent.objects.filter(wish=wish).values_list("kind", flat=True)) == [
        "posted", "published", "claimed", "delivered", "confirmed"]


def test_the_wisher_confirms_for_themselves_without_a_note(square):
    u = square.users
    wish = square.delivered("h1")
    head = square.town.person("h1", 0)
    head.user = u["v3"]  # give the wisher a login (v3 doubles as the resident here)
    head.save(update_fields=["user"])
    r = act(u["v3"], wish, "confirm")
    assert r.status_code == 200, r.content
    assert Claim.objects.get(wish=wish).confirmed_as == "wisher"


def test_a_proxy_confirmation_needs_a_note(square):
    wish = square.delivered("h1")
    r = act(square.users["mul"], wish, "confirm", {"note": " "})
    assert r.status_code == 400 and "note" in r.json()["fields"]
    wish.refresh_from_db()
    assert wish.status == S.DELIVERED and not PointsEntry.objects.exists()


def test_cancelling_posts_no_points_and_puts_the_wish_back_on_the_wall(square):
    u = square.users
    wish = square.claimed("h1", "v1")
    r = act(u["v1"], wish, "cancel", {"note": "生病了"})
    assert r.status_code == 200, r.content
    wish.refresh_from_db()
    assert wish.status == S.PUBLISHED
    assert Claim.objects.get(wish=wish).status == "cancelled"
    assert not PointsEntry.objects.exists()
    assert Notification.objects.filter(kind="wish_released").exists()
    # Someone else may claim it now.
    assert act(u["v2"], wish, "claim").status_code == 201


def test_many_to_one_pays_every_participant_and_a_unit_claim_pays_nobody(square):
    u, vs = square.users, square.volunteers
    wish = square.published("h1")
    r = act(u["v1"], wish, "claim", {"mode": "many_to_one",
                                     "participants": [vs["v2"].pk, vs["v3"].pk]})
    assert r.status_code == 201, r.content
    assert sorted(r.json()["claim"]["participants"]) == ["小李", "小赵"]
    services.deliver(wish.pk, viewer(u["v1"]), photos=[jpeg_with_gps()])
    services.confirm(wish.pk, viewer(u["gw"]), note="confirmed by phone")
    assert [points_of(vs[k]) for k in ("v1", "v2", "v3")] == [[10], [10], [10]]

    other = square.published("h2")
    r = act(u["member"], other, "claim", {"mode": "unit_pairing",
                                          "partner_unit": square.unit.pk})
    assert r.status_code == 201, r.content
    assert r.json()["claim"]["claimant_kind"] == "partner_org"
    services.deliver(other.pk, viewer(u["member"]), photos=[jpeg_with_gps()])
    services.confirm(other.pk, viewer(u["gw"]), note="confirmed by phone")
    assert PointsEntry.objects.count() == 3  # nothing more


def test_delivery_needs_a_photo_and_strips_its_metadata(square):
    u = square.users
    wish = square.claimed("h1", "v1")
    r = act(u["v1"], wish, "deliver", {}, multipart=True)
    assert r.status_code == 400 and "photos" in r.json()["fields"]
    wish.refresh_from_db()
    assert wish.status == S.CLAIMED and not ClaimPhoto.objects.exists()
    r = act(u["v1"], wish, "deliver", {"photos": [jpeg_with_gps()]}, multipart=True)
    assert r.status_code == 200, r.content
    stored = ClaimPhoto.objects.get()
    with stored.image.open("rb") as f:
        assert not Image.open(f).getexif()
    (urls,) = r.json()["claim"]["photos"]
    assert client_for(u["v1"]).get(urls["url"]).status_code == 200
    assert client_for(u["gw"]).get(urls["thumbnail"]).status_code == 200
    assert client_for(u["v2"]).get(urls["url"]).status_code == 404
    assert client_for(u["gw_b"]).get(urls["url"]).status_code == 404


def test_no_claim_on_ones_own_households_wish(square):
    wish = square.published("h3")
    r = act(square.users["v_home"], wish, "claim")
    assert r.status_code == 400, r.content
    assert r.json()["code"] == "invalid" and "wish" in r.json()["fields"]
    wish.refresh_from_db()
    assert wish.status == S.PUBLISHED and not Claim.objects.exists()
    # Nor by naming oneself's household member as a participant.
    other = square.published("h1")
    r = act(square.users["v1"], other, "claim",
            {"mode": "many_to_one", "participants": [square.volunteers["v_home"].pk]})
    assert r.status_code == 201  # v_home lives in h3, not h1: allowed
    third = square.published("h3")
    r = act(square.users["v2"], third, "claim",
            {"mode": "many_to_one", "participants": [square.volunteers["v_home"].pk]})
    assert r.status_code == 400 and "participants" in r.json()["fields"]


def test_a_claimant_holds_at_most_max_active_claims(square, settings):
    settings.GEOGRID = {**settings.GEOGRID,
                        "WISHES": {**settings.GEOGRID["WISHES"], "MAX_ACTIVE_CLAIMS": 2}}
    u = square.users
    wishes = [square.published("h1") for _ in range(3)]
    assert act(u["v1"], wishes[0], "claim").status_code == 201
    assert act(u["v1"], wishes[1], "claim").status_code == 201
    r = act(u["v1"], wishes[2], "claim")
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    assert Claim.objects.filter(volunteer=square.volunteers["v1"]).count() == 2
    services.deliver(wishes[0].pk, viewer(u["v1"]), photos=[jpeg_with_gps()])
    assert act(u["v1"], wishes[2], "claim").status_code == 201  # a delivered one is not active


def test_a_dispute_goes_to_the_community_which_sends_it_back_or_closes_it(square):
    u = square.users
    wish = square.delivered("h1")
    assert act(u["gw"], wish, "dispute", {}).status_code == 400  # a note is required
    assert act(u["gw"], wish, "dispute", {"note": "东西是坏的"}).status_code == 200
    assert Notification.objects.filter(user=u["cs"], kind="wish_disputed").exists()
    assert act(u["gw"], wish, "settle", {"outcome": "redo", "note": "x"}).status_code == 403
    r = act(u["cs"], wish, "settle", {"outcome": "redo", "note": "换一台"})
    assert r.status_code == 200 and r.json()["status"] == S.CLAIMED
    claim = Claim.objects.get(wish=wish)
    assert claim.status == "active" and claim.delivered_at is None
    services.deliver(wish.pk, viewer(u["v1"]), photos=[jpeg_with_gps()])
    services.dispute(wish.pk, viewer(u["gw"]), note="还是坏的")
    r = act(u["cs"], wish, "settle", {"outcome": "close", "note": "不再处理"})
    assert r.status_code == 200 and r.json()["status"] == S.CLOSED
    claim.refresh_from_db()
    assert claim.status == "revoked" and not PointsEntry.objects.exists()


def test_review_rejects_with_a_note_and_withdrawal_ends_a_wish(square):
    u = square.users
    wish = square.posted("h1")
    assert act(u["gw"], wish, "publish").status_code == 403  # grid workers do not review
    assert act(u["cs"], wish, "reject", {}).status_code == 400
    assert act(u["cs"], wish, "reject", {"note": "已由民政救助"}).status_code == 200
    wish.refresh_from_db()
    assert wish.status == S.REJECTED and wish.review_note == "已由民政救助"
    other = square.published("h2")
    assert act(u["bl"], other, "withdraw").status_code == 200  # building leader of h2
    other.refresh_from_db()
    assert other.status == S.WITHDRAWN
    assert act(u["cs"], other, "publish").status_code == 409


def test_staff_direct_a_wish_the_volunteer_accepts_or_declines(square):
    u, vs = square.users, square.volunteers
    wish = square.published("h1")
    r = act(u["cs"], wish, "direct", {"volunteer": vs["v2"].pk})
    assert r.status_code == 200, r.content
    wall = client_for(None).get("/api/v1/wishes/wall/").json()
    assert wish.pk not in {w["id"] for w in wall["results"]}  # directed: off the wall
    assert act(u["v1"], wish, "claim").status_code in (403, 404)
    assert act(u["v2"], wish, "decline").status_code == 200
    wish.refresh_from_db()
    assert wish.directed_to is None
    services.direct(wish.pk, viewer(u["cs"]), volunteer=vs["v2"].pk)
    r = act(u["v2"], wish, "accept")
    assert r.status_code == 201 and r.json()["status"] == S.CLAIMED
    assert Claim.objects.get(wish=wish).volunteer == vs["v2"]


def test_staff_revoke_a_claim_and_the_claimant_is_told(square):
    u = square.users
    wish = square.claimed("h1", "v1")
    assert act(u["v1"], wish, "revoke", {"note": "x"}).status_code == 403
    assert act(u["cs"], wish, "revoke", {"note": "联系不上"}).status_code == 200
    assert Notification.objects.filter(user=u["v1"], kind="claim_ended").exists()
    wish.refresh_from_db()
    assert wish.status == S.PUBLISHED


def test_a_resident_posts_for_their_own_household_only(square):
    u = square.users
    me = viewer(u["resident"])
    wish = services.post_wish(me, category="service", title="修水龙头", est_value=0)
    assert wish.household == square.town.households["h1"]
    assert wish.wisher == square.town.person("h1", 1) and wish.posted_role == "resident"
    with pytest.raises(NotFound):
        services.post_wish(me, household=square.town.households["h3"].pk, category="service",
                           title="x", est_value=0)
    with pytest.raises(ValidationError):  # no person in the register
        services.post_wish(viewer(u["v1"]), category="service", title="x", est_value=0)
    with pytest.raises(NotFound):  # micro-unit leader of U1 posts only for U1's households
        services.post_wish(viewer(u["mul"]), household=square.town.households["h2"].pk,
                           category="service", title="x", est_value=0)
    assert services.post_wish(viewer(u["mul"]), household=square.town.households["h1"].pk,
                              category="service", title="x", est_value=0).posted_role \
        == "unit_leader"


def test_a_claimant_may_not_act_as_staff_and_strangers_see_nothing(square):
    u = square.users
    wish = square.claimed("h1", "v1")
    with pytest.raises(PermissionDenied):
        services.revoke(wish.pk, viewer(u["v1"]), note="x")
    with pytest.raises(NotFound):  # claimed by someone else: v2 does not see it at all
        services.cancel(wish.pk, viewer(u["v2"]))
    with pytest.raises(Conflict):
        services.claim(wish.pk, viewer(u["v1"]))


def test_claiming_a_wish_someone_else_took_is_409_not_404(square):
    wish = square.claimed("h1", "v1")
    r = act(square.users["v2"], wish, "claim")
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    assert client_for(square.users["v2"]).get(f"/api/v1/wishes/{wish.pk}/").status_code == 404
    # Not a volunteer: nothing to learn either way.
    assert act(square.users["resident"], wish, "claim").status_code == 404
