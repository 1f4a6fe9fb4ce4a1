"""POST /api/v1/people/imports/ — a household register file (multipart `file`, CSV or XLSX)
through importers.households (docs/people-import.md); `dry_run` defaults to true. Only posts
holding Capability.IMPORT (community and subdistrict staff) may send one, and rows outside
their grids are rejected by row. The answer is the import report; when rows are rejected it is
a 400 in the one error shape, `fields.file` naming each row and the whole report under
`report`. An import is a write, recorded in the change log, not in the access log.

Mounted by layers/people/urls.py (by dotted name: the people layer does not import
importers)."""


from __future__ import annotations

import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from geogrid.capabilities import Capability, Grants
from geogrid.errors import Invalid
from importers.households import HouseholdImportParams, import_households


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

    @extend_schema(operation_id="people_register_import",
                   summary="Import a household register (dry run unless dry_run=false)",
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
