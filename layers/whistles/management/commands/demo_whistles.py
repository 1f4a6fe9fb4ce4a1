"""manage.py demo_whistles: the demo login `department`, a member of the district's
city-management department (城市管理局), for the phone page /m/whistles/ that lists its
called-in units (the `dispatcher` login blows whistles on /maps/dispatch/). The password is kept
beside the other demo logins in var/demo-users.json. Idempotent; prints a note and does nothing
when no department is loaded. Demo only."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from layers.appeals.models import Department


class Command(BaseCommand):
    help = "Create the demo department member's login (demo only)."

    def handle(self, *args: Any, **options: Any) -> None:
        department = (Department.objects.filter(active=True, code__endswith="-cgj")
                      .order_by("code").first()
                      or Department.objects.filter(active=True).order_by("code").first())
        if department is None:
            self.stdout.write("demo_whistles: no departments loaded: nothing done")
            return
        store = Path(settings.VAR_DIR) / "demo-users.json"
        passwords = json.loads(store.read_text()) if store.is_file() else {}
        users = get_user_model().objects
        with transaction.atomic():
            member, _ = users.get_or_create(username="department",
                                            defaults={"first_name": department.name_zh})
            department.members.add(member)
            member.set_password(passwords.setdefault("department", secrets.token_urlsafe(9)))
            member.save(update_fields=["password"])
        store.parent.mkdir(parents=True, exist_ok=True)
        store.touch(mode=0o600)
        store.write_text(json.dumps(passwords, indent=1))
        self.stdout.write(f"  {'department':<11} {passwords['department']:<14} member of "
                          f"{department.name_zh} ({department.code}; /m/whistles/)")
