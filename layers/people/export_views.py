"""GET /api/v1/people/export.csv?grid=CODE — the register of a grid's subtree
(Capability.EXPORT within the user's scope), one line per person of an active household, with
ID numbers and phones masked (the stored masks: nothing is decrypted). One access-log row names
every household exported, written before the first byte is sent; the file is then streamed a
block of households at a time. The import (importers/household_views.py) reads it back."""


from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Case, When
from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from geogrid import accesslog
from geogrid.capabilities import Capability, Grants
from geogrid.errors import Invalid, NotFound
from geogrid.models import AccessLog, Grid
from layers.people.models import Household, Residence

EXPORT_BLOCK = 2000  # households per query while streaming
EXPORT_FIELDS = ("name", "id_masked", "phone_masked", "relation", "presence", "tags", "kind",
                 "address")
EXPORT_HEADER = ("户号", "地址", "单元", "室", "姓名", "身份证号", "与户主关系", "联系电话", "标签",
                 "户别", "人户状态", "网格")


def _user(request: Request) -> User:
    if not isinstance(request.user, User) or not request.user.is_authenticated:
        raise NotAuthenticated(_("log in to import or export the register"))
    return request.user


class RegisterExportView(APIView):
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]  # errors; the register itself is a streamed CSV

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        return super().perform_content_negotiation(request, force=True)  # any Accept gets CSV

    @extend_schema(operation_id="people_register_export",
                   summary="The register of a grid's subtree as CSV, identifiers masked "
                           "(one access-log row)",
                   parameters=[OpenApiParameter("grid", str, required=True,
                                                description="a grid code: its subtree")],
                   responses={(200, "text/csv"): OpenApiTypes.BINARY,
                              404: OpenApiResponse(description="no grid has this code")})
    def get(self, request: Request) -> StreamingHttpResponse:
        grants = Grants(_user(request))
        code = request.query_params.get("grid", "")
        if not re.fullmatch(r"[0-9]{1,32}", code):  # (str.isdigit takes '³' too)
            raise Invalid(_("grid must be a grid code"), fields={"grid": [_("a grid code")]})
        if not Grid.objects.current().filter(code=code).exists():
            raise NotFound(_("no grid has the code %(code)s") % {"code": code})
        if not grants.has(Capability.EXPORT, code):
            raise PermissionDenied(_("your posts may not export the register of this grid"))
        ids = list(Household.objects.filter(
            status=Household.Status.ACTIVE,
            dwelling__building__grid__code__startswith=code).order_by("id")
            .values_list("id", flat=True))
        accesslog.record(request, user=request.user, post=grants.post_for(Capability.EXPORT),
                         action=AccessLog.Action.EXPORT, subject_type="household",
                         subject_ids=ids, fields=EXPORT_FIELDS)
        response = StreamingHttpResponse(_register_csv(ids),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="register-{code}.csv"'
        response["Cache-Control"] = "no-store"
        return response


# The register's own words, which the import reads back (importers.households).
RELATION_WORDS = {"head": "户主", "spouse": "配偶", "child": "子女", "parent": "父母",
                  "grandchild": "孙子女", "grandparent": "祖父母", "sibling": "兄弟姐妹",
                  "tenant": "租户", "other": "其他"}
KIND_WORDS = {"registered": "家庭户", "collective": "集体户", "floating": "流动户"}
PRESENCE_WORDS = {"both": "人户一致", "absent": "户在人不在", "unregistered": "人在户不在"}


def _register_csv(household_ids: list[int]) -> Iterator[bytes]:
    """The CSV of these households (the header first, with a byte-order mark for Excel), one
    block of households per query."""
    out = io.StringIO()
    writer = csv.writer(out)
    relation, presence, kind = RELATION_WORDS, PRESENCE_WORDS, KIND_WORDS
    writer.writerow(EXPORT_HEADER)
    yield ("\ufeff" + out.getvalue()).encode()
    for start in range(0, len(household_ids), EXPORT_BLOCK):
        block = household_ids[start:start + EXPORT_BLOCK]
        rows = (Residence.objects.filter(household_id__in=block, valid_to__isnull=True)
                .order_by("household_id", Case(When(relation=Residence.Relation.HEAD, then=0),
                                                default=1), "valid_from", "id")
                .values_list("household_id", "household__dwelling__building__address",
                             "household__dwelling__unit_no", "household__dwelling__room_no",
                             "person__name", "person__id_masked", "relation",
                             "person__phone_masked", "household__tags", "household__kind",
                             "presence", "household__dwelling__building__grid__code"))
        out.seek(0)
        out.truncate()
        for (hid, address, unit, room, name, id_masked, rel, phone, tags, hkind, pres,
             grid) in rows:
            writer.writerow([hid, _cell(address), unit or "", _cell(room), _cell(name),
                             id_masked, relation.get(rel, rel), phone, "、".join(tags),
                             kind.get(hkind, hkind), presence.get(pres, pres), grid or ""])
        yield out.getvalue().encode()


def _cell(text: str) -> str:
    """Text a spreadsheet will not run as a formula (=, +, -, @ first)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
