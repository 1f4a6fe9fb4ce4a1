"""What keeps POST /api/v1/appeals/ fast under load (docs/benchmarks.md, "Appeal intake under
HTTP load"): the per-process category snapshot (and that it follows every change), the user's
roles read once per submission, and a ceiling on the SQL statements of one submission.

These tests run outside a wrapping transaction (transactional_db), as a gunicorn worker does:
the category snapshot is only kept when read outside a transaction."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from layers.appeals import category_cache
from layers.appeals.categories import load_categories
from layers.appeals.category_cache import active_category
from layers.appeals.intake import allowed_channels, submitter_role, user_roles
from layers.appeals.models import Appeal, AppealEvent, Category
from tests.factories import make_user
from tests.layers.factories import make_city

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/appeals/"
# Points in micro-grid B more than the duplicate radius (50 m) apart.
POINTS = [(117.8010, 26.4010), (117.8050, 26.4050), (117.8090, 26.4090)]


@pytest.fixture
def categories():
    load_categories()  # a transactional test starts from a flushed database
    category_cache.invalidate()
    yield
    category_cache.invalidate()


def test_snapshot_answers_without_a_query(categories, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert active_category("E0102").code == "E0102"
    with django_assert_num_queries(0):
        assert active_category("E0102").code == "E0102"
        assert active_category("C0104").code == "C0104"


def test_snapshot_follows_saves_and_deletes(categories):
    category = Category.objects.get(code="E0102")
    assert active_category("E0102") is not None
    category.active = False
    category.save()
    assert active_category("E0102") is None  # deactivated: refused at once
    category.active = True
    category.name_zh = "新名称"
    category.save()
    assert active_category("E0102").name_zh == "新名称"
    added = Category.objects.create(code="Z9901", major_zh="测", major_en="t", name_zh="测",
                                    name_en="t", kind="event", deadline_class="general",
                                    deadline_value=3, deadline_unit="working_days")
    assert active_category("Z9901").pk == added.pk
    added.delete()
    assert active_category("Z9901") is None


def test_a_category_added_elsewhere_is_found_at_once(categories):
    assert active_category("E0102") is not None  # snapshot taken
    # bulk_create sends no signal: as if another process had added it.
    Category.objects.bulk_create([Category(
        code="Z9902", major_zh="测", major_en="t", name_zh="测", name_en="t", kind="event",
        deadline_class="general", deadline_value=3, deadline_unit="working_days")])
    assert active_category("Z9902") is not None


def test_a_change_elsewhere_is_seen_after_max_age(categories, monkeypatch):
    assert active_category("E0102") is not None
    Category.objects.filter(code="E0102").update(active=False)  # no signal
    assert active_category("E0102") is not None  # the documented staleness window
    monkeypatch.setattr(category_cache, "MAX_AGE", 0.0)
    assert active_category("E0102") is None


def test_rows_read_inside_a_rolled_back_transaction_are_not_kept(categories):
    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        Category.objects.create(code="Z9903", major_zh="测", major_en="t", name_zh="测",
                                name_en="t", kind="event", deadline_class="general",
                                deadline_value=3, deadline_unit="working_days")
        assert active_category("Z9903") is not None
        raise Undo
    assert active_category("Z9903") is None


def test_roles_are_read_once_and_answer_like_has_role(categories, django_assert_num_queries):
    worker = make_user("grid_worker")
    dispatcher = make_user("dispatcher")
    resident = make_user()
    with django_assert_num_queries(1):
        roles = user_roles(worker)
    with django_assert_num_queries(0):
        assert "patrol" in allowed_channels(worker, roles)
        assert submitter_role(worker, roles) == "grid_staff"
    assert allowed_channels(dispatcher) >= {"hotline_12345", "patrol"}
    assert submitter_role(dispatcher) == "dispatcher"
    assert "patrol" not in allowed_channels(resident)
    assert submitter_role(resident) == "reporter"
    resident.is_active = False
    assert user_roles(resident) == frozenset()


def _post(client, point, category="E0102", **extra):
    lon, lat = point
    return client.post(URL, {"category": category, "lon": lon, "lat": lat,
                             "description": "fast path"}, content_type="application/json",
                       **extra)


def _intake_statements(captured) -> list[str]:
    """The statements of a submission other than the grid assignment's (geogrid.locate, whose
    cost another bench follows: SQL, or an in-process index and its freshness check)."""
    grid_work = ("geogrid_grid", "txid_current_if_assigned")
    return [q["sql"] for q in captured if not any(w in q["sql"] for w in grid_work)]


def test_anonymous_submission_statement_ceiling(categories, client):
    make_city()
    assert _post(client, POINTS[0], "E0101").status_code == 201  # takes the snapshot
    with CaptureQueriesContext(connection) as captured:
        response = _post(client, POINTS[1])
    assert response.status_code == 201
    ours = _intake_statements(captured)
    # rate counter, duplicates, hotspot (one statement, the category's id inside it), and one
    # statement for tracking number + appeal + timeline rows (intake_sql) — no category look-up
    # of our own, no role look-up, no BEGIN/COMMIT. It was 10 (+2 for the assignment) before.
    assert len(ours) <= 4, ours
    assert not [q for q in ours if q.strip().upper() in ("BEGIN", "COMMIT")]
    appeal = Appeal.objects.get(tracking=response.json()["tracking"])
    assert appeal.category.code == "E0102"
    assert list(appeal.events.values_list("kind", flat=True)) == ["received", "assigned"]


def test_logged_in_submission_statement_ceiling(categories, client):
    make_city()
    worker = make_user("grid_worker")
    client.force_login(worker)
    assert _post(client, POINTS[0], "E0101").status_code == 201
    with CaptureQueriesContext(connection) as captured:
        response = client.post(URL, {"category": "E0102", "lon": POINTS[2][0],
                                     "lat": POINTS[2][1], "channel": "patrol",
                                     "description": "fast path"},
                               content_type="application/json")
    assert response.status_code == 201, response.json()
    ours = _intake_statements(captured)
    # session + user + roles (one query; it was four role look-ups, 15 in all), no rate
    # counter.
    assert len(ours) <= 6, ours
    assert len([q for q in ours if "auth_group" in q]) == 1
    received = AppealEvent.objects.get(appeal__tracking=response.json()["tracking"],
                                       kind="received")
    assert received.actor_role == "grid_staff" and received.actor_id == worker.id


def test_unknown_and_deactivated_categories_are_still_refused(categories, client):
    make_city()
    assert _post(client, POINTS[0], "E0101").status_code == 201
    assert _post(client, POINTS[1], "NOPE").json()["fields"]["category"]
    category = Category.objects.get(code="E0102")
    category.active = False
    category.save()
    assert _post(client, POINTS[1]).status_code == 400
