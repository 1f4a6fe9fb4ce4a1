"""manage.py demo_points: demo logins for the points pages — the sample volunteer with the most
points at the first points shop's community (/m/points/) and that shop's first operator
(/m/shop/) get passwords, kept beside the other demo logins in var/demo-users.json under their
sample user names. The sample (fixtures.load_points) made them without a usable password.
Idempotent; prints nothing but a note when the points sample is not loaded. Demo only."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from layers.shop.models import Shop, ShopOperator
from layers.volunteering.models import Volunteer


class Command(BaseCommand):
    help = "Give a sample volunteer and a shop operator demo passwords (demo only)."

    def handle(self, *args: Any, **options: Any) -> None:
        shop = Shop.objects.filter(active=True).select_related("community").order_by("id").first()
        operator = (ShopOperator.objects.filter(shop=shop, until__isnull=True)
                    .select_related("user").order_by("id").first()) if shop else None
        volunteer = (Volunteer.objects.filter(community=shop.community, active=True)
                     .select_related("user", "account").order_by("-account__balance", "id")
                     .first()) if shop else None
        if shop is None or operator is None or volunteer is None:
            self.stdout.write("demo_points: the points sample is not loaded: nothing done")
            return
        store = Path(settings.VAR_DIR) / "demo-users.json"
        passwords = json.loads(store.read_text()) if store.is_file() else {}
        with transaction.atomic():
            for user in (volunteer.user, operator.user):
                password = passwords.setdefault(user.username, secrets.token_urlsafe(9))
                account = get_user_model().objects.get(pk=user.pk)
                account.set_password(password)
                account.save(update_fields=["password"])
        store.parent.mkdir(parents=True, exist_ok=True)
        store.touch(mode=0o600)
        store.write_text(json.dumps(passwords, indent=1))
        v, o = volunteer.user.username, operator.user.username
        self.stdout.write(f"  {v:<24} {passwords[v]:<14} volunteer {volunteer.display_name}, "
                          f"{volunteer.account.balance} points (/m/points/)")
        self.stdout.write(f"  {o:<24} {passwords[o]:<14} operator of {shop.name} (/m/shop/)")
