"""The placard actions: one service function per action, the workflow ones in a registry.

    create_placard     one placard: a building, a stairwell of it, a shop or a place
    bulk_create        a placard per building (and per stairwell with micro-units) of a grid
                       subtree that has none active: one set-based INSERT … SELECT
    PLACARD_ACTIONS    on a placard: revoke (with the reason), reprint (print_version + 1; a
                       new token revoking the old one, ⚙ GEOGRID["PLACARDS"]["REPRINT_NEW_TOKEN"])
    record_printed     a sheet was downloaded: one timeline row per placard on it

Who may: PLACARD_MANAGE (geogrid.capabilities: grid workers and leaders on their grids,
community and subdistrict staff on their subtree) on the grid the placard's point lies in *now*;
a placard outside the viewer's grids answers 404, like one that does not exist. Each action runs
in one transaction, writes its timeline row (PlacardEvent) and, when a constraint the database
enforces refuses it (a second active placard on the same door), answers 409 and changes nothing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from geogrid import coords
from geogrid.actions import ActionRegistry
from geogrid.capabilities import Capability, GrantedViewer
from geogrid.errors import ApiError, Conflict, NotFound, integrity_conflict
from geogrid.models import Grid
from layers.buildings.models import Building
from layers.people.models import Dwelling
from layers.placards import tokens
from layers.placards.board import grid_code_of
from layers.placards.inputs import ReprintInput, RevokeInput
from layers.placards.models import Placard, PlacardEvent

PLACARD_ACTIONS = ActionRegistry("placard")
K = Placard.Kind
S = Placard.Status
Event = PlacardEvent.Kind
MANAGE = Capability.PLACARD_MANAGE


class PlacardGone(ApiError):
    """A revoked placard: 410 — the code on the door must be replaced, not retried."""

    status, code = 410, "gone"


# -- who may ------------------------------------------------------------------------------------
def placard_grid(placard: Placard) -> str | None:
    """The grid code of the placard's point now, read once per object."""
    if not hasattr(placard, "_grid_code"):
        placard._grid_code = grid_code_of(placard)  # type: ignore[attr-defined]
    return placard._grid_code  # type: ignore[attr-defined]


def as_manager(viewer: GrantedViewer, placard: Placard) -> str | None:
    return "placard_manager" if viewer.may(MANAGE, placard_grid(placard)) else None


def managed(viewer: GrantedViewer, pk: int) -> Placard:
    """The placard if the viewer manages it; NotFound otherwise (existing or not)."""
    placard = Placard.objects.select_related("building").filter(pk=pk).first()
    if placard is None or not as_manager(viewer, placard):
        raise NotFound(_("no such placard in your grids"))
    return placard


def _event(placard: Placard, kind: str, actor: Any, **data: Any) -> PlacardEvent:
    return PlacardEvent.objects.create(placard=placard, kind=kind, actor=actor, data=data)


def _user(viewer: GrantedViewer) -> Any:
    return viewer.user if getattr(viewer.user, "is_authenticated", False) else None


# -- creating -----------------------------------------------------------------------------------
def _door(building_id: int, unit_no: int | None) -> Building:
    building = Building.objects.filter(pk=building_id).first()
    if building is None:
        raise ValidationError({"building": [_("no such building")]})
    if unit_no is not None:
        known = unit_no <= max(building.units, 1) or Dwelling.objects.filter(
            building=building, unit_no=unit_no).exists()
        if not known:
            raise ValidationError({"unit_no": [
                _("the building has %(n)d units") % {"n": building.units}]})
    return building


def create_placard(viewer: GrantedViewer, *, kind: str, building: int | None = None,
                   unit_no: int | None = None, name: str = "", lon: float | None = None,
                   lat: float | None = None) -> Placard:
    """A new active placard with a fresh token, on a door of the viewer's grids."""
    fields: dict[str, Any] = {"kind": kind}
    if kind in (K.BUILDING, K.STAIRWELL):
        if building is None:
            raise ValidationError({"building": [_("a building is required")]})
        if kind == K.STAIRWELL and unit_no is None:
            raise ValidationError({"unit_no": [_("a stairwell placard names its unit")]})
        fields.update(building=_door(building, unit_no if kind == K.STAIRWELL else None),
                      unit_no=unit_no if kind == K.STAIRWELL else None)
    else:
        if not name.strip():
            raise ValidationError({"name": [_("a shop or a place has a name")]})
        if lon is None or lat is None:
            raise ValidationError({"lon": [_("a shop or a place needs its point (lon, lat)")]})
        try:
            coords.check_lon_lat(lon, lat)
        except coords.CoordinateError as exc:
            raise ValidationError({exc.field: [str(exc)]}) from exc
        fields.update(name=name.strip(), point=Point(lon, lat, srid=4326),
                      building=_door(building, None) if building is not None else None)
    placard = Placard(token=tokens.new_token(), created_by=_user(viewer), **fields)
    if not as_manager(viewer, placard):
        if kind in (K.BUILDING, K.STAIRWELL):
            raise ValidationError({"building": [_("no such building in your grids")]})
        raise PermissionDenied(_("this point is outside your grids"))
    try:
        with transaction.atomic():
            placard.save()
            _event(placard, Event.CREATED, _user(viewer), grid=placard_grid(placard))
    except IntegrityError as exc:
        raise integrity_conflict(exc) from exc
    return placard


