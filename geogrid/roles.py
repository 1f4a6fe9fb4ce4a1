"""The four kinds of users, as Django groups (created by a data migration)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    GRID_MANAGER = "grid_manager", _("grid manager")
    DISPATCHER = "dispatcher", _("dispatcher")
    GRID_WORKER = "grid_worker", _("grid worker")
    RESIDENT = "resident", _("resident")


def has_role(user: User | AnonymousUser, role: Role) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.groups.filter(name=role.value).exists()
