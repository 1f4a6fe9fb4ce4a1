"""The register over HTTP: POST /api/v1/people/imports/ (dry run by default, 400 in the one error
shape naming the rows) and GET /api/v1/people/export.csv (masked, one access-log row)."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from geogrid.models import AccessLog
from importers.households import HouseholdImportParams, import_households
from layers.people import identity
from layers.people.models import Household, Person
from tests.importers.test_households import (
    COMMUNITY2,
    bad_checksum,
    build_world,
    counts,
    csv_bytes,
    family,
    new_id,
)
from tests.layers.factories import COMMUNITY, A

pytestmark = pytest.mark.django_db
IMPORTS = "/api/v1/people/imports/"
EXPORT = "/api/v1/people/export.csv"


@pytest.fixture
def world():
    return build_world()


def upload(rows, name="register.csv", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, csv_bytes(rows, **kwargs), content_type="text/csv")


def test_import_dry_run_then_commit(client, world):
    client.force_login(world["users"]["cs"])
    rows = family("沙县区洋坊新村1幢1单元101室", 3, tags="高龄")
    before = counts()
    response = client.post(IMPORTS, {"file": upload(rows)})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["dry_run"] is True and body["committed"] is False and body["ok"] is True
    assert body["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 0}
    assert body["persons"]["created"] == 3 and body["path"] == "register.csv"
    assert counts() == before

    response = client.post(IMPORTS, {"file": upload(rows), "dry_run": "false"})
    assert response.status_code == 201, response.content
    assert response.json()["committed"] is True
    assert Household.objects.count() == 1 and Person.objects.count() == 3
    assert AccessLog.objects.count() == 0  # an import is a write: the change log has it
    assert "register.csv" in Household.objects.get().changes.get().note


def test_import_with_a_bad_row_is_a_400_naming_it(client, world):
    client.force_login(world["users"]["cs"])
    rows = family("沙县区洋坊新村1幢1单元101室", 2) + family("沙县区洋坊新村1幢1单元102室", 2)
    rows[3][2] = bad_checksum(new_id())
    response = client.post(IMPORTS, {"file": upload(rows), "dry_run": "false"})
    assert response.status_code == 400
    body = response.json()
    assert set(body) >= {"detail", "code", "fields", "problems"} and body["code"] == "invalid"
    assert body["detail"].startswith("row 5: 身份证号:") and "check digit" in body["detail"]
    assert body["fields"]["file"] == [body["detail"]]
    assert [(r["row"], r["field"]) for r in body["report"]["rejected"]] == [(5, "身份证号")]
    assert Household.objects.count() == 0 and Person.objects.count() == 0


def test_import_access(client, world):
    rows = family("沙县区洋坊新村1幢1单元101室", 1) + family("东门小区9幢301室", 1)
    response = client.post(IMPORTS, {"file": upload(rows)})
    assert response.status_code == 403 and response.json()["code"] == "not_authenticated"
    client.force_login(world["users"]["gw"])  # a grid worker: no import
    response = client.post(IMPORTS, {"file": upload(rows)})
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    client.force_login(world["users"]["cs2"])  # community 2's staff: only its own rows
    response = client.post(IMPORTS, {"file": upload(rows), "dry_run": "false"})
    assert response.status_code == 400
    assert [r["row"] for r in response.json()["report"]["rejected"]] == [2]
    assert Household.objects.count() == 0
    response = client.post(IMPORTS, {"nofile": "x"})
    assert response.status_code == 400 and "file" in response.json()["fields"]


def test_export_is_masked_and_logged_once(client, world, tmp_path):
    head_id, phone = new_id(), "13812345678"
    rows = family("沙县区洋坊新村1幢1单元101室", 2, tags="独居")
    rows[0][2], rows[0][4] = head_id, phone
    rows += family("桂坞家园3幢", 1) + family("东门小区9幢301室", 1)
    path = tmp_path / "register.csv"
    path.write_bytes(csv_bytes(rows))
    assert import_households(HouseholdImportParams(path=path, commit=True)).committed  # system
    client.force_login(world["users"]["cs"])

    response = client.get(EXPORT, {"grid": COMMUNITY}, HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    assert text.startswith("\ufeff户号,地址,单元,室,姓名,身份证号,与户主关系,联系电话,标签,户别")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(lines) == 1 + 3  # two of the family and the one in 桂坞家园; not community 2
    assert head_id not in text and phone not in text
    assert identity.pii.mask_id_number(head_id) in text and "138****5678" in text
    firsts = {}
    for line in lines[1:]:
        firsts.setdefault(line[0], line[6])
    assert set(firsts.values()) == {"户主"}  # each household's head first
    head = next(line for line in lines if line[6] == "户主" and line[3] == "101")
    assert head[8] == "独居" and head[9] == "家庭户" and head[2] == "1"
    logs = list(AccessLog.objects.all())
    assert len(logs) == 1
    log = logs[0]
    households = Household.objects.filter(
        dwelling__building__grid__code__startswith=COMMUNITY)
    assert log.action == "export" and log.subject_type == "household"
    assert sorted(log.subject_ids) == sorted(households.values_list("id", flat=True))
    assert log.user == world["users"]["cs"] and log.post == "community_staff"


def test_export_access(client, world):
    response = client.get(EXPORT, {"grid": COMMUNITY})
    assert response.status_code == 403 and response.json()["code"] == "not_authenticated"
    for user, code, status in (("cs2", COMMUNITY, 403), ("gw", A, 403), ("cs", COMMUNITY2, 403),
                               ("cs", "999999", 404), ("cs", "x", 400), ("cs", "³", 400)):
        client.force_login(world["users"][user])
        response = client.get(EXPORT, {"grid": code})
        assert response.status_code == status, (user, code)
        assert set(response.json()) >= {"detail", "code"}
    client.force_login(world["users"]["cs2"])
    assert client.get(EXPORT, {"grid": COMMUNITY2}).status_code == 200
    assert AccessLog.objects.count() == 1


def test_export_lists_the_head_first(client, world):
    from layers.people.models import Residence
    from tests.layers.people.factories import make_dwelling, make_household

    household = make_household(make_dwelling(world["buildings"]["a1"], "101"), 3)
    first, second, _third = household.residences.order_by("id")
    Residence.objects.filter(pk=first.pk).update(relation="child")
    Residence.objects.filter(pk=second.pk).update(relation="head")
    client.force_login(world["users"]["cs"])
    text = b"".join(client.get(EXPORT, {"grid": COMMUNITY}).streaming_content).decode()
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert [line[6] for line in lines[1:]] == ["户主", "子女", "子女"]
    assert lines[1][4] == second.person.name
