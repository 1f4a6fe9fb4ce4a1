"""mySociety's servicerequestupdates: a department's system moves appeals; anyone reads the
public timeline as updates.

POST (a key with `update`, the appeal in the key's scopes). The status, UPPER CASE as sent by
FixMyStreet-style systems (lower case is read as upper), is taken as workflow actions of the
appeals layer, called through its action registry with `Actor(user=client.user,
client=client.name)` — the same permission (the service account must handle the appeal:
a member of the department it is assigned to, or staff with a post over its grid), state and
row-lock checks as a person's action; the timeline row's data names the client:

- IN_PROGRESS, ACTION_SCHEDULED, INVESTIGATING → start (dispatched → in progress); the
  description is its note;
- FIXED, CLOSED → resolve (in progress → resolved) with the description as the result
  (required); on a dispatched appeal start, then resolve, in one transaction;
- NOT_COUNCILS_RESPONSIBILITY, INTERNAL_REFERRAL, DUPLICATE, NO_FURTHER_ACTION → return (退单:
  back to the dispatchers, who re-dispatch, merge or reject) with the description as the
  reason (the status when it is empty);
- OPEN, REOPEN → refused (400): reopening is the reporter's rating or a checker's redo;
  any other status → 400.

An update the workflow refuses (wrong state: IN_PROGRESS twice, FIXED on a received appeal)
is a 400 and changes nothing; one the service account may not take is a 403. Resolving a
category whose kind needs an after-photo (RESOLVE_PHOTO_KINDS) takes it as a multipart file
`media` (GeoGrid's extension): `media_url` is never fetched (no request leaves the server).

Idempotent by the client's `update_id` (Open311Update, unique per client): a replay answers
the stored update and acts no more; the same update_id with another request or status is a
400. The row is inserted before the actions in the same transaction, so a concurrent replay
waits on the unique index and then answers the first one. The answer's `update_id` is
GeoGrid's: the id of the timeline row written (the last one), as GET lists it.

GET lists the timeline rows that are workflow steps (serialize.UPDATE_KINDS) in a window on
their time — `start_date` and `end_date` together, or neither for the last 90 days — the
latest MAX_ROWS of it, oldest first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from geogrid.models import ApiClient
from layers.appeals import transitions
from layers.appeals.actors import Actor
from layers.appeals.models import Appeal, AppealEvent, Status
from layers.open311.access import Caller, covers
from layers.open311.errors import bad, not_found
from layers.open311.inputs import MAX_ROWS
from layers.open311.models import Open311Update
from layers.open311.serialize import UPDATE_KINDS

START = frozenset({"IN_PROGRESS", "ACTION_SCHEDULED", "INVESTIGATING"})
RESOLVE = frozenset({"FIXED", "CLOSED"})
RETURN = frozenset({"NOT_COUNCILS_RESPONSIBILITY", "INTERNAL_REFERRAL", "DUPLICATE",
                    "NO_FURTHER_ACTION"})
KNOWN = START | RESOLVE | RETURN | {"OPEN", "REOPEN"}


def plan(status: str, appeal: Appeal) -> list[str]:
    """The workflow actions an update's status takes on this appeal, in order."""
    if status in START:
        return ["start"]
    if status in RESOLVE:
        return ["start", "resolve"] if appeal.status == Status.DISPATCHED else ["resolve"]
    if status in RETURN:
        return ["return"]
    if status in KNOWN:
        raise bad(_("status %(s)s: an appeal is reopened by its reporter's rating or a "
                    "checker, not by an update") % {"s": status})
    raise bad(_("status: unknown status %(s)r") % {"s": status[:32]})


def _take(action: str, appeal: Appeal, actor: Actor, status: str, description: str,
          photos: list) -> None:
    service: Callable[..., Any] = transitions.APPEAL_ACTIONS[action].service
    if action == "resolve":
        service(appeal, actor, result=description, photos=photos)
    elif action == "return":
        service(appeal, actor, note=description or status)
    else:
        service(appeal, actor, note=description)


def _replay(found: Open311Update, data: dict) -> Open311Update:
    if found.appeal.tracking != data["service_request_id"] or found.status != data["status"]:
        raise bad(_("update_id %(u)r was used for another update")
                  % {"u": data["update_id"][:64]})
    return found


def _stored(client: ApiClient, update_id: str) -> Open311Update | None:
    return (Open311Update.objects.select_related("appeal")
            .filter(client=client, update_id=update_id).first())


def post(client: ApiClient, data: dict, photos: list) -> Open311Update:
    """One update from a client (validated by inputs.UpdateIn), acted on at most once."""
    if (found := _stored(client, data["update_id"])) is not None:
        return _replay(found, data)
    appeal = (Appeal.objects.select_related("grid", "assigned_grid")
              .filter(tracking=data["service_request_id"]).first())
    if appeal is None or not covers(client, appeal):
        raise not_found()
    status, description = data["status"], data.get("description", "").strip()
    actions = plan(status, appeal)
    if "resolve" in actions and not description:
        raise bad(_("description: the result is required for %(s)s") % {"s": status})
    actor = Actor(user=client.user, client=client.name)
    try:
        with transaction.atomic():
            record = Open311Update.objects.create(
                client=client, update_id=data["update_id"], appeal=appeal, status=status,
                description=description, client_datetime=data.get("updated_datetime"))
            before = AppealEvent.objects.filter(appeal=appeal).order_by("-id").values_list(
                "id", flat=True).first() or 0
            for action in actions:
                _take(action, appeal, actor, status, description, photos)
            # The appeal's row stays locked until commit: the rows after `before` are ours.
            record.event = (AppealEvent.objects.filter(appeal=appeal, id__gt=before)
                            .order_by("-id").first())
            record.actions = actions
            record.save(update_fields=["event", "actions"])
    except IntegrityError:
        if (found := _stored(client, data["update_id"])) is not None:  # a concurrent replay
            return _replay(found, data)
        raise
    return record


def submitted_out(record: Open311Update) -> dict:
    return {"update_id": str(record.event_id or "")}


def find(caller: Caller, query: dict) -> list[AppealEvent]:
    window = query["window"]
    appeals = caller.readable()
    rows = (AppealEvent.objects.filter(appeal__in=appeals.values("pk"), kind__in=UPDATE_KINDS,
                                       at__gte=window.start, at__lt=window.end)
            .select_related("appeal").order_by("-at", "-id")[:MAX_ROWS])
    return list(reversed(rows))
