"""Login lock-out (django-axes, settings AXES_*): after 5 failed logins within the cool-off the
account — from any address — and the address — for any account — are refused, the right
password included, until the cool-off has passed or an administrator unlocks them."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client

from tests.factories import make_user

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
PASSWORD = "pw-for-tests-only"  # tests.factories.make_user
LOCKED = "Too many failed logins for this account or from this address"


@pytest.fixture
def client():
    return Client(HTTP_ACCEPT_LANGUAGE="en")  # the page's messages in English


def attempt(client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/"},
                       REMOTE_ADDR=address)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def assert_locked(response) -> None:
    assert response.status_code == 429, response.status_code
    assert LOCKED in response.content.decode()
    assert 1 <= int(response["Retry-After"]) <= settings.AXES_COOLOFF_TIME.total_seconds()


def test_the_settings_lock_after_five_failures_per_account_and_per_address():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_the_sixth_attempt_is_refused_even_with_the_right_password(client):
    make_user(username="ana")
    for _ in range(4):
        response = attempt(client, "ana", "wrong")
        assert response.status_code == 200  # the form again, "didn't match"
        assert "Please try again." in response.content.decode()
    assert_locked(attempt(client, "ana", "wrong"))  # the fifth failure locks
    response = attempt(client, "ana", PASSWORD)
    assert_locked(response)
    assert not logged_in(client)
    page = response.content.decode()
    assert "An administrator can unlock it sooner." in page and 'name="password"' in page
    # Refused attempts do not prolong the lock-out: still one record, five failures.
    assert list(AccessAttempt.objects.values_list("username", "failures_since_start")) == [
        ("ana", 5)]


def test_the_account_is_locked_from_every_address(client):
    make_user(username="ana")
    for i in range(5):
        attempt(client, "ana", "wrong", address=f"198.51.100.{i + 1}")
    assert_locked(attempt(client, "ana", PASSWORD, address="203.0.113.50"))
    assert not logged_in(client)


def test_the_address_is_locked_for_every_account(client):
    make_user(username="ana")
    for name in ("bo", "cy", "di", "ed", "fu"):  # one wrong password each
        attempt(client, name, "wrong", address="198.51.100.7")
    assert_locked(attempt(client, "ana", PASSWORD, address="198.51.100.7"))
    assert not logged_in(client)
    # The same account from another address is not locked.
    assert attempt(client, "ana", PASSWORD, address="198.51.100.8").status_code == 302
    assert logged_in(client)


def test_the_admin_login_is_locked_too(client):
    make_user(username="root", is_staff=True, is_superuser=True)
    for _ in range(5):
        client.post("/admin/login/", {"username": "root", "password": "wrong"})
    response = client.post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert_locked(response)
    assert not logged_in(client)


def test_an_administrator_unlocks_in_the_admin(client):
    make_user(username="ana")
    for _ in range(5):
        attempt(client, "ana", "wrong")
    assert_locked(attempt(client, "ana", PASSWORD))

    admin = Client()
    admin.force_login(make_user(username="boss", is_staff=True, is_superuser=True))
    listing = admin.get("/admin/axes/accessattempt/?locked_out=yes")
    assert listing.status_code == 200 and "ana" in listing.content.decode()
    record = AccessAttempt.objects.get(username="ana")
    unlocked = admin.post("/admin/axes/accessattempt/", {
        "action": "delete_selected", "_selected_action": [record.pk], "post": "yes"})
    assert unlocked.status_code == 302
    assert not AccessAttempt.objects.exists()

    assert attempt(client, "ana", PASSWORD).status_code == 302
    assert logged_in(client)


def test_the_shell_unlocks_an_account_or_an_address(client):
    from django.core.management import call_command

    make_user(username="ana")
    for _ in range(5):
        attempt(client, "ana", "wrong", address="198.51.100.1")
    for name in ("bo", "cy", "di", "ed", "fu"):
        attempt(client, name, "wrong", address="198.51.100.2")
    assert_locked(attempt(client, "ana", PASSWORD, address="198.51.100.3"))  # the account
    call_command("axes_reset_username", "ana", verbosity=0)
    assert attempt(client, "ana", PASSWORD, address="198.51.100.3").status_code == 302
    client.logout()
    assert_locked(attempt(client, "ana", PASSWORD, address="198.51.100.2"))  # the address
    call_command("axes_reset_ip", "198.51.100.2", verbosity=0)
    assert attempt(client, "ana", PASSWORD, address="198.51.100.2").status_code == 302


def test_the_lock_out_ends_after_the_cool_off(client):
    make_user(username="ana")
    for _ in range(5):
        attempt(client, "ana", "wrong")
    assert_locked(attempt(client, "ana", PASSWORD))
    # The last failure was longer ago than the cool-off.
    AccessAttempt.objects.update(
        attempt_time=dt.datetime.now(dt.UTC) - settings.AXES_COOLOFF_TIME - dt.timedelta(seconds=1))
    assert attempt(client, "ana", PASSWORD).status_code == 302
    assert logged_in(client)


def test_retry_after_counts_down_from_the_last_failure(client):
    make_user(username="ana")
    for _ in range(5):
        attempt(client, "ana", "wrong")
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))
    response = attempt(client, "ana", PASSWORD)
    assert_locked(response)
    left = settings.AXES_COOLOFF_TIME.total_seconds() - 5 * 60
    assert left - 30 <= int(response["Retry-After"]) <= left + 1


def test_a_json_client_gets_the_one_error_shape(client):
    make_user(username="ana")
    for _ in range(5):
        attempt(client, "ana", "wrong")
    response = client.post(LOGIN, {"username": "ana", "password": PASSWORD},
                           HTTP_ACCEPT="application/json")
    assert response.status_code == 429 and response["Retry-After"]
    body = response.json()
    assert body["code"] == "rate_limited" and LOCKED in body["detail"]
