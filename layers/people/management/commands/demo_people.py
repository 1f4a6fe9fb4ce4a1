"""manage.py demo_people: give the demo user `unitleader` (made by `demo_users`) the leader
term of the first micro-unit of their micro-grid, so /m/unit/ shows households. Demo only."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from geogrid.models import Post, StaffAssignment
from layers.people.models import MicroUnit, MicroUnitLeaderTerm


class Command(BaseCommand):
    help = "Make the demo user 'unitleader' lead a micro-unit of their micro-grid (demo only)."

    def handle(self, *args, **options) -> None:
        user = get_user_model().objects.filter(username="unitleader").first()
        post = (StaffAssignment.objects.current().filter(user=user, post=Post.MICRO_UNIT_LEADER)
                .select_related("grid").first()) if user else None
        unit = (MicroUnit.objects.filter(grid__code=post.grid.code).order_by("code").first()
                if post else None)
        if user is None or unit is None:
            self.stdout.write("demo_people: no unitleader post or no micro-unit: nothing done")
            return
        today = timezone.localdate()
        with transaction.atomic():
            current = MicroUnitLeaderTerm.objects.select_for_update().filter(
                micro_unit=unit, until__isnull=True).first()
            if current is not None and current.user_id == user.pk:
                self.stdout.write(f"  unitleader   leads {unit.code} {unit.name}")
                return
            if current is not None:  # the sample's leader hands over
                current.until = max(current.since, today - dt.timedelta(days=1))
                current.save(update_fields=["until"])
            MicroUnitLeaderTerm.objects.create(micro_unit=unit, user=user, since=today)
        self.stdout.write(f"  unitleader   now leads {unit.code} {unit.name} (/m/unit/)")
