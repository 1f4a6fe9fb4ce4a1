"""The five-level grid hierarchy and its code scheme (DOMAIN.md), independent of the database."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.IntegerChoices):
    DISTRICT = 1, _("district")
    SUBDISTRICT = 2, _("subdistrict")
    COMMUNITY = 3, _("community")
    ZONE = 4, _("zone")
    MICRO_GRID = 5, _("micro-grid")


def code_lengths() -> dict[int, int]:
    """Digits of a grid code per level; configurable through settings.GEOGRID["CODE_LENGTHS"]."""
    return {int(k): int(v) for k, v in settings.GEOGRID["CODE_LENGTHS"].items()}


def level_for_code(code: str) -> int | None:
    """The level a code belongs to by its length, or None when no level has that length."""
    for level, length in code_lengths().items():
        if len(code) == length:
            return level
    return None


def code_problem(level: int, code: str, parent_code: str | None) -> str | None:
    """Why `code` is not a valid code for a grid of `level` under `parent_code`; None if it is."""
    lengths = code_lengths()
    if level not in lengths:
        return _("level %(level)s is not one of 1–5") % {"level": level}
    if not re.fullmatch(r"\d+", code or ""):
        return _("code %(code)r must consist of digits only") % {"code": code}
    if len(code) != lengths[level]:
        return _("a %(level)s code has %(n)d digits, %(code)r has %(m)d") % {
            "level": Level(level).label,
            "n": lengths[level],
            "code": code,
            "m": len(code),
        }
    if parent_code is not None and not code.startswith(parent_code):
        return _("code %(code)r does not start with its parent's code %(parent)r") % {
            "code": code,
            "parent": parent_code,
        }
    if parent_code is not None and set(code[len(parent_code) :]) == {"0"}:
        return _("code %(code)r: the part after the parent's code must not be all zeros") % {
            "code": code
        }
    return None
