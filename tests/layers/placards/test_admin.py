"""The admin lists placards and revokes them through the service (timeline row, scope)."""

from __future__ import annotations

import pytest

from layers.placards.models import Placard, PlacardEvent
from tests.layers.placards.factories import World, placard

pytestmark = pytest.mark.django_db


def test_the_admin_lists_and_revokes(client, world: World):
    p = placard(world)
    client.force_login(world.users["root"])
    r = client.get("/admin/placards/placard/?status__exact=active")
    assert r.status_code == 200 and "洋坊新村9幢1单元" in r.content.decode()
    assert client.get(f"/admin/placards/placard/{p.pk}/change/").status_code == 200
    assert client.get("/admin/placards/placard/add/").status_code == 403
    r = client.post("/admin/placards/placard/", {"action": "revoke_selected",
                                                 "_selected_action": [p.pk]})
    assert r.status_code == 302
    p.refresh_from_db()
    assert p.status == "revoked" and p.revoked_by == world.users["root"]
    assert PlacardEvent.objects.filter(placard=p, kind="revoked").exists()
    assert Placard.objects.count() == 1  # nothing deleted
