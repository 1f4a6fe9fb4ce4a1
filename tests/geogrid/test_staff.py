"""Assigning and ending staff posts through the API, within the grid manager's subtree."""

from __future__ import annotations

import pytest
from django.urls import include, path
from rest_framework.test import APIClient

from geogrid.access import user_may_act_on
from geogrid.models import Post, StaffAssignment
from tests.factories import assign, make_tree, make_user

urlpatterns = [path("api/v1/", include("geogrid.api_urls"))]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

ZONE = "350427001001001"
MICRO = ZONE + "001"


def client_for(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def test_manager_assigns_a_grid_leader_who_then_may_act_there():
    tree = make_tree()
    manager = make_user("grid_manager")
    assign(manager, tree[ZONE], Post.MANAGER)
    worker = make_user("grid_worker", username="zhang", first_name="张伟")
    response = client_for(manager).post(
        f"/api/v1/grids/{MICRO}/staff/",
        {"username": "zhang", "post": "grid_leader", "phone": "13800000000"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["name"] == "张伟"
    assert user_may_act_on(worker, tree[MICRO])
    listing = client_for(manager).get(f"/api/v1/grids/{MICRO}/staff/").json()
    assert [(p["username"], p["post"], p["phone"]) for p in listing] == [
        ("zhang", "grid_leader", "13800000000")
    ]


def test_bad_requests_name_the_field_and_store_nothing():
    tree = make_tree()
    manager = make_user("grid_manager")
    assign(manager, tree[ZONE], Post.MANAGER)
    client = client_for(manager)
    make_user(username="li")
    bad = client.post(
        f"/api/v1/grids/{MICRO}/staff/",
        {"username": "nobody", "post": "grid_leader"},
        format="json",
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    assert bad.json()["fields"] == {"username": ["no active user 'nobody'"]}
    assert bad.json()["detail"] == "username: no active user 'nobody'"
    bad = client.post(
        f"/api/v1/grids/{MICRO}/staff/", {"username": "li", "post": "boss"}, format="json"
    )
    assert bad.status_code == 400 and bad.json()["fields"] == {"post": ["unknown post 'boss'"]}
    assert StaffAssignment.objects.count() == 1  # only the manager's own post


@pytest.mark.parametrize("query", ["?id=abc", "", "?id=", "?id=１", "?id=99999999999999999999"])
def test_ending_a_post_needs_a_numeric_id(query):
    tree = make_tree()
    manager = make_user("grid_manager")
    assign(manager, tree[ZONE], Post.MANAGER)
    bad = client_for(manager).delete(f"/api/v1/grids/{MICRO}/staff/{query}")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    assert list(bad.json()["fields"]) == ["id"]
    missing = client_for(manager).delete(f"/api/v1/grids/{MICRO}/staff/?id=999999")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_outside_the_subtree_or_without_the_role_is_forbidden_and_ending_revokes():
    tree = make_tree()
    manager = make_user("grid_manager")
    assign(manager, tree[ZONE], Post.MANAGER)
    worker = make_user("grid_worker", username="wang")
    other = "350427002001001001"
    denied = client_for(manager).post(
        f"/api/v1/grids/{other}/staff/", {"username": "wang", "post": "grid_worker"}, format="json"
    )
    assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
    post = assign(worker, tree[MICRO], Post.GRID_WORKER)
    denied = client_for(worker).delete(f"/api/v1/grids/{MICRO}/staff/?id={post.pk}")
    assert denied.status_code == 403
    ended = client_for(manager).delete(f"/api/v1/grids/{MICRO}/staff/?id={post.pk}")
    assert ended.status_code == 204
    assert not user_may_act_on(worker, tree[MICRO])
    assert StaffAssignment.objects.get(pk=post.pk).until is not None  # kept for history
