"""The wishes settings (geogrid/settings.py GEOGRID["WISHES"]), read when used so tests may
override them."""

from __future__ import annotations

import datetime as dt

from django.conf import settings


def wish_setting(key: str) -> int:
    return int(settings.GEOGRID["WISHES"][key])


def days(key: str) -> dt.timedelta:
    return dt.timedelta(days=wish_setting(key))


# Value bands shown on the wall instead of the estimated value (yuan, upper bounds inclusive).
VALUE_BANDS: tuple[tuple[int, str], ...] = ((50, "0-50"), (100, "51-100"), (200, "101-200"),
                                            (10**9, "201+"))


def value_band(value: int) -> str:
    return next(label for top, label in VALUE_BANDS if value <= top)