@dataclass
class BulkResult:
    grid: str
    building: int  # building placards created
    stairwell: int  # stairwell placards created
    seconds: float


# Candidate doors without an active placard, in the subtree `root` (or everywhere), numbered
# and joined to as many fresh tokens. Building placards: every building; stairwell placards:
# each unit with dwellings in a micro-unit, in buildings of more than one unit (a one-unit
# building's stairwell is the building's own door).
_CANDIDATES = """
    SELECT b.id AS building_id, NULL::smallint AS unit_no, 'building' AS kind
      FROM layers_building b {in_root}
     WHERE %(building)s
       AND NOT EXISTS (SELECT 1 FROM placards_placard p WHERE p.building_id = b.id
                        AND p.unit_no IS NULL AND p.status = 'active'
                        AND p.kind IN ('building', 'stairwell'))
    UNION ALL
    SELECT s.building_id, s.unit_no, 'stairwell'
      FROM (SELECT DISTINCT d.building_id, d.unit_no::smallint AS unit_no
              FROM people_dwelling d JOIN layers_building b ON b.id = d.building_id {in_root}
             WHERE %(stairwell)s AND d.micro_unit_id IS NOT NULL AND d.unit_no >= 1
               AND EXISTS (SELECT 1 FROM people_dwelling o WHERE o.building_id = d.building_id
                            AND o.unit_no <> d.unit_no)) s
     WHERE NOT EXISTS (SELECT 1 FROM placards_placard p WHERE p.building_id = s.building_id
                        AND p.unit_no = s.unit_no AND p.status = 'active'
                        AND p.kind IN ('building', 'stairwell'))
"""
_IN_ROOT = ("JOIN geogrid_grid g ON g.id = b.grid_id AND g.valid_to IS NULL"
            " AND g.code LIKE %(root)s")

_BULK_INSERT = """
    WITH c AS (SELECT building_id, unit_no, kind,
                      row_number() OVER (ORDER BY building_id, unit_no NULLS FIRST) AS n
                 FROM ({candidates}) x),
         t AS (SELECT token, n FROM unnest(%(tokens)s::text[]) WITH ORDINALITY AS t(token, n)),
         ins AS (
            INSERT INTO placards_placard (token, kind, building_id, unit_no, name, status,
                                          revoke_reason, print_version, created_by_id,
                                          created_at, version)
            SELECT t.token, c.kind, c.building_id, c.unit_no, '', 'active', '', 1, %(actor)s,
                   %(at)s, 1
              FROM c JOIN t USING (n)
            RETURNING id, kind)
    , ev AS (INSERT INTO placards_placardevent (placard_id, kind, at, actor_id, data)
             SELECT id, 'created', %(at)s, %(actor)s, %(data)s::jsonb FROM ins)
    SELECT kind, count(*) FROM ins GROUP BY kind
"""


def insert_doors(cursor: Any, *, root: str | None, kinds: Iterable[str], actor: int | None,
                 at: Any, note: str, limit: int | None = None) -> dict[str, int]:
    """Set-based: a placard (and its `created` row) for every door of the subtree `root` (every
    building when None) that has no active one; {kind: created}. Tokens come from `secrets`
    (tokens.new_tokens), one per candidate, joined by row number. Raises ValidationError when
    there are more than `limit` doors."""
    kinds = set(kinds)
    candidates = _CANDIDATES.format(in_root=_IN_ROOT if root is not None else "")
    params: dict[str, Any] = {"root": f"{root}%", "building": K.BUILDING in kinds,
                              "stairwell": K.STAIRWELL in kinds}
    cursor.execute(f"SELECT count(*) FROM ({candidates}) x", params)
    n = cursor.fetchone()[0]
    if limit is not None and n > limit:
        raise ValidationError({"grid": [
            _("%(n)d placards at once is more than the limit of %(limit)d: choose a "
              "smaller grid") % {"n": n, "limit": limit}]})
    # Doors added meanwhile get no token (and no placard): the next run picks them up.
    cursor.execute(_BULK_INSERT.format(candidates=candidates),
                   {**params, "tokens": tokens.new_tokens(n), "actor": actor, "at": at,
                    "data": json.dumps({"bulk": note})})
    return {str(kind): int(count) for kind, count in cursor.fetchall()}


