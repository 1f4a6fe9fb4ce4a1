"""The 四清 ledger and household counts under /api/v1/people/ (layers.people.ledger_urls).

Who may read what (geogrid.capabilities through layers.people.access.Viewer):

- `counts/?grid=` — counts only: COUNTS, GRID or SUBTREE on the grid (dispatchers, grid
  managers, grid staff, community/subdistrict staff); 403 outside.
- `ledger/?grid=` — the figures of a grid and its children: GRID or SUBTREE on the grid; 403
  outside (a dispatcher's COUNTS is not enough; a micro-unit leader reads their own unit below).
- `micro-units/<id>/ledger/` — one unit's figures and its 重点关注 list, which is personal
  data: the unit's leader (an open leader term while holding a leader post) and GRID/SUBTREE
  posts whose grids hold the unit; anyone else gets the 404 of a unit that does not exist. Each
  answer writes exactly one access-log row in the same transaction (action "list", subject
  type "household", the listed households, the fields shown) — also when the list is empty:
  the reader looked.

Anonymous callers get 403 (`not_authenticated`). Parameters are checked at the edge
(layers.people.ledger_serializers): a bad grid code, an unknown grid, a bad or past date, a NUL
byte → 400 in the one error shape (geogrid.errors).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from geogrid import accesslog
from geogrid.capabilities import Capability
from geogrid.errors import NotFound
from geogrid.models import Grid
from layers.people import ledger
from layers.people.access import Level, Viewer
from layers.people.ledger_serializers import (
    CountsParams,
    GridLedgerSerializer,
    HouseholdCountsAnswerSerializer,
    LedgerParams,
    UnitLedgerParams,
    UnitLedgerSerializer,
)
from layers.people.models import MicroUnit

MAX_ID = 2**63 - 1


def viewer_of(request: Request) -> Viewer:
    if not request.user.is_authenticated:
        raise NotAuthenticated(_("log in to see the register"))
    return Viewer(request.user)


def _grid_ref(grid: Grid) -> dict[str, Any]:
    return {"code": grid.code, "name": grid.name, "level": grid.level}


def _outside() -> PermissionDenied:
    return PermissionDenied(_("this grid is outside your grids"))


class LedgerView(APIView):
    permission_classes = [AllowAny]  # viewer_of answers anonymous callers

    @extend_schema(summary="四清 figures of a grid and of its children (or its micro-units)",
                   parameters=[LedgerParams], responses={200: GridLedgerSerializer})
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        params = LedgerParams.parse(request.query_params)
        grid: Grid = params["grid"]
        if not (viewer.may(Capability.GRID, grid.code)
                or viewer.may(Capability.SUBTREE, grid.code)):
            raise _outside()
        result = ledger.grid_ledger(grid, params["as_of"])
        body = {
            "grid": _grid_ref(grid), "as_of": result.as_of, "days": result.days.as_dict(),
            "figures": result.figures.as_dict(),
            "rows": [{"kind": r.kind, "id": r.id, "code": r.code, "name": r.name,
                      "level": r.level, "figures": r.figures.as_dict()} for r in result.rows],
        }
        return Response(GridLedgerSerializer(body).data)


class UnitLedgerView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(summary="One micro-unit's 四清 figures and its 重点关注 list (logged)",
                   parameters=[UnitLedgerParams], responses={200: UnitLedgerSerializer})
    def get(self, request: Request, unit_id: int) -> Response:
        viewer = viewer_of(request)
        params = UnitLedgerParams.parse(request.query_params)
        unit = (MicroUnit.objects.select_related("grid").filter(pk=unit_id).first()
                if 0 < unit_id <= MAX_ID else None)
        level = self._level(viewer, unit) if unit is not None else Level.NONE
        if unit is None or level == Level.NONE:
            raise NotFound(_("No such micro-unit."))
        as_of = params["as_of"] or timezone.localdate()
        with transaction.atomic():
            figures = ledger.unit_figures(unit, as_of)
            focus = ledger.focus_list(unit)
            accesslog.record(request, user=request.user, post=viewer.post_for_log(level),
                             action="list", subject_type="household",
                             subject_ids=[f["household"] for f in focus],
                             fields=ledger.FOCUS_FIELDS)
        body = {
            "unit": {"id": unit.pk, "code": unit.code, "name": unit.name,
                     "grid": _grid_ref(unit.grid)},
            "as_of": as_of, "days": ledger.ledger_days().as_dict(),
            "figures": figures.as_dict(), "focus_tags": ledger.focus_tags(), "focus": focus,
        }
        return Response(UnitLedgerSerializer(body).data)

    @staticmethod
    def _level(viewer: Viewer, unit: MicroUnit) -> Level:
        """FULL for GRID/SUBTREE posts holding the unit's grid (and superusers), UNIT for its
        leader, NONE for everyone else."""
        code = unit.grid.code
        if viewer.is_super or any(code.startswith(r) for r in viewer.full_roots):
            return Level.FULL
        return Level.UNIT if unit.pk in viewer.unit_ids else Level.NONE


class CountsView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(summary="Households, residents and focus households per grid (counts only)",
                   parameters=[CountsParams], responses={200: HouseholdCountsAnswerSerializer})
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        params = CountsParams.parse(request.query_params)
        grid: Grid = params["grid"]
        if not any(viewer.may(c, grid.code)
                   for c in (Capability.COUNTS, Capability.GRID, Capability.SUBTREE)):
            raise _outside()
        totals, rows = ledger.household_counts(grid, params["level"])
        body = {
            "grid": _grid_ref(grid), "level": params["level"], "totals": totals.as_dict(),
            "rows": [{**_grid_ref(g), **counts.as_dict()} for g, counts in rows],
        }
        return Response(HouseholdCountsAnswerSerializer(body).data)
