"""Rules of tests/test_url_scope.py for the volunteering endpoints (layers/volunteering/urls.py):
every role of the walk × a scene in each target's community (A and B share one; YA is in
district Y).

The scene, made afresh in a savepoint for each rule and rolled back after it: per community a
volunteer (not a walk role) with points, a submitted service record, an application of
another user, an adjustment proposed by a third user. No walk role is a volunteer, so their own
endpoints answer them as non-volunteers. Who may (geogrid.capabilities):

- POINTS_VERIFY: staff_com on A and B's community, the superuser everywhere — the volunteer
  list, applications, verifying and rejecting records;
- POINTS_REVERSE: nobody of the walk but the superuser — ledgers, reversals, adjustments;
- POINTS_COUNTS: worker_A and leader_A on A, staff_com, manager and dispatcher_X on A and B,
  dispatcher_Y on YA, the superuser everywhere — the figures.

Out of sight answers 404, anonymous callers 403; an allowed action answers 200 (or 400 for the
deliberately empty body of an action that needs a reason).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from geogrid.hierarchy import code_lengths
from geogrid.models import AccessLog, Grid
from layers.volunteering import ledger
from layers.volunteering.ledger import Source
from layers.volunteering.models import (
    EntryKind,
    PointsAdjustment,
    ServiceRecord,
    Volunteer,
    VolunteerApplication,
)
from layers.volunteering.rules import ensure_default_rules
from layers.volunteering.services import (
    ADJUSTMENT_ACTIONS,
    APPLICATION_ACTIONS,
    ENTRY_ACTIONS,
    RECORD_ACTIONS,
)
from tests.factories import make_user

VERIFY = {"staff_com": {"A", "B"}, "superuser": {"A", "B", "YA"}}
REVERSE = {"superuser": {"A", "B", "YA"}}
COUNTS = {"worker_A": {"A"}, "leader_A": {"A"}, "staff_com": {"A", "B"},
          "manager": {"A", "B"}, "dispatcher_X": {"A", "B"}, "dispatcher_Y": {"YA"},
          "superuser": {"A", "B", "YA"}}


@dataclass
class Scene:
    volunteer: Volunteer
    record: ServiceRecord
    application: VolunteerApplication
    adjustment: PointsAdjustment
    earn: int  # an adjust entry id (reversible)


def community_of(code: str) -> Grid:
    return Grid.objects.current().get(code=code[:code_lengths()[3]])


_made = iter(range(1, 10**6))


def make_scene(code: str) -> Scene:
    n = next(_made)
    ensure_default_rules()
    community = community_of(code)
    volunteer = Volunteer.objects.create(user=make_user(username=f"zz-vol-{code}-{n}"),
                                         display_name="志愿者", community=community)
    account = ledger.account_for(volunteer)
    ledger.post(account.pk, 40, EntryKind.EARN, key=f"zz-earn-{code}-{n}",
                source=Source("test", 1), grid_id=community.pk)
    adjust = ledger.post(account.pk, 5, EntryKind.ADJUST, key=f"zz-adj-{code}-{n}",
                         grid_id=community.pk).entry
    record = ServiceRecord.objects.create(
        volunteer=volunteer, activity="清扫", grid=Grid.objects.current().get(code=code),
        served_on=timezone.localdate(), hours=Decimal(2), submitted_by=volunteer.user)
    application = VolunteerApplication.objects.create(
        user=make_user(username=f"zz-app-{code}-{n}"), community=community, display_name="新人")
    adjustment = PointsAdjustment.objects.create(
        account=account, amount=3, reason="补录", proposed_by=make_user(username=f"zz-p-{n}"))
    return Scene(volunteer, record, application, adjustment, adjust.pk)


@contextmanager
def scenes(names: dict[str, str]):
    with transaction.atomic():
        yield {name: make_scene(code) for code, name in names.items()}
        transaction.set_rollback(True)


def rules(roles: tuple[str, ...], target_names: dict[str, str],
          point: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """URL name → rule, for every pattern of the layer."""
    codes = {name: code for code, name in target_names.items()}

    def signed_in(method: str, url: str, status: int, body: Any = None) -> Callable:
        def rule(walk) -> None:
            for role in roles:
                with transaction.atomic():
                    r = walk.w.call(role, method, url, body)
                    transaction.set_rollback(True)
                walk.expect(role, "-", r, 403 if role == "anonymous" else status)
        return rule

    def scoped(method: str, url: Callable[[Scene, str], str], who: dict[str, set[str]],
               allowed: set[int], body: Any = None, logged: bool = False) -> Callable:
        def rule(walk) -> None:
            with scenes(target_names) as made:
                for role in roles:
                    for target, scene in made.items():
                        before = AccessLog.objects.count()
                        with transaction.atomic():
                            r = walk.w.call(role, method, url(scene, codes[target]), body)
                            after = AccessLog.objects.count()
                            transaction.set_rollback(True)
                        may = target in who.get(role, ())
                        walk.expect(role, target, r, allowed if may else
                                    {403} if role == "anonymous" else {404})
                        if logged and may and after != before + 1:
                            walk.problems.append(f"{walk.name} [{role} → {target}]: not logged")
        return rule

    def listing(walk) -> None:
        with scenes(target_names) as made:
            for role in roles:
                r = walk.w.call(role, "GET", "/api/v1/volunteering/volunteers/?page_size=500")
                if role == "anonymous":
                    walk.expect(role, "-", r, 403)
                    continue
                walk.expect(role, "-", r, 200)
                shown = {v["id"] for v in r.json()} if r.status_code == 200 else set()
                for target, scene in made.items():
                    if (scene.volunteer.pk in shown) != (target in VERIFY.get(role, ())):
                        walk.problems.append(f"{walk.name} [{role} → {target}]: listed wrong")

    def record_listing(walk) -> None:
        with scenes(target_names) as made:
            for role in roles:
                r = walk.w.call(role, "GET", "/api/v1/volunteering/records/?page_size=500")
                if role == "anonymous":
                    walk.expect(role, "-", r, 403)
                    continue
                walk.expect(role, "-", r, 200)
                shown = {x["id"] for x in r.json()} if r.status_code == 200 else set()
                for target, scene in made.items():
                    if (scene.record.pk in shown) != (target in VERIFY.get(role, ())):
                        walk.problems.append(f"{walk.name} [{role} → {target}]: listed wrong")

    base = "/api/v1/volunteering"
    out: dict[str, Any] = {
        "volunteering:me": signed_in("GET", f"{base}/me/", 200),
        "volunteering:my-entries": signed_in("GET", f"{base}/me/entries/", 404),
        "volunteering:volunteer-list": listing,
        "volunteering:application-list": signed_in("GET", f"{base}/applications/", 200),
        "volunteering:record-list": record_listing,
        "volunteering:adjustment-list": signed_in("GET", f"{base}/adjustments/", 200),
        "volunteering:account-entries": scoped(
            "GET", lambda s, c: f"{base}/accounts/{s.volunteer.account.pk}/entries/", REVERSE,
            {200}, logged=True),
        "volunteering:adjustment-propose": scoped(
            "POST", lambda s, c: f"{base}/accounts/{s.volunteer.account.pk}/adjustments/",
            REVERSE, {400}),
        "volunteering:figures": scoped(
            "GET", lambda s, c: f"{base}/figures/?grid={c}", COUNTS, {200}),
        "volunteering:figures-layer": scoped(
            "GET", lambda s, c: f"{base}/figures/layer/?grid={c}", COUNTS, {200}),
    }
    for a in APPLICATION_ACTIONS.public():  # withdraw: the applicant's, seen by staff
        out[f"volunteering:application-action-{a.name}"] = scoped(
            "POST", lambda s, c, a=a: f"{base}/applications/{s.application.pk}/actions/{a.name}/",
            VERIFY, {403} if a.name == "withdraw" else {200, 400})
    for a in RECORD_ACTIONS.public():
        out[f"volunteering:record-action-{a.name}"] = scoped(
            "POST", lambda s, c, a=a: f"{base}/records/{s.record.pk}/actions/{a.name}/",
            VERIFY, {200, 400})
    for a in ENTRY_ACTIONS.public():
        out[f"volunteering:entry-action-{a.name}"] = scoped(
            "POST", lambda s, c, a=a: f"{base}/entries/{s.earn}/actions/{a.name}/", REVERSE,
            {400})
    for a in ADJUSTMENT_ACTIONS.public():
        out[f"volunteering:adjustment-action-{a.name}"] = scoped(
            "POST", lambda s, c, a=a: f"{base}/adjustments/{s.adjustment.pk}/actions/{a.name}/",
            REVERSE, {200})
    return out
