"""API keys for other systems: issued once, stored hashed, looked up, rotated, revoked."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from geogrid import apiclients
from geogrid.models import ApiClient
from tests.factories import make_tree, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    return make_tree()


def test_a_key_finds_its_client_and_only_its_hash_is_stored(tree):
    client, raw = apiclients.create_client(
        "water bureau", permissions=["update"], scopes=["350427001"])
    row = ApiClient.objects.get(pk=client.pk)
    assert raw not in (row.key_hash, row.key_prefix) and row.key_hash == apiclients.hash_key(raw)
    assert apiclients.client_for_key(raw) == client
    assert row.user.has_usable_password() is False
    assert client.may("update") and not client.may("submit")
    assert client.covers("350427001001001") and not client.covers("350427002001")


@pytest.mark.parametrize("mangle", [
    lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"),  # wrong secret, right prefix
    lambda k: "gg_0000000000_" + k.split("_", 2)[2],     # unknown prefix
    lambda k: k + "x",                                   # malformed
    lambda k: "",
    lambda k: "x" * 5000,
])
def test_a_wrong_key_finds_no_client(tree, mangle):
    _, raw = apiclients.create_client("hotline", permissions=["submit"], scopes=["350427"])
    assert apiclients.client_for_key(mangle(raw)) is None


def test_rotating_or_deactivating_stops_the_old_key(tree):
    client, raw = apiclients.create_client("gis", permissions=["read_buildings"],
                                           scopes=["350427"])
    new = apiclients.rotate_key(client)
    assert apiclients.client_for_key(raw) is None
    assert apiclients.client_for_key(new) == client
    ApiClient.objects.filter(pk=client.pk).update(active=False)
    assert apiclients.client_for_key(new) is None


def test_unknown_scopes_and_permissions_are_refused(tree):
    with pytest.raises(ValidationError) as exc:
        apiclients.create_client("x", permissions=["submit"], scopes=["999999"])
    assert "scopes" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        apiclients.create_client("x", permissions=["delete_everything"], scopes=["350427"])
    assert "permissions" in exc.value.message_dict
    assert not ApiClient.objects.exists()


def test_the_admin_creates_a_client_and_shows_its_key_once(client, tree):
    client.force_login(make_user(is_superuser=True, is_staff=True))
    answer = client.post(reverse("admin:geogrid_apiclient_add"), {
        "name": "environment bureau", "permissions": ["update", "read_appeals"],
        "scopes": "350427001, 350427002", "active": "on"}, follow=True)
    assert answer.status_code == 200
    created = ApiClient.objects.get(name="environment bureau")
    shown = [str(m) for m in answer.context["messages"]]
    key = next(w for m in shown for w in m.split() if w.startswith("gg_"))
    assert apiclients.client_for_key(key) == created
    assert created.scopes == ["350427001", "350427002"]
    page = client.get(reverse("admin:geogrid_apiclient_change", args=[created.pk]))
    assert key not in page.content.decode()


def test_the_admin_refuses_an_unknown_scope(client, tree):
    client.force_login(make_user(is_superuser=True, is_staff=True))
    answer = client.post(reverse("admin:geogrid_apiclient_add"), {
        "name": "x", "permissions": ["update"], "scopes": "123", "active": "on"})
    assert answer.status_code == 200 and "123" in answer.content.decode()
    assert not ApiClient.objects.exists()
