"""geogrid.ratelimit: counters in PostgreSQL that every process shares, the scopes the API
limits (intake, support, feedback, locate, login) and their 429 with Retry-After.

The test against gunicorn with 4 workers is in test_ratelimit_workers.py."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client

from geogrid import ratelimit
from geogrid.errors import RateLimited
from geogrid.models import RateCounter
from tests.factories import make_user

LOCATE = "/api/v1/locate"
INSIDE = {"lon": 117.805, "lat": 26.405}


@pytest.fixture
def limits(settings):
    """Set limits for this test: limits(support=(2, 60), intake=(1, 600), locate=None)."""

    def set_limits(**rates):
        geogrid = {**settings.GEOGRID, "RATE_LIMITS": dict(settings.GEOGRID["RATE_LIMITS"])}
        for scope, rate in rates.items():
            if scope == "intake":
                geogrid["APPEAL_ANON_RATE"] = rate
            else:
                geogrid["RATE_LIMITS"][scope] = rate
        settings.GEOGRID = geogrid

    return set_limits


def _move_window_end(seconds_from_now: float) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE geogrid_ratecounter SET window_ends = now() + make_interval("
                       "secs => %s)", [seconds_from_now])


@pytest.mark.django_db(transaction=True)
def test_threads_on_their_own_connections_let_exactly_the_limit_through(limits):
    limits(support=(20, 600))
    hits: list[ratelimit.Hit] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def client() -> None:
        try:
            start.wait(timeout=30)
            for _ in range(10):
                hit = ratelimit.count_hit("support", "203.0.113.7")
                assert hit is not None
                hits.append(hit)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and len(hits) == 80
    # Every hit got its own number: nothing was counted twice or lost.
    assert sorted(h.count for h in hits) == list(range(1, 81))
    assert sum(h.allowed for h in hits) == 20
    assert all(1 <= h.retry_after <= 600 for h in hits)
    assert RateCounter.objects.get(scope="support", client="203.0.113.7").hits == 80


@pytest.mark.django_db
def test_the_counter_table_is_unlogged():
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'geogrid_ratecounter'")
        assert cursor.fetchone() == ("u",)


@pytest.mark.django_db
def test_retry_after_is_the_time_left_in_the_window(limits):
    limits(support=(1, 600))
    first = ratelimit.count_hit("support", "a")
    assert first is not None and first.allowed and first.retry_after == 600
    _move_window_end(90.2)
    with pytest.raises(RateLimited) as refused:
        ratelimit.enforce("support", "a", "slow down")
    assert refused.value.retry_after == 91  # rounded up: never too early
    assert refused.value.headers == {"Retry-After": "91"}
    assert refused.value.status == 429 and refused.value.detail == "slow down"


@pytest.mark.django_db
def test_refused_hits_do_not_extend_the_window_and_a_new_window_starts_afresh(limits):
    limits(support=(2, 600))
    first = ratelimit.count_hit("support", "a")
    _move_window_end(300)  # half-way through the window
    ends = RateCounter.objects.get(scope="support", client="a").window_ends
    counts = [first, *(ratelimit.count_hit("support", "a") for _ in range(3))]
    assert [(h.count, h.allowed, h.retry_after) for h in counts if h] == [
        (1, True, 600), (2, True, 300), (3, False, 300), (4, False, 300)]
    assert RateCounter.objects.get(scope="support", client="a").window_ends == ends
    _move_window_end(-1)  # the window has ended
    fresh = ratelimit.count_hit("support", "a")
    assert fresh is not None and (fresh.count, fresh.allowed, fresh.retry_after) == (1, True, 600)
    assert RateCounter.objects.get(scope="support", client="a").hits == 1


@pytest.mark.django_db
def test_scopes_and_clients_are_counted_apart(limits):
    limits(support=(1, 60), feedback=(1, 60))
    assert ratelimit.count_hit("support", "a").allowed
    assert ratelimit.count_hit("feedback", "a").allowed
    assert ratelimit.count_hit("support", "b").allowed
    assert not ratelimit.count_hit("support", "a").allowed
    assert RateCounter.objects.count() == 3


@pytest.mark.django_db
def test_a_scope_set_to_none_is_not_limited_nor_counted(limits):
    limits(locate=None)
    assert ratelimit.count_hit("locate", "a") is None
    ratelimit.enforce("locate", "a", "never")
    assert not RateCounter.objects.exists()


def test_an_unknown_scope_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown rate-limit scope 'appeal'"):
        ratelimit.rate_for("appeal")


@pytest.mark.django_db
def test_expired_counters_are_purged(limits):
    limits(support=(5, 60))
    for client in ("old1", "old2"):
        ratelimit.count_hit("support", client)
    _move_window_end(-5)
    ratelimit.count_hit("support", "current")
    assert ratelimit.purge_expired() == 2
    assert list(RateCounter.objects.values_list("client", flat=True)) == ["current"]


def test_limits_from_the_environment(monkeypatch):
    from geogrid.settings import _rate

    monkeypatch.setenv("GEOGRID_RATE_LOCATE", "300/60")
    assert _rate("locate", (600, 3600)) == (300, 60)
    monkeypatch.setenv("GEOGRID_RATE_LOCATE", "off")
    assert _rate("locate", (600, 3600)) is None
    monkeypatch.delenv("GEOGRID_RATE_LOCATE")
    assert _rate("locate", (600, 3600)) == (600, 3600)
    for bad in ("300", "x/60", "10/0", "-1/60"):
        monkeypatch.setenv("GEOGRID_RATE_LOCATE", bad)
        with pytest.raises(ImproperlyConfigured, match="GEOGRID_RATE_LOCATE must be HITS/SECONDS"):
            _rate("locate", (600, 3600))


@pytest.mark.parametrize(("remote", "forwarded", "expected"), [
    ("203.0.113.9", "", "203.0.113.9"),
    ("203.0.113.9", "1.2.3.4", "203.0.113.9"),  # not from a trusted proxy: header ignored
    ("10.0.0.5", "", "10.0.0.5"),
    ("10.0.0.5", "1.2.3.4, 203.0.113.9", "203.0.113.9"),  # 1.2.3.4: written by the client
    ("10.0.0.5", "203.0.113.9, 10.0.0.7", "203.0.113.9"),  # two trusted proxies
    ("10.0.0.5", "2001:db8::1", "2001:db8::1"),
    ("10.0.0.5", "203.0.113.9, not-an-address", "10.0.0.5"),
    ("10.0.0.5", "10.0.0.7", "10.0.0.7"),  # only proxies: the outermost one
])
def test_the_client_address_behind_trusted_proxies(rf, settings, remote, forwarded, expected):
    settings.GEOGRID = {**settings.GEOGRID, "TRUSTED_PROXIES": ["10.0.0.0/8"]}
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert ratelimit.client_ip(request) == expected
    assert ratelimit.client_address(request) == expected


def test_without_trusted_proxies_forwarded_for_is_ignored(rf, settings):
    settings.GEOGRID = {**settings.GEOGRID, "TRUSTED_PROXIES": []}
    request = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert ratelimit.client_address(request) == "10.0.0.5"
    assert ratelimit.client_address(rf.get("/", REMOTE_ADDR="")) == "unknown"


# --- The API's scopes -----------------------------------------------------------------------


def _refused(response, retry_after: int = 600) -> None:
    assert response.status_code == 429, response.content
    assert response["Retry-After"] == str(retry_after)
    body = response.json()
    assert body["code"] == "rate_limited" and body["fields"] == {} and body["detail"]


@pytest.mark.django_db
def test_anonymous_locate_is_limited_staff_are_not(client, limits):
    limits(locate=(2, 600))
    assert client.get(LOCATE, INSIDE).status_code == 200
    assert client.get(LOCATE, {"lon": "nan", "lat": 1}).status_code == 400  # counted too
    _refused(client.get(LOCATE, INSIDE))
    other = client.get(LOCATE, INSIDE, REMOTE_ADDR="198.51.100.4")  # another address
    assert other.status_code == 200
    client.force_login(make_user("dispatcher"))
    assert client.get(LOCATE, INSIDE).status_code == 200


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_is_counted_apart(client, limits, settings):
    limits(locate=(1, 600))
    settings.GEOGRID = {**settings.GEOGRID, "TRUSTED_PROXIES": ["127.0.0.1"]}
    via_proxy = {"REMOTE_ADDR": "127.0.0.1"}
    assert client.get(LOCATE, INSIDE, HTTP_X_FORWARDED_FOR="203.0.113.1", **via_proxy
                      ).status_code == 200
    assert client.get(LOCATE, INSIDE, HTTP_X_FORWARDED_FOR="203.0.113.2", **via_proxy
                      ).status_code == 200
    # A client cannot escape its count by writing its own X-Forwarded-For.
    _refused(client.get(LOCATE, INSIDE, HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.1",
                        **via_proxy))
    assert set(RateCounter.objects.values_list("client", flat=True)) == {
        "203.0.113.1", "203.0.113.2"}


@pytest.mark.django_db
def test_anonymous_support_and_feedback_are_limited_apart(client, limits):
    from tests.layers.appeals.workflow_fixtures import build_city, new_appeal

    build_city()
    limits(support=(1, 600), feedback=(1, 600))
    first, token = new_appeal()
    second, _token = new_appeal()
    support = "/api/v1/appeals/{}/support/"
    assert client.post(support.format(first.public_id)).status_code == 200
    _refused(client.post(support.format(second.public_id)))
    feedback = f"/api/v1/appeals/{first.tracking}/feedback/"
    body = {"resolution": "solved", "satisfaction": "satisfied"}
    # The reporter with the token: the first rating is counted (409: not checked yet) …
    assert client.post(feedback, body, content_type="application/json",
                       HTTP_X_APPEAL_TOKEN=token).status_code == 409
    # … the next one is over the feedback limit.
    _refused(client.post(feedback, body, content_type="application/json",
                         HTTP_X_APPEAL_TOKEN=token))


@pytest.mark.django_db
def test_intake_limit_reads_appeal_anon_rate(client, limits):
    from tests.layers.factories import make_city

    make_city(with_staff=False)
    limits(intake=(1, 600))
    body = {"category": "E0102", **INSIDE}
    assert client.post("/api/v1/appeals/", body, content_type="application/json"
                       ).status_code == 201
    _refused(client.post("/api/v1/appeals/", body, content_type="application/json"))
    assert RateCounter.objects.get(scope="intake", client="127.0.0.1").hits == 2


@pytest.mark.django_db
def test_login_posts_are_limited_per_address_before_the_password_is_checked(limits):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    limits(login=(2, 600))
    make_user(username="ana")
    for _ in range(2):
        assert client.post("/accounts/login/", {"username": "ana", "password": "wrong"}
                           ).status_code == 200
    right = {"username": "ana", "password": "pw-for-tests-only", "next": "/maps/dispatch/"}
    refused = client.post("/accounts/login/", right)
    assert refused.status_code == 429 and refused["Retry-After"] == "600"
    page = refused.content.decode()
    assert "Too many login attempts from this address. Try again in 10 minutes." in page
    assert 'value="/maps/dispatch/"' in page
    assert "_auth_user_id" not in client.session
    # The admin's login page counts in the same scope; GETs are not counted.
    assert client.get("/accounts/login/").status_code == 200
    assert client.post("/admin/login/", right).status_code == 429
    # Another address is not affected.
    assert client.post("/accounts/login/", right, REMOTE_ADDR="198.51.100.9").status_code == 302
