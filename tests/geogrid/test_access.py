"""Grid-scoped access: a user acts on the grids of their posts and everything below them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from geogrid.access import grids_user_may_act_on, user_may_act_on
from geogrid.grids import create_grid
from geogrid.models import Grid, Post
from tests.factories import assign, make_tree, make_user, square

pytestmark = pytest.mark.django_db


def codes(qs) -> set[str]:
    return set(qs.values_list("code", flat=True))


def test_returns_exactly_the_assigned_subtree():
    tree = make_tree()
    user = make_user("grid_manager")
    assign(user, tree["350427001"], Post.GRID_LEADER)
    expected = {c for c in tree if c.startswith("350427001")}
    assert codes(grids_user_may_act_on(user)) == expected
    assert user_may_act_on(user, tree["350427001001001001"])
    assert not user_may_act_on(user, tree["350427002001001001"])  # the sibling subtree
    assert not user_may_act_on(user, tree["350427"])  # nor the parent


def test_several_posts_union_their_subtrees_without_duplicates():
    tree = make_tree()
    user = make_user("grid_worker")
    assign(user, tree["350427001001001001"], Post.GRID_WORKER)
    assign(user, tree["350427002001"], Post.ZONE_LEADER)
    assign(user, tree["350427002001001"], Post.ZONE_LEADER)  # inside the community above
    result = grids_user_may_act_on(user)
    assert codes(result) == {"350427001001001001"} | {
        c for c in tree if c.startswith("350427002001")
    }
    assert result.count() == len(codes(result))


def test_ended_posts_inactive_users_and_strangers_get_nothing():
    tree = make_tree()
    former = make_user("grid_worker")
    assign(former, tree["350427001"], until=dt.date(2020, 1, 1), since=dt.date(2019, 1, 1))
    inactive = make_user("grid_worker", is_active=False)
    assign(inactive, tree["350427001"])
    stranger = make_user("resident")
    for user in (former, inactive, stranger):
        assert not grids_user_may_act_on(user).exists()


def test_superuser_acts_everywhere_but_only_on_current_versions():
    tree = make_tree()
    admin = make_user(is_superuser=True, is_staff=True)
    assert codes(grids_user_may_act_on(admin)) == set(tree)
    old = tree["350427002001001002"]
    Grid.objects.filter(pk=old.pk).update(valid_to=old.valid_from + dt.timedelta(days=1))
    assert old.code not in codes(grids_user_may_act_on(admin))


def test_creating_grids_checks_the_actor_scope():
    tree = make_tree()
    manager = make_user("grid_manager")
    assign(manager, tree["350427001"])
    worker = make_user("grid_worker")
    assign(worker, tree["350427001"])
    boundary = square(0, 0, 500)
    with pytest.raises(PermissionDenied):
        create_grid(
            level=3,
            code="350427002002",
            name="x",
            boundary=boundary,
            parent=tree["350427002"],
            actor=manager,
        )  # outside their subtree
    with pytest.raises(PermissionDenied):
        create_grid(
            level=3,
            code="350427001002",
            name="x",
            boundary=boundary,
            parent=tree["350427001"],
            actor=worker,
        )  # not a grid manager
    grid = create_grid(
        level=3,
        code="350427001002",
        name="x",
        boundary=boundary,
        parent=tree["350427001"],
        actor=manager,
    )
    assert grid.changed_by == manager
