"""Signals other packages listen to; geogrid itself never imports them (imports flow one way).

`boundaries_changed` is sent inside the transaction that wrote new grid versions (import, API
edit), after the old versions were closed and children/staff re-pointed:

    boundaries_changed.send(sender=Grid, changes=[BoundaryChange(...), ...], actor=user_or_None)

Receivers (layers: buildings and open appeals) re-assign what lies in the changed area and
re-point the rest to the new version. A receiver that raises aborts the whole change.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.gis.geos import GEOSGeometry
from django.dispatch import Signal


@dataclass(frozen=True)
class BoundaryChange:
    code: str
    old_version_id: int | None  # None: a grid that did not exist before
    new_version_id: int | None  # None: a grid that was retired
    changed_area: GEOSGeometry | None  # symmetric difference of old and new boundary (4326)


boundaries_changed = Signal()


working_calendar_changed = Signal()
"""Sent inside the transaction that changed the working calendar (an imported holiday schedule,
or an override row edited in the admin):

    working_calendar_changed.send(sender=HolidaySchedule, dates=frozenset[date], actor=user)

`dates` are the days whose working/non-working status changed. Receivers re-compute the running
deadlines that reach those days and return how many they changed (an int).
"""
