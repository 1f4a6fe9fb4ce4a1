"""The one-statement write of a new appeal (layers.appeals.intake_sql) writes exactly the rows
the ORM path writes (Appeal.objects.create under a reserved tracking number, then the two
timeline rows with bulk_create), numbers like tracking.format_tracking, and is all-or-nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.gis.geos import Point
from django.db import DataError, connection, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from layers.appeals import timeline, tracking
from layers.appeals.intake_sql import insert_appeal
from layers.appeals.models import Appeal, AppealEvent, Category
from tests.factories import make_user
from tests.layers.factories import B, make_city

pytestmark = pytest.mark.django_db

DISTRICT = "350427"
# Set by the database or per row (not the same for two appeals by construction).
REPORTED_AT = dt.datetime(2026, 6, 1, 9, 30, tzinfo=dt.UTC)
PER_ROW = {"id", "tracking", "public_id", "token_hash", "created_at", "updated_at"}


def _appeal(city, reporter=None, **extra) -> Appeal:
    fields = {
        "token_hash": "h" * 64, "district_code": DISTRICT,
        "location": Point(117.805, 26.405, srid=4326), "raw_x": 117.805, "raw_y": 26.405,
        "raw_crs": "wgs84", "address": "凤岗街道 1 号", "description": "路灯不亮",
        "category": Category.objects.get(code="E0102"), "channel": "mobile",
        "reporter": reporter, "contact_phone": "13800000000", "grid_id": city[B].id,
        "assignment": "covers", "assignment_distance_m": None,
        "reported_at": REPORTED_AT, **extra}
    return Appeal(tracking="", **fields)


def _events(appeal: Appeal, user) -> tuple[AppealEvent, AppealEvent]:
    return (
        AppealEvent(**timeline.row(appeal, AppealEvent.Kind.RECEIVED, role="reporter",
                                   actor=user, from_status="",
                                   data={"channel": "mobile", "possible_duplicates": ["x"]})),
        AppealEvent(**timeline.row(appeal, AppealEvent.Kind.ASSIGNED, role="system",
                                   actor=user, data={"method": "covers", "distance_m": None})),
    )


def _stored(appeal_id: int) -> tuple[dict, list[dict]]:
    appeal = Appeal.objects.get(pk=appeal_id)
    row = {k: v for k, v in model_to_dict(appeal).items() if k not in PER_ROW}
    row["location"] = appeal.location.wkt
    events = [{k: v for k, v in model_to_dict(e).items() if k not in {"id", "appeal", "at"}}
              for e in appeal.events.order_by("id")]
    return row, events


@pytest.mark.parametrize("logged_in", [False, True])
def test_same_rows_as_the_orm_path(logged_in):
    city = make_city()
    user = make_user() if logged_in else None
    moment = timezone.now()
    # The ORM path, as submit_appeal writes an appeal with photos.
    orm = _appeal(city, reporter=user)
    with transaction.atomic():
        orm.tracking = tracking.next_tracking(DISTRICT, moment)
        orm.save()
        AppealEvent.objects.bulk_create(_events(orm, user))
    fast = _appeal(city, reporter=user)
    insert_appeal(fast, _events(fast, user), DISTRICT, moment)

    (fast_row, fast_events), (orm_row, orm_events) = _stored(fast.pk), _stored(orm.pk)
    assert {k: (v, orm_row[k]) for k, v in fast_row.items() if v != orm_row[k]} == {}
    assert fast_events == orm_events
    day = tracking.local_day(moment)
    seq = int(orm.tracking.rsplit("-", 1)[1])
    assert fast.tracking == tracking.format_tracking(DISTRICT, day, seq + 1)
    # The instance is what Appeal.objects.create would have returned.
    stored = Appeal.objects.get(pk=fast.pk)
    assert not fast._state.adding
    assert (fast.tracking, fast.public_id, fast.status, fast.on_time, fast.version) == (
        stored.tracking, stored.public_id, stored.status, stored.on_time, stored.version)
    kinds = list(AppealEvent.objects.filter(appeal=fast).order_by("id")
                 .values_list("kind", "at"))
    assert [k for k, _at in kinds] == ["received", "assigned"]


@pytest.mark.parametrize("last", [0, 41, 99_998, 99_999, 123_456])
def test_tracking_numbers_are_formatted_like_format_tracking(last):
    city = make_city()
    moment = timezone.now()
    day = tracking.local_day(moment)
    if last:
        tracking.reserve(DISTRICT, day, last)
    appeal = _appeal(city)
    insert_appeal(appeal, _events(appeal, None), DISTRICT, moment)
    assert appeal.tracking == tracking.format_tracking(DISTRICT, day, last + 1)


def test_a_failed_insert_writes_nothing_and_uses_no_number():
    city = make_city()
    moment = timezone.now()
    day = tracking.local_day(moment)
    first = _appeal(city)
    insert_appeal(first, _events(first, None), DISTRICT, moment)
    before = (Appeal.objects.count(), AppealEvent.objects.count())
    bad = _appeal(city, contact_phone="1" * 40)  # longer than the column
    with pytest.raises(DataError), transaction.atomic():
        insert_appeal(bad, _events(bad, None), DISTRICT, moment)
    assert (Appeal.objects.count(), AppealEvent.objects.count()) == before
    with connection.cursor() as cursor:
        cursor.execute("SELECT last FROM layers_trackingsequence WHERE district_code = %s"
                       " AND day = %s", [DISTRICT, day])
        assert cursor.fetchone()[0] == int(first.tracking.rsplit("-", 1)[1])
