"""The people town (tests/layers/people/conftest.py) with care subjects, enrolled the way the
service does it: proposed by a grid worker, approved by community staff.

    s1  h1's first member (micro-grid A, micro-unit U1)   red     subsistence, disabled
        visitors: gw (grid worker), mul (micro-unit leader), vol (volunteer)
    s2  h2's first member (micro-grid A, building a2)      yellow  hardship
        visitors: bl (building leader)
    s3  h3's member (micro-grid B)                          blue    disabled
        visitors: gw_b
Users added: co (care officer of the community), vol (a volunteer: no post at all).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from geogrid.models import Post
from layers.care import services
from layers.care.access import CareViewer
from layers.care.groups import ensure_default_groups
from layers.care.models import CareProposal, CareSubject
from tests.factories import assign, make_user
from tests.layers.factories import COMMUNITY
from tests.layers.people.conftest import Town, build_town


def viewer(user) -> CareViewer:
    return CareViewer(user)


def enrol_and_approve(person, colour: str, groups: list[str], proposer, approver,
                      visitors: Sequence[tuple[Any, str]] = ()) -> CareSubject:
    subject = services.enrol(viewer(proposer), person=person.pk, groups=groups, colour=colour,
                             colour_reason="assessed at home",
                             visitors=[{"user": u.pk, "role": r} for u, r in visitors])
    proposal = CareProposal.objects.get(subject=subject, outcome="pending")
    services.approve(proposal.pk, viewer(approver))
    subject.refresh_from_db()
    return subject


@dataclass
class Ward:
    town: Town
    subjects: dict[str, CareSubject] = field(default_factory=dict)

    @property
    def users(self) -> dict[str, Any]:
        return self.town.users


def build_ward() -> Ward:
    ensure_default_groups()  # a flush by an earlier transactional test empties the table
    town = build_town()
    u = town.users
    u["co"] = make_user("grid_worker", username="co")
    assign(u["co"], town.grids[COMMUNITY], Post.CARE_OFFICER)
    u["vol"] = make_user("resident", username="vol")
    w = Ward(town)
    w.subjects["s1"] = enrol_and_approve(
        town.person("h1", 0), "red", ["subsistence", "disabled"], u["gw"], u["cs"],
        [(u["gw"], "grid_worker"), (u["mul"], "micro_unit_leader"), (u["vol"], "volunteer")])
    w.subjects["s2"] = enrol_and_approve(town.person("h2", 0), "yellow", ["hardship"], u["gw"],
                                         u["co"], [(u["bl"], "building_leader")])
    w.subjects["s3"] = enrol_and_approve(town.person("h3", 0), "blue", ["disabled"], u["gw_b"],
                                         u["cs"], [(u["gw_b"], "grid_worker")])
    return w


@pytest.fixture
def ward(db) -> Ward:
    return build_ward()
