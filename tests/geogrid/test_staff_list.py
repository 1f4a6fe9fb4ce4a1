"""GET /api/v1/grids/{code}/staff/: a sign-in and a post over the grid; phones to dispatchers
and grid managers of the subtree, login names and post ids to grid managers (docs/appeals.md,
"Who sees what"). The walk over every URL pattern is tests/test_url_scope.py."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from geogrid.access import user_acts_on_as
from geogrid.models import Post
from geogrid.roles import Role
from tests.factories import assign, make_tree, make_user

pytestmark = pytest.mark.django_db

MICRO = "350427001001001001"
OTHER = "350427002001001001"


def get(user, code: str = MICRO):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_authenticate(user)
    return client.get(f"/api/v1/grids/{code}/staff/")


@pytest.fixture
def tree():
    tree = make_tree()
    # A post holder without a real name: the list never falls back to the login name.
    assign(make_user("grid_worker", username="wang.login"), tree[MICRO], Post.GRID_WORKER,
           phone="13900000001")
    return tree


def test_anonymous_and_outsiders_get_nothing(tree):
    anonymous = get(None)
    assert anonymous.status_code == 403 and anonymous.json()["code"] == "not_authenticated"
    assert get(make_user("resident")).status_code == 403
    outsider = make_user("dispatcher")
    assign(outsider, tree[OTHER], Post.DISPATCHER)  # another micro-grid's dispatcher
    denied = get(outsider)
    assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
    assert "wang" not in denied.content.decode() and "1390" not in denied.content.decode()


def test_what_each_role_in_scope_sees(tree):
    worker = make_user("grid_worker", first_name="同事")
    assign(worker, tree[MICRO], Post.GRID_WORKER)
    dispatcher = make_user("dispatcher", first_name="调度")
    assign(dispatcher, tree["350427"], Post.DISPATCHER)
    manager = make_user("grid_manager", first_name="管理")
    assign(manager, tree["350427001"], Post.MANAGER)
    root = make_user(is_superuser=True, first_name="根")

    def wang(user) -> dict:
        (post,) = [p for p in get(user).json() if p["name"] in ("", "wang.login")]
        return post

    assert wang(worker) == {"name": "", "post": "grid_worker", "post_label": "grid worker",
                            "since": wang(worker)["since"]}
    assert wang(dispatcher)["phone"] == "13900000001" and "username" not in wang(dispatcher)
    assert wang(manager)["username"] == "wang.login" and wang(manager)["phone"] == "13900000001"
    assert "id" in wang(manager) and "id" not in wang(dispatcher)
    assert wang(root)["username"] == "wang.login"
    assert "wang.login" not in get(dispatcher).content.decode()
    # The scope rule behind it.
    assert user_acts_on_as(dispatcher, tree[MICRO], Role.DISPATCHER)
    assert not user_acts_on_as(dispatcher, tree[MICRO], Role.GRID_MANAGER)
    assert not user_acts_on_as(manager, tree[OTHER], Role.GRID_MANAGER)
    assert user_acts_on_as(root, tree[OTHER], Role.GRID_MANAGER)
