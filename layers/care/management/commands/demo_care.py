"""manage.py demo_care: make the demo grid worker (`worker`, made by `demo_users`: the grid
leader of the sample's micro-grid) a visitor of the active care subjects of that micro-grid, so
/m/care/ lists visits due; and create `careofficer`, the care officer (Post.CARE_OFFICER) of
its community, with a password kept beside the other demo logins in var/demo-users.json.

When the sample has no care subjects there, two residents are enrolled through the services
(proposed by `worker`, approved by `careofficer`: four eyes). Idempotent. Demo only."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from geogrid.hierarchy import Level, code_lengths
from geogrid.models import Grid, Post, StaffAssignment
from geogrid.roles import Role
from layers.care import services
from layers.care.access import CareViewer, persons_in
from layers.care.models import CareProposal, CareSubject, CareVisitor
from layers.people.models import Person

WORKER = "worker"
OFFICER = "careofficer"
ENROL = (("red", ["subsistence", "disabled"], "lives alone, frail (demo)"),
         ("yellow", ["hardship"], "hardship household (demo)"))


class Command(BaseCommand):
    help = "Make the demo grid worker visit the care subjects of their micro-grid and create "\
           "the demo care officer (demo only)."

    def handle(self, *args: Any, **options: Any) -> None:
        worker = get_user_model().objects.filter(username=WORKER).first()
        post = (StaffAssignment.objects.current().filter(user=worker, grid__level=Level.MICRO_GRID)
                .select_related("grid").first()) if worker else None
        if worker is None or post is None:
            self.stdout.write("demo_care: no demo grid worker on a micro-grid (run demo_users "
                              "first): nothing done")
            return
        grid = post.grid
        community = Grid.objects.current().filter(
            code=grid.code[:code_lengths()[Level.COMMUNITY]]).first()
        with transaction.atomic():
            officer, password = self._officer(community or grid)
            subjects = list(self._subjects(grid.code))
            enrolled = 0
            if not subjects:
                enrolled = self._enrol(worker, officer, grid.code)
                subjects = list(self._subjects(grid.code))
            added = sum(self._visit(worker, s) for s in subjects)
        self.stdout.write(f"  {OFFICER:<12} {password:<14} care officer of "
                          f"{(community or grid).code} {(community or grid).name}")
        if enrolled:
            self.stdout.write(f"  (the sample had no care subjects in {grid.code}: {enrolled} "
                              f"residents enrolled, proposed by {WORKER}, approved by {OFFICER})")
        self.stdout.write(f"  {WORKER:<12} visits {len(subjects)} care subjects of {grid.code} "
                          f"{grid.name} ({added} new) (/m/care/)")

    def _officer(self, community: Grid) -> tuple[Any, str]:
        """The care officer, with the password demo_users keeps for every demo login."""
        store = Path(settings.VAR_DIR) / "demo-users.json"
        passwords = json.loads(store.read_text()) if store.is_file() else {}
        password = passwords.setdefault(OFFICER, secrets.token_urlsafe(9))
        user, _ = get_user_model().objects.get_or_create(username=OFFICER)
        user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get(name=Role.GRID_WORKER.value))
        StaffAssignment.objects.get_or_create(user=user, grid=community, post=Post.CARE_OFFICER,
                                              until=None)
        store.parent.mkdir(parents=True, exist_ok=True)
        store.touch(mode=0o600)
        store.write_text(json.dumps(passwords, indent=1))
        return user, password

    @staticmethod
    def _subjects(code: str):
        return CareSubject.objects.filter(persons_in([code]),
                                          status=CareSubject.Status.ACTIVE).order_by("id")

    @staticmethod
    def _visit(worker: Any, subject: CareSubject) -> bool:
        if CareVisitor.objects.filter(subject=subject, user=worker, until__isnull=True).exists():
            return False
        services.add_visitor(subject.pk, CareViewer(worker), user=worker.pk,
                             role=CareVisitor.Role.GRID_WORKER)
        return True

    @staticmethod
    def _enrol(worker: Any, officer: Any, code: str) -> int:
        """Two residents of the micro-grid not yet in care, through the services (four eyes)."""
        free = list(Person.objects.filter(persons_in([code], "pk"), died_on__isnull=True)
                    .exclude(care_records__status__in=(CareSubject.Status.PROPOSED,
                                                       CareSubject.Status.ACTIVE))
                    .order_by("id")[:len(ENROL)])
        for person, (colour, groups, reason) in zip(free, ENROL, strict=False):
            subject = services.enrol(CareViewer(worker), person=person.pk, groups=groups,
                                     colour=colour, colour_reason=reason)
            proposal = CareProposal.objects.get(subject=subject,
                                                outcome=CareProposal.Outcome.PENDING)
            services.approve(proposal.pk, CareViewer(officer), note="demo")
        return len(free)
