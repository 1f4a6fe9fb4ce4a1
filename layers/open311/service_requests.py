"""Service requests: submitted through the appeals layer's intake, read from its appeals.

`submit` calls `layers.appeals.intake.submit_appeal` — the same validation, duplicate search,
assignment and timeline rows as the app — as the client's service account, with the client's
name in the `received` row. Intake is synchronous, so the answer always carries the
`service_request_id` (the tracking number), never a token; `tokens/{token}` still resolves an
appeal's public id (`geogrid_public_id` in the POST answer) for clients that poll tokens.

Where the appeal lands must lie in the client's scopes: intake runs in a transaction that is
rolled back when it does not (the tracking number it drew too), so a district's key cannot
file appeals in another district, by coordinates or by an address that geocodes there.

The location is `lat` + `long` (WGS 84), else `address_id` (a building of the address
register: its point and standard address), else `address_string` (geocoded by the register;
an address it cannot place is kept unlocated, in the district dispatcher's queue, as in the
app). The channel is GeoGrid's `channel` extension field when given, else `hotline_12345` when
the service account may use it (the hotline's account is a dispatcher), else `mobile`.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from geogrid.models import ApiClient
from layers.appeals.intake import AppealInput, IntakeResult, allowed_channels, submit_appeal
from layers.appeals.models import Appeal, Channel, public_id_of
from layers.buildings.models import Building
from layers.open311 import ids
from layers.open311.access import Caller, covers
from layers.open311.errors import Open311Error, bad, not_found
from layers.open311.inputs import MAX_ROWS
from layers.open311.serialize import CLOSED_STATES, category_name


def default_channel(client: ApiClient) -> str:
    channels = allowed_channels(client.user)
    return Channel.HOTLINE_12345 if Channel.HOTLINE_12345 in channels else Channel.MOBILE


def _location(data: dict) -> dict[str, Any]:
    if "lat" in data:
        return {"lon": data["long"], "lat": data["lat"],
                "address": data.get("address_string", "").strip()}
    if data.get("address_id"):
        building = Building.objects.filter(pk=int(data["address_id"])).first()
        if building is None:
            raise bad(_("address_id: no building %(id)s") % {"id": data["address_id"]})
        return {"lon": building.location.x, "lat": building.location.y,
                "address": building.address}
    return {"address": data["address_string"].strip()}


def submit(client: ApiClient, data: dict) -> IntakeResult:
    """One appeal from a POST requests form (validated by inputs.RequestIn)."""
    appeal_input = AppealInput(
        category=data["service_code"], channel=data.get("channel") or default_channel(client),
        description=data.get("description", "").strip(), contact_phone=data.get("phone", ""),
        client=client.name, **_location(data))
    with transaction.atomic():
        result = submit_appeal(appeal_input, actor=client.user)
        if not covers(client, result.appeal):
            raise bad(_("the location is outside the area of this API key"))
    return result


def submitted_out(result: IntakeResult) -> dict:
    appeal = result.appeal
    notice = _("received; assigned to %(where)s") % {
        "where": result.assignment.code or _("the district's queue (not located)")}
    if result.duplicates:
        notice += "; " + ngettext("%(n)d similar open request nearby",
                                  "%(n)d similar open requests nearby",
                                  len(result.duplicates)) % {"n": len(result.duplicates)}
    return {"service_request_id": appeal.tracking, "service_notice": notice,
            "account_id": None, "geogrid_public_id": str(appeal.public_id),
            "service_name": category_name(appeal.category)}


def _by_ref(rows: QuerySet[Appeal], refs: list[str], *, public: bool) -> QuerySet[Appeal]:
    if public:
        found = [ids.public_id_of_feed(r) for r in refs]
        return rows.filter(public_id__in=[p for p in found if p is not None])
    return rows.filter(tracking__in=[r for r in refs if ids.is_tracking(r)])


def find(caller: Caller, query: dict) -> list[Appeal]:
    """GET requests: by ids (which override the rest), else category, status and the window on
    `requested_datetime`; newest first, at most MAX_ROWS."""
    rows = caller.readable()
    if query["ids"]:
        rows = _by_ref(rows, query["ids"], public=caller.public)
    else:
        window = query["window"]
        rows = rows.filter(reported_at__gte=window.start, reported_at__lt=window.end)
        if query["codes"]:
            rows = rows.filter(category__code__in=query["codes"])
        if query["statuses"] == ["closed"]:
            rows = rows.filter(status__in=CLOSED_STATES)
        elif query["statuses"] == ["open"]:
            rows = rows.exclude(status__in=CLOSED_STATES)
    return list(rows.order_by("-reported_at", "-id")[:MAX_ROWS])


def one(caller: Caller, ref: str) -> Appeal:
    """requests/{id}: unknown, malformed or outside the caller's view → 404."""
    found = _by_ref(caller.readable(), [ref], public=caller.public).first()
    if found is None:
        raise not_found()
    return found


def by_token(caller: Caller, token: str) -> Appeal:
    """tokens/{token}: the token is the appeal's public id; a keyed client (submit or
    read_appeals) resolves the appeals of its scopes and those it submitted."""
    client = caller.client
    if client is None or not (client.may("submit") or client.may("read_appeals")):
        raise Open311Error(403, _("an API key with the submit permission is required"))
    public = public_id_of(token)
    appeal = (Appeal.objects.select_related("grid", "assigned_grid")
              .filter(public_id=public).first() if public else None)
    if appeal is None or not (covers(client, appeal) or appeal.reporter_id == client.user_id):
        raise not_found()
    return appeal
