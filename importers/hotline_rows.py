"""What the hotline importer works on: its columns and status words, its parameters and report,
and the typed batches passed between its steps (AppealRows → Placement). Shared by the fast
path (importers.appeals) and the reference path (importers.hotline_reference)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.conf import settings
from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from geogrid.locate import BulkAssignment
from importers.params import TableImportParams
from importers.report import ImportReport
from layers.appeals.models import Appeal, Channel, Status


def length_limits() -> dict[str, int | None]:
    """Our text columns → the most characters they may hold (the database columns', and the
    intake's limit for descriptions)."""
    return {
        "source_ref": Appeal._meta.get_field("source_ref").max_length,
        "address": Appeal._meta.get_field("address").max_length,
        "contact_phone": Appeal._meta.get_field("contact_phone").max_length,
        "description": settings.GEOGRID["APPEAL_DESCRIPTION_MAX_CHARS"],
    }

COLUMNS = {
    "source_ref": "appeal_id",
    "category": "category_code",
    "channel": "channel",
    "status": "status",
    "x": "lon",
    "y": "lat",
    "crs": "crs",
    "address": "address",
    "description": "description",
    "reported_at": "reported_at",
    "contact_phone": "contact_phone",
}
REQUIRED = ["source_ref", "category", "reported_at"]
# Workflow words of common exports (and of the sample city) → our statuses.
STATUS_MAP = {
    "submitted": Status.RECEIVED, "received": Status.RECEIVED, "受理": Status.ACCEPTED,
    "accepted": Status.ACCEPTED, "dispatched": Status.DISPATCHED, "派单": Status.DISPATCHED,
    "in_progress": Status.IN_PROGRESS, "办理中": Status.IN_PROGRESS,
    "returned": Status.RETURNED, "退单": Status.RETURNED,
    "suspended": Status.SUSPENDED, "挂账": Status.SUSPENDED,
    "resolved": Status.RESOLVED, "replied": Status.RESOLVED, "已办结": Status.RESOLVED,
    "checked": Status.CHECKED, "已核查": Status.CHECKED,
    "closed": Status.CLOSED, "办结": Status.CLOSED, "结案": Status.CLOSED,
    "rejected": Status.REJECTED, "merged": Status.MERGED, "": Status.RECEIVED,
}


@dataclass
class AppealImportParams(TableImportParams):
    """Columns: see COLUMNS; `crs` is for rows without a CRS column or value."""

    channel: str = Channel.HOTLINE_12345.value  # for rows without a channel column or value
    actor: User | None = None  # the importing user; None: the system
    # A large batch with the site closed: every foreign key of the appeals and their timeline
    # rows is checked set-based (faster), which locks the tables they reference — users,
    # grids, buildings, categories, departments — against every reader until commit.
    exclusive: bool = False


@dataclass
class UnlocatedRow:
    row: int
    source_ref: str
    address: str


@dataclass
class AppealImportReport(ImportReport):
    """`unchanged`: order ids imported before (left as they are); `updated` stays empty."""

    geocoded: int = 0  # rows placed by their address
    assignment: dict[str, int] = field(default_factory=dict)  # method → rows
    unlocated: list[UnlocatedRow] = field(default_factory=list)  # for a dispatcher to pin

    def details(self) -> list[str]:
        if not self.ok:
            return []
        out = [_("geocoded from the address: %(n)d") % {"n": self.geocoded},
               _("assignment: %(counts)s") % {"counts": self.assignment}]
        if self.unlocated:
            out.append(_("unlocated (%(n)d), for a dispatcher to pin:")
                       % {"n": len(self.unlocated)})
            out += [f"  row {u.row} {u.source_ref}: {u.address or _('(no address)')}"
                    for u in self.unlocated[: self.LISTED]]
        return out


@dataclass
class AppealRows:
    """The validated file: one entry per row, in file order (what `locate` and `write` take)."""

    row: np.ndarray  # int: the row number in the file
    source_ref: np.ndarray  # str: the hotline's order id
    category_id: np.ndarray  # int
    channel: np.ndarray  # str
    status: np.ndarray  # str, one of Status
    reported_at: pd.DatetimeIndex  # in the deployment's time zone
    raw_x: np.ndarray  # float as in the file; NaN for rows without coordinates
    raw_y: np.ndarray
    raw_crs: np.ndarray  # str; '' for rows without coordinates
    lon: np.ndarray  # WGS 84 from the coordinates; NaN: none (the address is geocoded)
    lat: np.ndarray
    address: np.ndarray  # str
    description: np.ndarray  # str
    contact_phone: np.ndarray  # str

    def __len__(self) -> int:
        return len(self.row)


@dataclass
class Placement:
    """Where each row of an AppealRows batch belongs, aligned with it."""

    lon: np.ndarray  # the point, from the coordinates or geocoded; NaN: unlocated
    lat: np.ndarray
    building_id: np.ndarray  # int: the geocoded building, -1 for none
    geocode_score: np.ndarray  # float; NaN when not geocoded
    assignment: BulkAssignment
    district: np.ndarray  # str: the district's code
