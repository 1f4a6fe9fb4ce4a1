"""The points sample (fixtures.load_points) on the small sample city: every ledger chain
verifies, no balance or stock is below zero, earned > redeemed, the figures agree with the
ledger, and the loaded rows satisfy every constraint the services rely on."""

from __future__ import annotations

import io
import json

import pytest
from django.db import connection
from django.db.models import F, Sum

from fixtures.load import LoadParams, load_city
from fixtures.load_points import PointsLoadError, load_points, present
from layers.shop.models import Item, Redemption, Shop, StockMovement
from layers.volunteering import ledger
from layers.volunteering.figures import FigureQuery, points_figures
from layers.volunteering.models import PointsAccount, PointsEntry, ServiceRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(small_city_dir, settings, tmp_path):
    settings.VAR_DIR = tmp_path  # demo_points keeps its passwords there
    report = load_city(LoadParams(small_city_dir, progress=False))
    assert present(small_city_dir)
    if getattr(report, "points", None):  # fixtures.load wires the points loader in
        with connection.cursor() as cursor, pytest.raises(PointsLoadError, match="already"):
            load_points(cursor.cursor, small_city_dir)
        return report.points
    with connection.cursor() as cursor:
        return load_points(cursor.cursor, small_city_dir)


def test_the_sample_ledger_and_shop_add_up(loaded, tmp_path):
    assert loaded["volunteers"] > 0 and loaded["shops"] >= 1
    assert loaded["earned"] > loaded["redeemed"] > 0
    assert not PointsAccount.objects.filter(balance__lt=0).exists()
    assert not PointsEntry.objects.filter(balance_after__lt=0).exists()
    for account in PointsAccount.objects.all():
        assert ledger.verify(account) == [], account.pk
    total = PointsEntry.objects.aggregate(s=Sum("amount"))["s"]
    assert total == PointsAccount.objects.aggregate(s=Sum("balance"))["s"]
    district = points_figures(FigureQuery(
        Shop.objects.first().community.code[:6], 3))["total"]
    assert district["earned"] == loaded["earned"] and district["redeemed"] == loaded["redeemed"]
    # The shop (one load for both halves: loading the city takes most of the time).
    for item in Item.objects.all():
        last = item.movements.order_by("-id").first()
        assert item.stock == (last.stock_after if last else 0)
        assert item.stock == item.movements.aggregate(s=Sum("quantity"))["s"]
    assert not StockMovement.objects.filter(stock_after__lt=0).exists()
    for r in Redemption.objects.exclude(status="reserved")[:200]:
        assert (r.reversal_id is not None) == (r.status in ("cancelled", "expired"))
    verified = ServiceRecord.objects.filter(status="verified")
    assert verified.filter(entry__isnull=True).count() == 0
    assert verified.exclude(entry__source_id=F("pk")).count() == 0

    # The demo logins (manage.py demo_points) can sign in to the pages.
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("demo_points", stdout=io.StringIO())
    passwords = json.loads((tmp_path / "demo-users.json").read_text())
    assert len(passwords) == 2
    for username, password in passwords.items():
        assert get_user_model().objects.get(username=username).check_password(password)
