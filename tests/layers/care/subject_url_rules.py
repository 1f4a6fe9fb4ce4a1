"""Rules of tests/test_url_scope.py for the care endpoints that name a subject, a proposal or a
visit (layers/care/urls.py): every role × a care subject in each target grid.

Who sees a subject (layers.care.access): FULL — grid workers/leaders on their micro-grid,
community staff over the community, superusers; VISITOR — the micro-unit leader of A, who is
the visitor of A's subject; nobody else (404, 403 when anonymous). Reads that show a subject
write access-log rows. Actions: allowed (200/201/400/409: the walk sends no real body) where the
role may, 403 where it sees the subject but may not act, 404 where it does not see it. Each
action runs in a savepoint that is rolled back. tests/layers/care/test_access.py checks the
fields per level in depth.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from geogrid.models import AccessLog
from layers.care import services
from layers.care.access import CareViewer
from layers.care.models import CareProposal, CareSubject, CareVisitor, Visit
from layers.care.services import PROPOSAL_ACTIONS, SUBJECT_ACTIONS
from tests.factories import make_user
from tests.layers.people.factories import make_building, make_dwelling, make_household

FULL = {"worker_A": {"A"}, "leader_A": {"A"}, "staff_com": {"A", "B"},
        "superuser": {"A", "B", "YA"}}
VISITOR = {"unit_leader_A": {"A"}}
APPROVE = {"staff_com": {"A", "B"}, "superuser": {"A", "B", "YA"}}  # care.subtree
OPEN = APPROVE  # care.unmask
ALLOWED = {200, 201, 400, 409}


def _level(role: str, target: str) -> str:
    if target in FULL.get(role, ()):
        return "full"
    return "visitor" if target in VISITOR.get(role, ()) else ""


def _jpeg() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 100, 50)).save(out, format="JPEG")
    return SimpleUploadedFile("door.jpg", out.getvalue(), content_type="image/jpeg")


def subjects_of(w: Any, names: dict[str, str], points: dict[str, tuple[float, float]],
                ) -> dict[str, tuple[CareSubject, CareProposal, Visit]]:
    """Per target: an active subject (A's visited by A's micro-unit leader) with a pending
    re-assessment and one visit with a photo. Made afresh for each rule."""
    root = next(u for u in w.users.values() if u is not None and u.is_superuser)
    other = make_user(username=f"zz-care-approver-{CareSubject.objects.count()}",
                      is_superuser=True)
    out = {}
    for code, unit in w.units.items():
        if code not in names:
            continue
        x, y = points[code]
        building = make_building(unit.grid, x, y, number=f"8{len(out)}")
        household = make_household(make_dwelling(building, "102", micro_unit=unit), 1)
        person = household.residences.get().person
        subject = services.enrol(CareViewer(root), person=person.pk, groups=["disabled"],
                                 colour="yellow", colour_reason="walk")
        enrolment = CareProposal.objects.get(subject=subject, outcome="pending")
        services.approve(enrolment.pk, CareViewer(other))
        if names[code] == "A":
            CareVisitor.objects.create(subject=subject, user=w.users["unit_leader_A"],
                                       role=CareVisitor.Role.MICRO_UNIT_LEADER)
        end = timezone.now() - dt.timedelta(hours=1)
        visit = services.record_visit(
            subject.pk, CareViewer(root), kind="regular", mode="home",
            started_at=end - dt.timedelta(minutes=20), ended_at=end, living="ok",
            safety="ok", family_care="ok", services="ok", photos=[_jpeg()])
        proposal = services.reassess(subject.pk, CareViewer(other), colour="red",
                                     groups=["disabled"], reason="walk")
        out[names[code]] = (subject, proposal, visit)
    return out


def care_rules(roles: tuple[str, ...], names: dict[str, str],
               points: dict[str, tuple[float, float]]) -> dict[str, Callable]:
    """The rules, by URL name (care:…), for `roles` and the targets (code → name A/B/YA)."""

    def each(walk, fn) -> None:
        made = subjects_of(walk.w, names, points)
        for role in roles:
            for target, (subject, proposal, visit) in made.items():
                fn(walk, role, target, subject, proposal, visit)

    def read(path: Callable[[CareSubject, Visit], str], anonymous: int = 403) -> Callable:
        def rule(walk) -> None:
            def one(walk, role, target, s, _p, v) -> None:
                before = AccessLog.objects.count()
                r = walk.w.call(role, "GET", path(s, v))
                sees = bool(_level(role, target))
                walk.expect(role, target, r, 200 if sees else
                            anonymous if role == "anonymous" else 404)
                if AccessLog.objects.count() != before + int(sees):
                    walk.problems.append(f"{walk.name} [{role} → {target}]: log not one row")
            each(walk, one)
        return rule

    def listing(walk) -> None:
        def one(walk, role, target, s, _p, _v) -> None:
            r = walk.w.call(role, "GET", "/api/v1/care/subjects/?page_size=500")
            if role == "anonymous":
                walk.expect(role, target, r, 403)
                return
            walk.expect(role, target, r, 200)
            shown = {x["id"] for x in r.json()["results"]} if r.status_code == 200 else set()
            if (s.pk in shown) != bool(_level(role, target)):
                walk.problems.append(f"{walk.name} [{role} → {target}]: listed={s.pk in shown}")
                return
            groups = [x.get("groups") for x in r.json()["results"] if x["id"] == s.pk]
            if groups and (groups[0] is not None) != (_level(role, target) == "full"):
                walk.problems.append(f"{walk.name} [{role} → {target}]: groups={groups[0]}")
        each(walk, one)

    def dues(walk) -> None:
        def one(walk, role, target, s, _p, _v) -> None:
            r = walk.w.call(role, "GET", "/api/v1/care/dues/?state=open&page_size=500")
            if role == "anonymous":
                walk.expect(role, target, r, 403)
                return
            walk.expect(role, target, r, 200)
            named = {x["subject"] for x in r.json() if x.get("name")} \
                if r.status_code == 200 else set()
            if (s.pk in named) != bool(_level(role, target)):
                walk.problems.append(f"{walk.name} [{role} → {target}]: named={s.pk in named}")
        each(walk, one)

    def subject_action(name: str, visitors_too: bool) -> Callable:
        def rule(walk) -> None:
            def one(walk, role, target, s, _p, _v) -> None:
                level = _level(role, target)
                may = level == "full" or (level == "visitor" and visitors_too)
                with transaction.atomic():
                    r = walk.w.call(role, "POST",
                                    f"/api/v1/care/subjects/{s.pk}/actions/{name}/", {})
                    transaction.set_rollback(True)
                want = ALLOWED if may else {403} if level or role == "anonymous" else {404}
                walk.expect(role, target, r, want)
            each(walk, one)
        return rule

    def proposal_action(name: str) -> Callable:
        def rule(walk) -> None:
            def one(walk, role, target, _s, p, _v) -> None:
                level = _level(role, target)
                may = target in APPROVE.get(role, ())
                with transaction.atomic():
                    r = walk.w.call(role, "POST",
                                    f"/api/v1/care/proposals/{p.pk}/actions/{name}/", {})
                    transaction.set_rollback(True)
                want = ALLOWED if may else (
                    {403} if level == "full" or role == "anonymous" else {404})
                walk.expect(role, target, r, want)
            each(walk, one)
        return rule

    def open_record(walk) -> None:
        def one(walk, role, target, s, _p, _v) -> None:
            with transaction.atomic():
                r = walk.w.call(role, "POST", f"/api/v1/care/subjects/{s.pk}/open/", {})
                transaction.set_rollback(True)
            may = target in OPEN.get(role, ())
            level = _level(role, target)
            walk.expect(role, target, r, {400} if may else (
                {403} if level or role == "anonymous" else {404}))
        each(walk, one)

    def proposals(walk) -> None:
        def one(walk, role, target, s, p, _v) -> None:
            r = walk.w.call(role, "GET", "/api/v1/care/proposals/?page_size=500")
            walk.expect(role, target, r, 403 if role == "anonymous" else 200)
            shown = {x["id"] for x in r.json()} if r.status_code == 200 else set()
            if (p.pk in shown) != (_level(role, target) == "full"):
                walk.problems.append(f"{walk.name} [{role} → {target}]: listed={p.pk in shown}")
        each(walk, one)

    def rounds(walk) -> None:
        codes = {name: code for code, name in names.items()}

        def one(walk, role, target, _s, _p, _v) -> None:
            due = (timezone.now() + dt.timedelta(days=3)).isoformat()
            with transaction.atomic():
                r = walk.w.call(role, "POST", "/api/v1/care/rounds/",
                                {"grid": codes[target], "reason": "weather", "due_at": due})
                transaction.set_rollback(True)
            may = target in APPROVE.get(role, ())
            walk.expect(role, target, r, 201 if may else 403 if role == "anonymous" else 404)
        each(walk, one)

    def photo(suffix: str) -> Callable:  # like appeal photos: one 404 for everyone refused
        return read(lambda s, v: f"/api/v1/care/visits/{v.pk}/photos/"
                                 f"{v.photos.get().pk}/{suffix}", anonymous=404)

    rules: dict[str, Callable] = {
        "care:subject-list": listing,
        "care:subject-detail": read(lambda s, v: f"/api/v1/care/subjects/{s.pk}/"),
        "care:subject-visits": read(lambda s, v: f"/api/v1/care/subjects/{s.pk}/visits/"),
        "care:subject-open": open_record,
        "care:proposal-list": proposals,
        "care:due-list": dues,
        "care:extra-round": rounds,
        "care:visit-photo": photo(""),
        "care:visit-photo-thumbnail": photo("thumbnail/"),
    }
    for a in SUBJECT_ACTIONS.public():
        rules[f"care:subject-action-{a.name}"] = subject_action(
            a.name, a.name in ("trigger", "record_visit"))
    for a in PROPOSAL_ACTIONS.public():
        rules[f"care:proposal-action-{a.name}"] = proposal_action(a.name)
    return rules
