"""The timeouts job under a frozen clock (`run_timeouts(now=…)`): claims past due + grace time
out and their wishes are republished, directed wishes lapse back to the wall, published wishes
expire; every step once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from layers.appeals.models import Notification
from layers.wishes import services
from layers.wishes.models import Claim, Wish, WishEvent
from layers.wishes.timeouts import run_timeouts
from tests.layers.wishes.conftest import client_for, viewer

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def test_a_claim_times_out_after_due_plus_grace_and_the_wish_is_republished(square):
    wish = square.claimed("h1", "v1")
    claim = Claim.objects.get(wish=wish)
    due = claim.due_at
    assert run_timeouts(now=due + 2 * DAY - dt.timedelta(minutes=1)).timed_out == []
    assert Claim.objects.get(pk=claim.pk).status == "active"

    report = run_timeouts(now=due + 2 * DAY)
    assert report.timed_out == [wish.code]
    claim.refresh_from_db()
    wish.refresh_from_db()
    assert claim.status == "timed_out" and claim.ended_at == due + 2 * DAY
    assert wish.status == "published" and wish.publish_until >= due + 9 * DAY
    assert WishEvent.objects.filter(wish=wish, kind="timed_out", claim=claim).count() == 1
    assert Notification.objects.filter(user=square.users["v1"], kind="claim_ended").count() == 1
    assert Notification.objects.filter(user=square.users["gw"], kind="wish_released").count() == 1

    again = run_timeouts(now=due + 2 * DAY + dt.timedelta(hours=1))
    assert again.timed_out == [] and again.notifications == 0
    assert WishEvent.objects.filter(wish=wish, kind="timed_out").count() == 1
    # The released claimant's contact is gone; another volunteer may claim it.
    assert client_for(square.users["v1"]).get(
        f"/api/v1/wishes/{wish.pk}/contact/").status_code == 403
    services.claim(wish.pk, viewer(square.users["v2"]))


def test_a_delivered_claim_never_times_out(square):
    wish = square.delivered("h1")
    claim = Claim.objects.get(wish=wish)
    report = run_timeouts(now=claim.due_at + 30 * DAY)
    assert report.timed_out == []
    assert Claim.objects.get(pk=claim.pk).status == "delivered"
    assert Wish.objects.get(pk=wish.pk).status == "delivered"


def test_published_wishes_expire_after_publish_until_but_a_republished_one_waits(square):
    stale = square.published("h1")
    claimed = square.claimed("h2", "v1")
    # Both were published now; run the job far enough ahead that the claim has timed out and
    # the first wish's publication has ended.
    later = stale.publish_until + DAY
    claim = Claim.objects.get(wish=claimed)
    assert claim.due_at + 2 * DAY < later
    report = run_timeouts(now=later)
    assert report.expired == [stale.code]
    assert report.timed_out == [claimed.code]
    stale.refresh_from_db()
    claimed.refresh_from_db()
    assert stale.status == "expired" and stale.ended_at == later
    assert claimed.status == "published" and claimed.publish_until > later
    assert run_timeouts(now=later).expired == []


def test_a_directed_wish_not_accepted_in_time_goes_back_to_the_wall(square):
    wish = square.published("h1")
    services.direct(wish.pk, viewer(square.users["cs"]), volunteer=square.volunteers["v2"].pk)
    wish.refresh_from_db()
    until = wish.direct_until
    assert run_timeouts(now=until - dt.timedelta(minutes=1)).lapsed == []
    report = run_timeouts(now=until)
    assert report.lapsed == [wish.code]
    wish.refresh_from_db()
    assert wish.directed_to is None and wish.status == "published"
    assert Notification.objects.filter(user=square.users["cs"], kind="direct_lapsed").count() == 1
    assert run_timeouts(now=until).lapsed == []


def test_the_command_runs_the_job(square, capsys):
    wish = square.published("h1")
    Wish.objects.filter(pk=wish.pk).update(publish_until=timezone.now() - DAY)
    call_command("wish_timeouts")
    assert "wishes expired: 1" in capsys.readouterr().out
    assert Wish.objects.get(pk=wish.pk).status == "expired"
