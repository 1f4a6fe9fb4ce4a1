"""Create one demo user per role (idempotent) and print their logins.

Passwords are random on the first run and kept in var/demo-users.json (mode 600) so that a second
`make demo` prints the same ones. Demo only: never run this on a real deployment.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from geogrid.hierarchy import Level, code_lengths
from geogrid.models import Grid, Post, StaffAssignment
from geogrid.roles import Role

# username, role group (None: superuser), post, level of the grid the post is on
DEMO_USERS: list[tuple[str, Role | None, Post | None, Level | None]] = [
    ("admin", None, None, None),
    ("manager", Role.GRID_MANAGER, Post.MANAGER, Level.DISTRICT),
    ("dispatcher", Role.DISPATCHER, Post.DISPATCHER, Level.DISTRICT),
    ("worker", Role.GRID_WORKER, Post.GRID_LEADER, Level.MICRO_GRID),
    # People on the grid (docs/privacy.md): community staff see their community's register
    # masked and may unmask with a reason; the micro-unit leader gets a unit of the same
    # micro-grid from `manage.py demo_people` (the people layer keeps leader terms).
    ("community", Role.GRID_WORKER, Post.COMMUNITY_STAFF, Level.COMMUNITY),
    ("unitleader", Role.GRID_WORKER, Post.MICRO_UNIT_LEADER, Level.MICRO_GRID),
    ("resident", Role.RESIDENT, None, None),
]


class Command(BaseCommand):
    help = "Create the demo users (admin, manager, dispatcher, worker, community, unitleader, "\
           "resident) and print logins."

    def handle(self, *args, **options) -> None:
        store = Path(settings.VAR_DIR) / "demo-users.json"
        passwords = json.loads(store.read_text()) if store.is_file() else {}
        User = get_user_model()
        rows = []
        with transaction.atomic():
            for username, role, post, level in DEMO_USERS:
                password = passwords.setdefault(username, secrets.token_urlsafe(9))
                user, _ = User.objects.get_or_create(username=username)
                user.set_password(password)
                user.is_staff = role in (None, Role.GRID_MANAGER, Role.DISPATCHER)
                user.is_superuser = role is None
                user.save()
                if role is not None:
                    user.groups.add(Group.objects.get(name=role.value))
                where = self._give_post(user, post, level) if post and level else ""
                rows.append((username, password, role.label if role else "superuser", where))
        store.parent.mkdir(parents=True, exist_ok=True)
        store.touch(mode=0o600)
        store.write_text(json.dumps(passwords, indent=1))
        self.stdout.write("Demo logins (also in var/demo-users.json):")
        for username, password, role_label, where in rows:
            self.stdout.write(f"  {username:<11} {password:<14} {role_label}{where}")

    @staticmethod
    def _give_post(user, post: str, level: int) -> str:
        # Posts are on the seeds' 68-household micro-grid (洋坊新村) or its ancestors when the
        # sample city has it, else on the first grid of the level.
        grids = Grid.objects.current().filter(level=level).order_by("code")
        planted = Grid.objects.current().filter(level=Level.MICRO_GRID,
                                                name__contains="洋坊新村").first()
        grid = (grids.filter(code=planted.code[:code_lengths()[level]]).first()
                if planted else None) or grids.first()
        if grid is None:
            return " (no grids loaded yet: no post)"
        StaffAssignment.objects.get_or_create(user=user, grid=grid, post=post, until=None)
        return f" · {Post(post).label} of {grid.code} {grid.name}"
