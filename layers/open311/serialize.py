"""What an Open311 answer says about categories, appeals and their timelines.

No personal data in any answer: never the reporter, a phone, a name, an e-mail, a login or a
staff member's note (GeoGrid stores no e-mail or names for Open311 requests in the first place).
Two views of an appeal (layers/open311/access.py decides which), keyed client in scope /
public feed (no key):

- service_request_id: the tracking number / a feed id (layers/open311/ids.py);
- status (open/closed), status_notes (the workflow state's label), geogrid_status (the
  state), service_code, service_name, service_notice (the category's time limit),
  requested/updated/expected_datetime (reported, last change, `due_at`: the working-time
  deadline), agency_responsible (the assigned department, else the assigned grid, else the
  grid it lies in): both;
- description, address: as reported with phone numbers and e-mail addresses masked / null;
- address_id: the building, when the appeal has one / null;
- lat, long: 7 decimals / 3 decimals (about 100 m: a point must not single out a door);
- media_url: null for both (photos are served to the reporter and staff only).

Update descriptions are the timeline row's label; keyed clients in scope also get the public
notes of the appeals layer that staff write as the outcome (reject, resolve, close), masked —
never a return reason or the reporter's rating comment.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from geogrid.pii import mask_phone
from layers.appeals.models import Appeal, AppealEvent, Category, Status
from layers.open311 import ids
from layers.open311.formats import w3c

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-01-01T00:00:00+08:00"  # when this server's interface last changed
PUBLIC_DECIMALS = 3

# GeoGrid's workflow → Open311's two statuses: closed once the work is done (resolved and
# later) or the appeal is ended otherwise (merged, rejected); a redo or a reopening makes it
# open again.
CLOSED_STATES = frozenset({Status.RESOLVED, Status.CHECKED, Status.CLOSED, Status.MERGED,
                           Status.REJECTED})

# The state a timeline row leads to → the mySociety status of that update (GET).
UPDATE_STATUS: dict[str, str] = {
    Status.RECEIVED: "OPEN", Status.ACCEPTED: "OPEN", Status.DISPATCHED: "ACTION_SCHEDULED",
    Status.IN_PROGRESS: "IN_PROGRESS", Status.SUSPENDED: "ACTION_SCHEDULED",
    Status.RETURNED: "INTERNAL_REFERRAL", Status.RESOLVED: "FIXED", Status.CHECKED: "FIXED",
    Status.CLOSED: "CLOSED", Status.MERGED: "DUPLICATE", Status.REJECTED: "NO_FURTHER_ACTION",
}
KIND_STATUS: dict[str, str] = {AppealEvent.Kind.REOPEN: "REOPEN",
                               AppealEvent.Kind.CHECK_FAIL: "REOPEN"}
# Timeline rows that are updates: the workflow's steps, not supports, warnings, re-assignment
# after a boundary edit or a merged-in duplicate.
K = AppealEvent.Kind
UPDATE_KINDS = frozenset({
    K.RECEIVED, K.IMPORTED, K.ACCEPT, K.REJECT, K.MERGE, K.DISPATCH, K.RETURN, K.START,
    K.ESCALATE, K.OVERDUE, K.SUSPEND, K.RESUME, K.RESOLVE, K.CHECK_PASS, K.CHECK_FAIL, K.CLOSE,
    K.RATE, K.REOPEN, K.AUTO_CLOSE,
})
OUTCOME_KINDS = frozenset({K.REJECT, K.RESOLVE, K.CLOSE})

_PHONE = re.compile(r"(?<!\d)(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def mask(text: str) -> str:
    """Free text with phone numbers and e-mail addresses masked (138****5678, ***@…)."""
    text = _PHONE.sub(lambda m: mask_phone(m.group(0)), text)
    return _EMAIL.sub(lambda m: "***@" + m.group(0).split("@", 1)[1], text)


def _zh() -> bool:
    return (translation.get_language() or "zh-hans").lower().startswith("zh")


def category_name(category: Category) -> str:
    return category.name_zh if _zh() else category.name_en


def time_limit(category: Category) -> str:
    return _("time limit: %(n)d %(unit)s") % {"n": category.deadline_value,
                                               "unit": category.get_deadline_unit_display()}


def service_out(category: Category) -> dict:
    return {
        "service_code": category.code,
        "service_name": category_name(category),
        "description": f"{category_name(category)} ({time_limit(category)})",
        "metadata": False,  # no category has extra questions: services/{code} lists none
        "type": "realtime",
        "keywords": ",".join([category.kind, category.major_zh, category.major_en,
                              category.name_zh, category.name_en]),
        "group": category.major_zh if _zh() else category.major_en,
    }


def definition_out(category: Category) -> dict:
    return {"service_code": category.code, "attributes": []}


def discovery_out(base_url: str) -> dict:
    return {
        "changeset": CHANGESET,
        "contact": _("the district's service centre (the dispatchers)"),
        "key_service": _("API keys are issued by the district's service centre"),
        "endpoints": [{
            "specification": SPECIFICATION, "url": base_url, "changeset": CHANGESET,
            "type": "production", "formats": ["text/xml", "application/json"],
        }],
    }


def open_or_closed(state: str) -> str:
    return "closed" if state in CLOSED_STATES else "open"


def agency(appeal: Appeal) -> str | None:
    if appeal.department:
        return (appeal.department.name_zh if _zh() else appeal.department.name_en
                or appeal.department.name_zh)
    grid = appeal.assigned_grid or appeal.grid
    return grid.name if grid else None


def request_id(appeal: Appeal, *, public: bool) -> str:
    return ids.feed_id(appeal.public_id) if public else appeal.tracking


def request_out(appeal: Appeal, *, public: bool) -> dict:
    point = appeal.location
    digits = PUBLIC_DECIMALS if public else 7
    return {
        "service_request_id": request_id(appeal, public=public),
        "status": open_or_closed(appeal.status),
        "status_notes": str(Status(appeal.status).label),
        "service_name": category_name(appeal.category),
        "service_code": appeal.category.code,
        "description": None if public else mask(appeal.description),
        "agency_responsible": agency(appeal),
        "service_notice": time_limit(appeal.category),
        "requested_datetime": w3c(appeal.reported_at),
        "updated_datetime": w3c(appeal.updated_at),
        "expected_datetime": w3c(appeal.due_at),
        "address": None if public or not appeal.address else mask(appeal.address),
        "address_id": None if public or not appeal.building_id else str(appeal.building_id),
        "zipcode": None,
        "lat": round(point.y, digits) if point is not None else None,
        "long": round(point.x, digits) if point is not None else None,
        "media_url": None,
        "geogrid_status": appeal.status,  # the workflow state (extension)
    }


def update_status(event: AppealEvent) -> str:
    return KIND_STATUS.get(event.kind) or UPDATE_STATUS.get(event.to_status, "OPEN")


def update_out(event: AppealEvent, *, public: bool) -> dict:
    description = str(event.get_kind_display())
    if not public and event.kind in OUTCOME_KINDS:
        outcome = event.appeal.result if event.kind == K.RESOLVE else event.note
        if outcome:
            description = f"{description}: {mask(outcome)}"
    out: dict[str, Any] = {
        "update_id": str(event.pk),
        "service_request_id": request_id(event.appeal, public=public),
        "status": update_status(event),
        "updated_datetime": w3c(event.at),
        "description": description,
        "media_url": "",
        "geogrid_action": event.kind,  # the timeline row's kind (extension)
        "geogrid_status": event.to_status,  # the state it led to (extension)
    }
    return out