def bulk_create(viewer: GrantedViewer, *, grid: str,
                kinds: Iterable[str] = (K.BUILDING, K.STAIRWELL)) -> BulkResult:
    """A placard for every building (and stairwell) of the grid subtree that has none."""
    started = timezone.now()
    if not Grid.objects.current().filter(code=grid).exists():
        raise NotFound(_("no such grid"))
    if not viewer.may(MANAGE, grid):
        raise PermissionDenied(_("this grid is outside your grids"))
    limit = int(settings.GEOGRID["PLACARDS"].get("BULK_MAX", 20_000))
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            made = insert_doors(cursor, root=grid, kinds=kinds, at=started, note=grid,
                                actor=getattr(_user(viewer), "pk", None), limit=limit)
    except IntegrityError as exc:  # a placard made on one of the doors meanwhile
        raise integrity_conflict(exc) from exc
    return BulkResult(grid, made.get(K.BUILDING, 0), made.get(K.STAIRWELL, 0),
                      (timezone.now() - started).total_seconds())


# -- actions on one placard -------------------------------------------------------------------
@contextmanager
def _acting(pk: int, viewer: GrantedViewer, name: str,
            version: int | None) -> Iterator[Placard]:
    action = PLACARD_ACTIONS[name]
    try:
        with transaction.atomic():
            placard = (Placard.objects.select_for_update(of=("self",))
                       .select_related("building").filter(pk=pk).first())
            if placard is None or not action.who(viewer, placard):
                raise NotFound(_("no such placard in your grids"))
            current = {"status": placard.status, "version": placard.version}
            if version is not None and version != placard.version:
                raise Conflict(_("the placard changed meanwhile; reload it"), current=current)
            if placard.status not in action.sources:
                raise Conflict(_("not possible in state %(s)s") % {"s": placard.status},
                               current=current)
            yield placard
            placard.version += 1
            placard.save(update_fields=["version"])
    except IntegrityError as exc:
        raise integrity_conflict(exc) from exc


def _revoke(placard: Placard, viewer: GrantedViewer, reason: str) -> None:
    placard.status = S.REVOKED
    placard.revoked_at = timezone.now()
    placard.revoked_by = _user(viewer)
    placard.revoke_reason = reason
    placard.save(update_fields=["status", "revoked_at", "revoked_by", "revoke_reason"])
    _event(placard, Event.REVOKED, _user(viewer), reason=reason)


@PLACARD_ACTIONS.action("revoke", label=gettext_lazy("Revoke"), sources=(S.ACTIVE,),
                        who=as_manager, inputs=RevokeInput, note="none")
def revoke(pk: int, viewer: GrantedViewer, *, reason: str, version: int | None = None) -> Placard:
    """Revoke the placard: its code answers 410 from now on and takes no more reports."""
    with _acting(pk, viewer, "revoke", version) as placard:
        _revoke(placard, viewer, reason)
    return placard


@PLACARD_ACTIONS.action("reprint", label=gettext_lazy("Reprint"), sources=(S.ACTIVE,),
                        who=as_manager, inputs=ReprintInput, note="none")
def reprint(pk: int, viewer: GrantedViewer, *, new_token: bool | None = None,
            version: int | None = None) -> Placard:
    """A new sheet for the door (print_version + 1). With a new token (the default, ⚙
    REPRINT_NEW_TOKEN) a new placard replaces this one, which is revoked; returns the placard to
    print."""
    if new_token is None:
        new_token = bool(settings.GEOGRID["PLACARDS"].get("REPRINT_NEW_TOKEN", True))
    with _acting(pk, viewer, "reprint", version) as old:
        if not new_token:
            old.print_version += 1
            old.save(update_fields=["print_version"])
            _event(old, Event.REPRINTED, _user(viewer), print_version=old.print_version)
            return old
        _revoke(old, viewer, _("reprinted as version %(n)d") % {"n": old.print_version + 1})
        new = Placard.objects.create(
            token=tokens.new_token(), kind=old.kind, building=old.building, unit_no=old.unit_no,
            name=old.name, point=old.point, print_version=old.print_version + 1, replaces=old,
            created_by=_user(viewer))
        _event(new, Event.REPRINTED, _user(viewer), replaces=old.pk,
               print_version=new.print_version)
    return new


def record_printed(viewer: GrantedViewer, placards: list[Placard]) -> None:
    """A timeline row per placard on a downloaded sheet (who printed which version)."""
    at, user = timezone.now(), _user(viewer)
    PlacardEvent.objects.bulk_create([
        PlacardEvent(placard=p, kind=Event.PRINTED, at=at, actor=user,
                     data={"print_version": p.print_version}) for p in placards])


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine; metres, never degrees)."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(a)))
