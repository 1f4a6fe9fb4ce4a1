"""Opening a placard and filing a report through it (the public side: anyone, no login).

`open_placard` finds an active placard by its token: an unknown one is 404, a revoked one 410
(PlacardGone). `scan` counts the scan. `submit_report` files an appeal through the one intake
(layers.appeals.intake.submit_appeal) with channel `qr_code`:

- where: the placard's point, unless the reporter moved the pin farther than
  GEOGRID["PLACARDS"]["PIN_MOVED_METRES"] (⚙ 150 m) — then the pin, and the report is no
  longer about the door (no building on the appeal, the door's leaders are not told);
- the grid: assigned by the intake at this moment (boundary edits apply);
- the building: the placard's, when the report is at the door;
- who is told at once: layers.placards.notices (current leaders, read now).

Appeal, building, report count, timeline row and notifications are one transaction; the placard
row is locked, so a report cannot slip in beside a revoke.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils.translation import gettext as _

from geogrid.errors import NotFound
from layers.appeals.intake import AppealInput, IntakeResult, submit_appeal
from layers.appeals.models import Appeal, Channel
from layers.placards import notices, tokens
from layers.placards.board import Scene, scene_of
from layers.placards.models import Placard, PlacardEvent
from layers.placards.scans import count_report, count_scan
from layers.placards.services import PlacardGone, distance_m


def unknown() -> NotFound:
    return NotFound(_("This code is not known. Check the address, or report on the map page."))


def gone() -> PlacardGone:
    return PlacardGone(_("This code has been replaced and no longer takes reports. Please scan "
                         "the new code nearby, or report on the map page."))


def open_placard(token: str, *, lock: bool = False) -> Placard:
    """The active placard with this token; NotFound (404) or PlacardGone (410)."""
    clean = tokens.normalise(token)
    if clean is None:
        raise unknown()
    rows = Placard.objects.select_related("building")
    if lock:
        rows = rows.select_for_update(of=("self",))
    placard = rows.filter(token=clean).first()
    if placard is None:
        raise unknown()
    if placard.status != Placard.Status.ACTIVE:
        raise gone()
    return placard


def scan(token: str) -> Scene:
    """A scan: the placard as it is now (grid, 四长 board), counted once."""
    placard = open_placard(token)
    count_scan(placard.pk)
    return scene_of(placard)


@dataclass
class Report:
    category: str
    description: str = ""
    contact_phone: str = ""
    lon: float | None = None  # the pin, when the page sends it
    lat: float | None = None
    photos: list = field(default_factory=list)


@dataclass
class ReportResult:
    intake: IntakeResult
    scene: Scene
    at_door: bool
    told: dict[str, int]


def submit_report(token: str, data: Report, *, actor: User | AnonymousUser,
                  client: str = "") -> ReportResult:
    """File the report; raises NotFound, PlacardGone, ValidationError, PermissionDenied."""
    limit = float(settings.GEOGRID["PLACARDS"]["PIN_MOVED_METRES"])
    with transaction.atomic():
        placard = open_placard(token, lock=True)
        here = placard.location
        at_door = data.lon is None or data.lat is None or (
            distance_m(here.x, here.y, data.lon, data.lat) <= limit)
        lon, lat = (here.x, here.y) if at_door else (data.lon, data.lat)
        intake = submit_appeal(AppealInput(
            category=data.category, channel=Channel.QR_CODE, lon=lon, lat=lat, crs="wgs84",
            address=placard.label if at_door else "", description=data.description,
            contact_phone=data.contact_phone, photos=list(data.photos), client=client),
            actor=actor)
        appeal = intake.appeal
        if at_door and placard.building_id:
            Appeal.objects.filter(pk=appeal.pk).update(building_id=placard.building_id)
            appeal.building_id = placard.building_id
        # The board and the people told follow the grid the intake just assigned.
        scene = scene_of(placard, lon=lon, lat=lat, assignment=intake.assignment)
        count_report(placard.pk)
        PlacardEvent.objects.create(placard=placard, kind=PlacardEvent.Kind.REPORTED,
                                    data={"appeal": appeal.pk, "tracking": appeal.tracking,
                                          "at_door": at_door})
        told = notices.report_received(appeal, scene, at_door=at_door)
    return ReportResult(intake, scene, at_door, told)
