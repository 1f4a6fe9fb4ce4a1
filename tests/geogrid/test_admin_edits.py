"""The admin writes through the services (geogrid/admin.py, layers/appeals/admin.py): a boundary
or name edit is a checked new version with its author, a refused one shows why and stores
nothing, code/level/parent are the grid editor's, closed versions and appeals are read-only, and
a working-day override announces the days it changed like the holiday import does."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser, Permission
from django.urls import reverse

from geogrid.models import Grid, Post, StaffAssignment, WorkingDayOverride
from geogrid.signals import boundaries_changed, working_calendar_changed
from geogrid.versions import edit_boundary
from tests.factories import _rect, assign, make_tree, make_user

pytestmark = pytest.mark.django_db

ZONE = "350427001001001"
NORTH, SOUTH = ZONE + "001", ZONE + "002"


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the messages below are the English ones
    return client


@pytest.fixture
def tree():
    return make_tree()


@pytest.fixture
def root(client):
    user = make_user(username="root", is_superuser=True, is_staff=True)
    client.force_login(user)
    return user


@pytest.fixture
def announced():
    calls = []

    def receiver(sender, changes, actor, **kwargs):
        calls.append((changes, actor))

    boundaries_changed.connect(receiver)
    yield calls
    boundaries_changed.disconnect(receiver)


def change_url(grid: Grid) -> str:
    return reverse("admin:geogrid_grid_change", args=[grid.pk])


def post_grid(client, grid: Grid, **fields):
    data = {"name": grid.name, "boundary": grid.boundary.geojson, "_save": "Save", **fields}
    return client.post(change_url(grid), data)


def form_errors(response) -> list[str]:
    form = response.context["adminform"].form
    return [str(m) for messages in form.errors.values() for m in messages]


def test_a_boundary_edit_makes_a_checked_version_by_the_admin_user(client, tree, root, announced):
    old = tree[NORTH]
    shrunk = _rect(0, 1000, 1000, 900)  # the north 100 m become a gap: a warning only
    response = post_grid(client, old, boundary=shrunk.geojson)
    assert response.status_code == 302, form_errors(response)
    new = Grid.objects.current().get(code=NORTH)
    assert new.pk != old.pk and new.changed_by == root
    assert abs(new.area_m2 - 900_000) < 1_000
    old.refresh_from_db()
    assert old.valid_to is not None and old.boundary.equals_exact(tree[NORTH].boundary, 1e-9)
    assert [c.code for c in announced[0][0]] == [NORTH] and announced[0][1] == root
    assert Grid.objects.filter(code=NORTH).count() == 2  # history kept, nothing overwritten


def test_save_and_continue_goes_on_to_the_new_version(client, tree, root):
    old = tree[NORTH]
    response = post_grid(client, old, name="北网格", _continue="1")
    new = Grid.objects.current().get(code=NORTH)
    assert response.status_code == 302 and response["Location"] == change_url(new)
    assert new.name == "北网格" and new.changed_by == root and new.pk != old.pk
    assert new.boundary.equals_exact(old.boundary, 1e-9)


def test_an_overlapping_boundary_is_refused_as_a_form_error_and_nothing_is_stored(
        client, tree, root, announced):
    old = tree[NORTH]
    into_south = _rect(0, 800, 1000, 1200)  # 200 m into the southern sibling
    response = post_grid(client, old, boundary=into_south.geojson)
    assert response.status_code == 200
    errors = form_errors(response)
    assert any("overlap" in e and SOUTH in e for e in errors), errors
    assert Grid.objects.filter(code=NORTH).count() == 1
    current = Grid.objects.current().get(code=NORTH)
    assert current.pk == old.pk and current.boundary.equals_exact(old.boundary, 1e-9)
    assert announced == []


def test_an_unchanged_form_makes_no_version(client, tree, root):
    response = post_grid(client, tree[NORTH])
    assert response.status_code == 302
    assert Grid.objects.filter(code=NORTH).count() == 1


def test_code_level_and_parent_are_read_only_and_link_to_the_editor(client, tree, root):
    grid = tree[NORTH]
    page = client.get(change_url(grid)).content.decode()
    assert 'name="name"' in page and 'name="boundary"' in page
    for field in ("code", "level", "parent", "valid_from", "valid_to"):
        assert f'name="{field}"' not in page
    assert f'href="/maps/grids/#grid={NORTH}"' in page
    # Posting them anyway changes nothing.
    response = post_grid(client, grid, code="350427001001001009", level="1", parent="",
                         valid_to="2020-01-01 00:00:00")
    assert response.status_code == 302
    grid.refresh_from_db()
    assert (grid.code, grid.level, grid.valid_to) == (NORTH, 5, None)
    assert grid.parent_id == tree[ZONE].pk


def test_a_closed_version_is_history(client, tree, root):
    old = tree[NORTH]
    edit_boundary(NORTH, _rect(0, 1000, 1000, 950), version=old.pk, actor=root)
    page = client.get(change_url(old)).content.decode()
    assert 'name="_save"' not in page and 'name="name"' not in page
    response = post_grid(client, old, name="renamed", boundary=_rect(0, 1000, 500, 500).geojson)
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.name != "renamed" and Grid.objects.filter(code=NORTH).count() == 2


def test_staff_without_the_right_to_edit_under_the_parent_get_a_form_error(client, tree):
    clerk = make_user(username="clerk", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_grid", "change_grid"]))
    assign(clerk, tree["350427002"], Post.MANAGER)  # the other subdistrict
    client.force_login(clerk)
    response = post_grid(client, tree[NORTH], name="not mine")
    assert response.status_code == 200
    assert any("may not change" in e for e in form_errors(response))
    assert Grid.objects.filter(code=NORTH).count() == 1


def test_adding_a_grid_goes_through_create_checked(client, tree, root):
    url = reverse("admin:geogrid_grid_add")
    overlapping = {"level": "5", "code": ZONE + "003", "name": "third",
                   "parent": str(tree[ZONE].pk), "boundary": _rect(0, 500, 1000, 1000).geojson}
    refused = client.post(url, overlapping)
    assert refused.status_code == 200
    assert any("overlap" in e for e in form_errors(refused))
    assert not Grid.objects.filter(code=ZONE + "003").exists()
    district = {"level": "1", "code": "350428", "name": "邻区", "parent": "",
                "boundary": _rect(5000, 0, 1000, 1000).geojson}
    created = client.post(url, district)
    assert created.status_code == 302, form_errors(created)
    grid = Grid.objects.current().get(code="350428")
    assert grid.changed_by == root and grid.level == 1


def test_grids_cannot_be_deleted_in_the_admin(client, tree, root):
    grid = tree[NORTH]
    assert client.get(reverse("admin:geogrid_grid_delete", args=[grid.pk])).status_code == 403
    assert Grid.objects.filter(pk=grid.pk).exists()


def test_an_admin_edit_reassigns_open_appeals(client, root):
    from layers.appeals.intake import AppealInput, submit_appeal
    from tests.layers.factories import B, box, make_city

    grids = make_city()
    appeal = submit_appeal(AppealInput(category="E0102", lon=117.805, lat=26.405),
                           actor=AnonymousUser()).appeal
    assert appeal.grid_id == grids[B].pk
    response = post_grid(client, grids[B], boundary=box(117.80, 26.40, 117.809, 26.41).geojson)
    assert response.status_code == 302, form_errors(response)
    appeal.refresh_from_db()
    new_b = Grid.objects.current().get(code=B)
    assert appeal.grid_id == new_b.pk != grids[B].pk


def test_the_staff_admin_refuses_a_closed_grid_version(client, tree, root):
    old = tree[NORTH]
    edit_boundary(NORTH, _rect(0, 1000, 1000, 950), version=old.pk, actor=root)
    worker = make_user("grid_worker")
    response = client.post(reverse("admin:geogrid_staffassignment_add"), {
        "user": worker.pk, "grid": old.pk, "post": Post.GRID_WORKER, "since": "2026-01-05"})
    assert response.status_code == 200
    assert "grid" in response.context["adminform"].form.errors
    assert not StaffAssignment.objects.filter(user=worker).exists()


@pytest.fixture
def calendar_changes():
    calls = []

    def receiver(sender, dates, actor, **kwargs):
        calls.append((dates, actor))
        return 3

    working_calendar_changed.connect(receiver)
    yield calls
    working_calendar_changed.disconnect(receiver)


def test_a_working_day_override_announces_the_days_it_changed(client, root, calendar_changes):
    saturday = dt.date(2031, 3, 8)  # an ordinary weekend day
    url = reverse("admin:geogrid_workingdayoverride_add")
    response = client.post(url, {"date": "2031-03-08", "is_working": "on", "note": "make-up"},
                           follow=True)
    assert response.status_code == 200
    assert calendar_changes == [(frozenset({saturday}), root)]
    assert "3 running deadlines re-computed" in response.content.decode()
    override = WorkingDayOverride.objects.get(date=saturday)
    # Moving it to another Saturday changes both days back and forth.
    client.post(reverse("admin:geogrid_workingdayoverride_change", args=[override.pk]),
                {"date": "2031-03-15", "is_working": "on", "note": "make-up"})
    assert calendar_changes[1][0] == frozenset({saturday, dt.date(2031, 3, 15)})
    # A change that changes no day's status announces nothing.
    client.post(reverse("admin:geogrid_workingdayoverride_change", args=[override.pk]),
                {"date": "2031-03-15", "is_working": "on", "note": "renamed"})
    assert len(calendar_changes) == 2
    client.post(reverse("admin:geogrid_workingdayoverride_delete", args=[override.pk]),
                {"post": "yes"})
    assert calendar_changes[2][0] == frozenset({dt.date(2031, 3, 15)})
    assert not WorkingDayOverride.objects.exists()


def test_an_override_moves_a_running_deadline(client, root):
    """End to end with the appeals layer's receiver: a holiday on the due day moves it."""
    from django.utils import timezone

    from layers.appeals import transitions
    from layers.appeals.actors import SYSTEM
    from layers.appeals.intake import AppealInput, submit_appeal
    from tests.layers.factories import make_city

    make_city()
    appeal = submit_appeal(AppealInput(category="E0102", lon=117.805, lat=26.405),
                           actor=AnonymousUser()).appeal
    transitions.accept(appeal.tracking, SYSTEM)
    transitions.dispatch(appeal.tracking, SYSTEM)
    appeal.refresh_from_db()
    due = appeal.due_at
    assert due is not None
    day = timezone.localdate(due)
    client.post(reverse("admin:geogrid_workingdayoverride_add"),
                {"date": day.isoformat(), "note": "typhoon"})  # is_working unchecked: a holiday
    appeal.refresh_from_db()
    assert appeal.due_at > due
    assert appeal.events.filter(kind="recalendared").exists()


def test_appeals_are_read_only_in_the_admin(client, root):
    from layers.appeals.intake import AppealInput, submit_appeal
    from tests.layers.factories import make_city

    make_city()
    appeal = submit_appeal(AppealInput(category="E0102", lon=117.805, lat=26.405,
                                       description="垃圾"), actor=AnonymousUser()).appeal
    url = reverse("admin:appeals_appeal_change", args=[appeal.pk])
    page = client.get(url).content.decode()
    assert 'name="_save"' not in page and 'name="status"' not in page
    assert 'name="description"' not in page and 'name="grid"' not in page
    assert "leaflet" in page  # the location is still shown on a map
    client.post(url, {"status": "closed", "description": "changed", "_save": "Save"})
    appeal.refresh_from_db()
    assert appeal.status == "received" and appeal.description == "垃圾"
    assert client.get(reverse("admin:appeals_appeal_add")).status_code == 403
    assert client.get(reverse("admin:appeals_appeal_delete", args=[appeal.pk])).status_code == 403
