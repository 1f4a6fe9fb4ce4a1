"""The household register in and out, under /api/v1/people/ (docs/people-import.md).

- POST imports/ — a register file (multipart `file`, CSV or XLSX) through
  importers.households; `dry_run` defaults to true. Only posts holding Capability.IMPORT
  (community and subdistrict staff) may send one, and rows outside their grids are rejected by
  row. The answer is the import report; when rows are rejected it is a 400 in the one error
  shape, `fields.file` naming each row and the whole report under `report`. An import is a
  write, recorded in the change log, not in the access log.
- GET export.csv?grid=CODE — the register of a grid's subtree (Capability.EXPORT within the
  user's scope), one line per person of an active household, with ID numbers and phones masked
  (the stored masks: nothing is decrypted). One access-log row names every household exported,
  written before the first byte is sent; the file is then streamed a block of households at a
  time.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from geogrid import accesslog
from geogrid.capabilities import Capability, Grants
from geogrid.errors import Invalid, NotFound
from geogrid.models import AccessLog, Grid
from importers.households import HouseholdImportParams, import_households
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


class ImportInput(serializers.Serializer):
    file = serializers.FileField(help_text="the register: .csv (UTF-8 or GB18030) or .xlsx")
    dry_run = serializers.BooleanField(default=True, help_text="false: write (all or nothing)")
    sheet = serializers.CharField(required=False, default=None, max_length=100,
                                  help_text="XLSX: the sheet (default: the first)")


class RegisterImportView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(summary="Import a household register (dry run unless dry_run=false)",
                   request={"multipart/form-data": ImportInput},
                   responses={200: OpenApiTypes.OBJECT, 201: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        user = _user(request)
        if not Grants(user).has(Capability.IMPORT):
            raise PermissionDenied(_("your posts may not import household registers"))
        data = ImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        limit = settings.GEOGRID["IMPORT_MAX_BYTES"]
        if upload.size > limit:
            raise Invalid(_("the file has %(size)d bytes, at most %(limit)d are accepted")
                          % {"size": upload.size, "limit": limit},
                          fields={"file": [_("too large")]})
        suffix = Path(upload.name or "").suffix.lower()
        with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
            for chunk in upload.chunks():
                tmp.write(chunk)
            tmp.flush()
            report = import_households(HouseholdImportParams(
                path=Path(tmp.name), commit=not data.validated_data["dry_run"],
                actor=user, sheet=data.validated_data["sheet"],
                source_name=upload.name or "register"))
        body = report.as_dict()
        if not report.ok:
            errors = report.errors
            raise Invalid(errors[0] if len(errors) == 1 else _(
                "%(n)d problems; nothing was imported") % {"n": len(errors)},
                fields={"file": errors[:report.LISTED]}, extra={"report": body})
        return Response(body, status=201 if report.committed else 200)


class RegisterExportView(APIView):
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]  # errors; the register itself is a streamed CSV

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        return super().perform_content_negotiation(request, force=True)  # any Accept gets CSV

    @extend_schema(summary="The register of a grid's subtree as CSV, identifiers masked "
                           "(one access-log row)",
                   parameters=[OpenApiParameter("grid", str, required=True,
                                                description="a grid code: its subtree")],
                   responses={(200, "text/csv"): OpenApiTypes.BINARY})
    def get(self, request: Request) -> StreamingHttpResponse:
        grants = Grants(_user(request))
        code = request.query_params.get("grid", "")
        if not code.isdigit() or len(code) > 32:
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
                .order_by("household_id", "valid_from", "id")
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
