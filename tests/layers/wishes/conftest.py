"""The people town (tests/layers/people/conftest.py) with volunteers, a partner unit and wishes.

    v1      volunteer 小王 (user "v1"), serves the community
    v2      party member 小李 (user "v2")
    v3      volunteer 小赵 (user "v3")
    v_home  volunteer 小陈 who lives in household h3 (micro-grid B)
    unit    partner unit 县供电公司 paired with the community; member: user "member"
    resident  the town's resident, a member of h1 (Person.user)

Wishes are posted the way the service does it: `posted(...)` by the grid worker of A (h1, h2)
or B (h3); `published(...)` then publishes it as community staff.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from layers.wishes import services
from layers.wishes.access import WishViewer
from layers.wishes.models import Wish
from tests.factories import make_user
from tests.layers.factories import COMMUNITY
from tests.layers.people.conftest import Town, build_town
from tests.layers.volunteering.factories import make_partner_unit, make_volunteer


def viewer(user: Any) -> WishViewer:
    return WishViewer(user)


def client_for(user: Any) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        c.force_login(user)
    return c


def jpeg_with_gps() -> SimpleUploadedFile:
    image = Image.new("RGB", (64, 48), (90, 140, 200))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (26.0, 23.0, 42.0), 3: "E", 4: (117.0, 47.0, 42.0)}  # GPS IFD
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return SimpleUploadedFile("gift.jpg", out.getvalue(), content_type="image/jpeg")


@dataclass
class Square:
    town: Town
    volunteers: dict[str, Any] = field(default_factory=dict)
    unit: Any = None

    @property
    def users(self) -> dict[str, Any]:
        return self.town.users

    def posted(self, household: str = "h1", *, by: str = "", value: int = 80,
               title: str = "给独居老人买一台电饭煲", **extra: Any) -> Wish:
        poster = by or ("gw_b" if household == "h3" else "gw")
        return services.post_wish(
            viewer(self.users[poster]), household=self.town.households[household].pk,
            category=extra.pop("category", "material"), title=title,
            public_title=extra.pop("public_title", "一位老人需要一台电饭煲"),
            description=extra.pop("description", "旧的坏了"), est_value=value, **extra)

    def published(self, household: str = "h1", **kwargs: Any) -> Wish:
        wish = self.posted(household, **kwargs)
        return services.publish(wish.pk, viewer(self.users["cs"]))

    def claimed(self, household: str = "h1", by: str = "v1", **claim: Any) -> Wish:
        wish = self.published(household)
        services.claim(wish.pk, viewer(self.users[by]), **claim)
        wish.refresh_from_db()
        return wish

    def delivered(self, household: str = "h1", by: str = "v1") -> Wish:
        wish = self.claimed(household, by)
        services.deliver(wish.pk, viewer(self.users[by]), photos=[jpeg_with_gps()])
        wish.refresh_from_db()
        return wish


def build_square() -> Square:
    town = build_town()
    community = town.grids[COMMUNITY]
    u = town.users
    sq = Square(town)
    for key, name, kind in (("v1", "小王", "volunteer"), ("v2", "小李", "party_member"),
                            ("v3", "小赵", "volunteer")):
        u[key] = make_user("resident", username=key)
        sq.volunteers[key] = make_volunteer(community, user=u[key], display_name=name, kind=kind)
    u["v_home"] = make_user("resident", username="v_home")
    sq.volunteers["v_home"] = make_volunteer(community, user=u["v_home"], display_name="小陈",
                                             person=town.person("h3", 0))
    u["member"] = make_user("resident", username="member")
    sq.unit = make_partner_unit(community, name="县供电公司", members=(u["member"],))
    return sq


@pytest.fixture
def square(db) -> Square:
    return build_square()
