"""Point expiry (layers.volunteering.expiry) under a frozen clock: what FIFO consumption left of
the points earned before the cut-off expires; reversed pairs do not count; a second run the
same day writes nothing; off by default."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from layers.volunteering import ledger
from layers.volunteering.expiry import expire_points
from layers.volunteering.models import EntryKind, PointsEntry

pytestmark = pytest.mark.django_db


def at(day: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(day + "T10:00"))


def posted_on(day: str, account_id: int, amount: int, kind: str, key: str) -> PointsEntry:
    with mock.patch("django.utils.timezone.now", return_value=at(day)):
        return ledger.post(account_id, amount, kind, key=key).entry


def test_fifo_expiry_with_a_frozen_clock(world, settings):
    settings.GEOGRID = {**settings.GEOGRID,
                        "POINTS": {**settings.GEOGRID["POINTS"], "VALID_YEARS": 3}}
    a = world.account("v1").pk
    posted_on("2022-01-10", a, 10, EntryKind.EARN, "e1")
    undone = posted_on("2022-01-15", a, 3, EntryKind.EARN, "e-undone")
    with mock.patch("django.utils.timezone.now", return_value=at("2022-01-16")):
        ledger.reverse(undone, key="e-undone:rev")
    posted_on("2023-06-01", a, 5, EntryKind.EARN, "e2")
    posted_on("2024-01-01", a, -4, EntryKind.REDEEM, "r1")
    cancelled = posted_on("2024-02-01", a, -6, EntryKind.REDEEM, "r2")
    with mock.patch("django.utils.timezone.now", return_value=at("2024-02-02")):
        ledger.reverse(cancelled, key="r2:rev")
    posted_on("2025-01-20", a, 7, EntryKind.EARN, "e3")

    # 2025-02-01: cut-off 2022-02-01 → 10 earned before it, 4 spent since (oldest first): 6.
    with mock.patch("django.utils.timezone.now", return_value=at("2025-02-01")):
        report = expire_points()
    assert report.points == 6 and report.accounts == 1
    account = world.account("v1")
    account.refresh_from_db()
    assert account.balance == 18 - 6
    expired = PointsEntry.objects.get(kind="expire")
    assert expired.amount == -6 and expired.idempotency_key.endswith(":2022-02-01")

    with mock.patch("django.utils.timezone.now", return_value=at("2025-02-01")):
        assert expire_points().points == 0  # the same day again: nothing more
    with mock.patch("django.utils.timezone.now", return_value=at("2025-08-01")):
        assert expire_points().points == 0  # nothing else is older than 2022-08-01

    # 2026-07-01: cut-off 2023-07-01 → 15 earned before, 4 + 6 spent or expired: 5 more.
    with mock.patch("django.utils.timezone.now", return_value=at("2026-07-01")):
        assert expire_points().points == 5
    account.refresh_from_db()
    assert account.balance == 7  # the 2025 points are left
    assert ledger.verify(account) == []


def test_expiry_is_off_unless_configured(world):
    a = world.account("v1").pk
    posted_on("2015-01-10", a, 10, EntryKind.EARN, "old")
    report = expire_points(now=at("2026-01-01"))
    assert report.cut_off is None and report.points == 0
    assert not PointsEntry.objects.filter(kind="expire").exists()


def test_the_command_reports_what_it_expired(world, capsys):
    a = world.account("v2").pk
    posted_on("2020-01-10", a, 9, EntryKind.EARN, "old")
    call_command("expire_points", years=2)
    assert "expired: 9 points on 1 accounts" in capsys.readouterr().out
    assert world.account("v2").balance == 0
