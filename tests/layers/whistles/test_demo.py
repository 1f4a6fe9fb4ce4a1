"""manage.py demo_whistles: the `department` login, a member of the district's 城市管理局, with
a password kept in var/demo-users.json (the same one on a second run)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from layers.appeals.models import Department

pytestmark = pytest.mark.django_db


def test_the_department_login(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("demo_whistles", stdout=out)
    assert "nothing done" in out.getvalue()
    cgj = Department.objects.create(code="350427-cgj", name_zh="城市管理局",
                                    district_code="350427")
    Department.objects.create(code="350427-aaa", name_zh="另一局", district_code="350427")
    call_command("demo_whistles", stdout=out)
    password = json.loads((tmp_path / "demo-users.json").read_text())["department"]
    user = get_user_model().objects.get(username="department")
    assert user.check_password(password) and list(user.departments.all()) == [cgj]
    call_command("demo_whistles", stdout=out)
    assert json.loads((tmp_path / "demo-users.json").read_text())["department"] == password
    assert "/m/whistles/" in out.getvalue()
