"""One filter for the appeal list and the map layers: the same shared parameters select the same
appeals in the list (ORM), the live appeal table and the analytics facts; a bad parameter is a
FilterError (a 400) naming it, whichever reads it; the parameters document themselves."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.http import QueryDict
from django.utils import timezone

from layers.analytics.filters import parse_filter
from layers.analytics.snapshot import current_state, refresh
from layers.appeals.filters import FilterError, list_filter, page_params
from layers.appeals.models import OPEN_STATUSES, Appeal
from tests.analytics.helpers import at, city_with_appeals, make_appeal
from tests.factories import make_user

pytestmark = pytest.mark.django_db
A, B = "350427001001001001", "350427001001001002"

SHARED = [
    "",
    "status=open",
    "status=closed",
    "status=received&status=in_progress",  # repeated
    "status=received,in_progress",  # comma-separated
    "category=E0102",
    "category=L0101,L0201&status=closed",
    "channel=patrol,mobile",
    f"grid={A}",
    "grid=350427001001",
    "grid=350427",  # the district: its appeals without a grid too
    f"grid={B}&category=L0201&channel=mobile",
]


@pytest.fixture
def city():
    grids = city_with_appeals()
    # Outside every micro-grid and without a location: both count for their district only.
    make_appeal(117.815, 26.40, status="dispatched", channel="hotline_12345")
    make_appeal(0, 0, located=False, reported_at=at("2026-06-15"))
    return grids


def list_ids(query: str) -> set[int]:
    now = timezone.now()
    return set(Appeal.objects.filter(list_filter(QueryDict(query), now))
               .values_list("id", flat=True))


def map_ids(query: str, *, facts: bool) -> set[int]:
    """The appeals the map layers' filter selects: from the facts, or from the live table."""
    filt = parse_filter(QueryDict(query))
    if facts:
        where, params = filt.fact_sql()
        sql = f"SELECT appeal_id FROM {current_state().fact} WHERE {where}"
    else:
        where, params = filt.appeal_sql("a")
        where = where.replace("a.location IS NOT NULL", "true", 1)  # as the per-grid counts
        sql = f"SELECT a.id FROM layers_appeal a WHERE {where}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.parametrize("query", SHARED)
def test_the_list_and_the_map_layers_select_the_same_appeals(city, query):
    refresh()
    expected = list_ids(query)
    assert map_ids(query, facts=False) == expected
    assert map_ids(query, facts=True) == expected


def test_the_shared_filter_means_what_it_says(city):
    assert len(list_ids("")) == 22
    open_ids = list_ids("status=open")
    assert open_ids == set(Appeal.objects.filter(status__in=OPEN_STATUSES)
                           .values_list("id", flat=True))
    assert len(open_ids) == 6 + 8 + 1 + 1
    assert len(list_ids("grid=350427")) == 22
    assert len(list_ids("grid=350427001")) == 20  # the subdistrict: gridded appeals only
    assert len(list_ids(f"grid={A}")) == 12


def test_periods_mean_the_same_days_in_the_list_and_the_map_layers(city):
    refresh()
    june = list_ids("since=2026-06-01&until=2026-06-30")
    assert len(june) == 5  # four in micro-grid A, one without a location
    assert map_ids("from=2026-06-01&to=2026-06-30", facts=True) == june
    assert map_ids("from=2026-06-01&to=2026-06-30", facts=False) == june
    # Local days: 00:30 on 1 June in Shanghai is still 31 May in UTC.
    late = make_appeal(117.795, 26.40, reported_at=at("2026-06-01", 0).replace(minute=30))
    assert late.id in list_ids("since=2026-06-01&until=2026-06-01")
    assert late.id in map_ids("from=2026-06-01&to=2026-06-01", facts=False)
    refresh()
    assert late.id in map_ids("from=2026-06-01&to=2026-06-01", facts=True)


def test_days_counts_back_from_to(city):
    filt = parse_filter(QueryDict("days=30&to=2026-06-30"))
    assert (filt.date_from, filt.date_to) == (dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    filt = parse_filter(QueryDict("days=1"))
    assert filt.date_from == filt.date_to == timezone.localdate()


BAD_SHARED = [("category", "NOPE"), ("status", "replied"), ("channel", "fax"),
              ("grid", "35x"), ("grid", "3" * 40)]
BAD_LIST = [("since", "9999-01-01"), ("until", "yesterday"), ("due_within_hours", "nan"),
            ("due_within_hours", "-1"), ("overdue", "maybe"), ("page", "0"),
            ("page_size", "5000"), ("page_size", "1e3")]
BAD_MAP = [("from", "9999-01-01"), ("to", "2026-13-01"), ("from", "2026-05-01T10:00"),
           ("days", "0"), ("days", "x"), ("days", "99999")]


def _refused(read, name: str, value: str) -> FilterError:
    with pytest.raises(FilterError) as caught:
        read(QueryDict(f"{name}={value}"))
    assert list(caught.value.message_dict) == [name], caught.value.message_dict
    assert str(caught.value).startswith(f"{name}: ")
    return caught.value


@pytest.mark.parametrize(("name", "value"), BAD_SHARED + BAD_LIST)
def test_the_list_refuses_a_bad_parameter_naming_it(db, name, value):
    def read(query: QueryDict) -> None:
        list_filter(query, timezone.now())
        page_params(query)

    _refused(read, name, value)


@pytest.mark.parametrize(("name", "value"), BAD_SHARED + BAD_MAP)
def test_the_map_layers_refuse_a_bad_parameter_naming_it(db, name, value):
    _refused(parse_filter, name, value)


def test_messages_say_what_is_wrong(db):
    error = _refused(parse_filter, "status", "replied")
    assert error.message_dict["status"] == ["unknown status: replied"]
    with pytest.raises(FilterError) as caught:
        parse_filter(QueryDict("from=2026-06-02&to=2026-06-01"))
    assert list(caught.value.message_dict) == ["from"]


def test_the_list_api_answers_a_bad_parameter_with_a_400_naming_it(client, city):
    client.force_login(make_user(username="root", is_superuser=True))
    r = client.get("/api/v1/appeals/", {"category": "NOPE", "status": "open"})
    assert r.status_code == 400
    assert r.json()["fields"] == {"category": ["unknown category: NOPE"]}
    assert r.json()["code"] == "invalid" and r.json()["detail"].startswith("category: ")
    r = client.get("/api/v1/appeals/", {"status": "open", "grid": "350427"})
    assert r.status_code == 200 and r.json()["count"] == 16


def test_the_list_documents_its_parameters(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    params = {p["name"]: p for p in schema["paths"]["/api/v1/appeals/"]["get"]["parameters"]}
    assert {"category", "status", "channel", "grid", "since", "until", "overdue",
            "due_within_hours", "q", "page", "page_size"} <= set(params)
    assert "open" in params["status"]["description"]
    assert params["page_size"]["schema"]["maximum"] == 1000
