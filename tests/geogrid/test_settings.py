"""Settings come from the environment and production defaults are safe."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from geogrid.env import database_from_url

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # Production settings, as a deployment sees them (pytest points at geogrid.settings_test).
    drop = {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"}
    full_env = {k: v for k, v in os.environ.items() if k not in drop}
    full_env.update(env, DJANGO_SETTINGS_MODULE="geogrid.settings")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_a_real_secret():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=secrets.token_urlsafe(50)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_is_off_unless_set_and_locale_defaults():
    result = run_manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.TIME_ZONE, s.LANGUAGE_CODE, s.SECURE_SSL_REDIRECT)",
    )
    assert result.stdout.split() == ["False", "Asia/Shanghai", "zh-hans", "True"]
    result = run_manage(
        "shell", "-v", "0", "-c", "from django.conf import settings as s; print(s.DEBUG)", DEBUG="1"
    )
    assert result.stdout.strip() == "True"


def test_english_is_available():
    assert [code for code, _name in settings.LANGUAGES] == ["zh-hans", "en"]


def test_database_url_is_parsed_onto_the_postgis_backend():
    db = database_from_url("postgres://gg:p%40ss@db.example:6543/grids")
    assert db["ENGINE"] == "django.contrib.gis.db.backends.postgis"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "gg",
        "p@ss",
        "db.example",
        "6543",
        "grids",
    )
    with pytest.raises(ImproperlyConfigured, match="PostGIS is required"):
        database_from_url("sqlite:///tmp/x.db")
    with pytest.raises(ImproperlyConfigured, match="names no database"):
        database_from_url("postgres://gg@localhost:5432/")


def test_bad_debug_value_is_a_clear_error():
    result = run_manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr
