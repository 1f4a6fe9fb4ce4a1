"""Schema-driven fuzzing of the whole API: every operation of /api/schema/, anonymously, as
the reporter of an appeal (its token), a dispatcher, a grid worker and a grid manager; fails on
any 5xx and on any answer the schema does not describe (status, media type, body, headers).
docs/api-errors.md ("The fuzz suite") says how to run it and reproduce a failure.

- The schema is read from /api/schema/ and schemathesis sends the requests to the Django WSGI
  application in process (no server, no network), against the small sample city
  (fixtures.city, seed 1) loaded once for the module, plus three staff users with posts, an
  appeal with a photo and one dispatched to the worker's micro-grid (one transaction, rolled
  back at the end). Each request runs in a savepoint that is rolled back: every request sees
  the same data, and a failure replays.
- Per role and operation, hypothesis draws GEOGRID_FUZZ_EXAMPLES requests (default 4): valid
  ones and invalid ones (schemathesis' negative mode), with the path parameters generated or
  taken from the real data (grid codes, tracking numbers and public ids, tiles over the city)
  so that requests get past the 404s, and the actions' bodies sometimes the real version.
- Each role × operation has a fixed seed: the same requests on every run and machine
  (GEOGRID_FUZZ_SEED=n shifts them). GEOGRID_FUZZ_ONLY="GET /api/v1/grids/{code}/" (a
  substring of the label) runs only the matching operations. After GEOGRID_FUZZ_BUDGET seconds
  (default 200) the remaining operations are left out, and a warning names them.
- A failure names the role, the operation, the failing check, the request as a curl command
  (shrunk by hypothesis to a small one) and, for a 500, the server's traceback.

Signing in is the session cookie plus a CSRF token: the only authentication the API accepts
(REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]). The rate limits are raised for the fuzzing
(override_settings; the counters are rolled back with each request anyway);
`test_rate_limited_answers` sets them to zero and holds every 429 to the schema, Retry-After
included.
"""

from __future__ import annotations

import io
import os
import time
import traceback
import warnings
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client, override_settings
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from geogrid.models import Grid, Post
from layers.analytics.tilemath import lonlat_to_tile
from layers.appeals.actors import Actor
from layers.appeals.intake import AppealInput, submit_appeal
from layers.appeals.models import Appeal
from layers.appeals.transitions import APPEAL_ACTIONS
from tests.factories import assign, make_user

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("GEOGRID_FUZZ_EXAMPLES", "4"))
BUDGET_S = float(os.environ.get("GEOGRID_FUZZ_BUDGET", "200"))
SEED = os.environ.get("GEOGRID_FUZZ_SEED")
ONLY = os.environ.get("GEOGRID_FUZZ_ONLY", "")
# The reporter is anonymous with the token of the appeal it submitted (X-Appeal-Token).
ROLES = ("anonymous", "reporter", "dispatcher", "worker", "manager")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
CSRF_TOKEN = "fuzz" * 8  # 32 characters: a valid secret for Django's CSRF check
NO_LIMITS = {scope: (10**6, 3600) for scope in ("support", "feedback", "locate", "login")}
CLOCK: dict[str, Any] = {"started": None, "left_out": []}


@dataclass
class World:
    schema: Any
    app: WSGIHandler
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    path_values: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    bodies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def png() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 30)).save(out, format="PNG")
    return SimpleUploadedFile("p.png", out.getvalue(), content_type="image/png")


@contextmanager
def in_process_requests() -> Iterator[None]:
    """Django closes the database connection at the end of each request unless it is told
    not to (as its test client does); the module's data lives in that connection's open
    transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def build_world(small_city_dir) -> dict[str, Any]:
    from fixtures.load import LoadParams, load_city

    load_city(LoadParams(small_city_dir, progress=False))
    district = Grid.objects.current().get(level=1)
    micro = list(Grid.objects.current().filter(level=5).order_by("code"))
    mine, elsewhere = micro[0], micro[-1]
    users: dict[str, Any] = {"anonymous": None}
    users["dispatcher"] = make_user("dispatcher", username="fuzz-dispatcher")
    assign(users["dispatcher"], district, Post.DISPATCHER, phone="13900000001")
    users["worker"] = make_user("grid_worker", username="fuzz-worker")
    assign(users["worker"], mine, Post.GRID_WORKER, phone="13900000002")
    users["manager"] = make_user("grid_manager", username="fuzz-manager")
    assign(users["manager"], district, Post.MANAGER, phone="13900000003")

    # A fresh appeal with a photo in the worker's micro-grid, and one dispatched to it.
    lon, lat = mine.boundary.point_on_surface.coords
    submitted = submit_appeal(AppealInput(category="R0102", lon=lon, lat=lat,
                                          description="fuzz", contact_phone="13812345678",
                                          photos=[png()]), actor=AnonymousUser())
    received = submitted.appeal
    dispatched = submit_appeal(AppealInput(category="R0102", lon=lon, lat=lat),
                               actor=AnonymousUser()).appeal
    dispatcher = Actor(user=users["dispatcher"])
    dispatched = APPEAL_ACTIONS["accept"].service(dispatched, dispatcher,
                                                  version=dispatched.version)
    dispatched = APPEAL_ACTIONS["dispatch"].service(dispatched, dispatcher,
                                                    version=dispatched.version)
    closed = Appeal.objects.filter(status="closed").order_by("id").first()
    assert closed is not None
    refs = [received, dispatched, closed]
    # Care subjects the worker sees (the sample has some in every micro-grid with people), so
    # the care actions' bodies are fuzzed past the scope check.
    from layers.care.access import persons_in
    from layers.care.models import CareSubject

    cared = list(CareSubject.objects.filter(persons_in([mine.code]), status="active")
                 .order_by("id").values_list("id", flat=True)[:2])
    return {
        "users": users,
        "token": submitted.token,
        "path_values": {
            "code": [{"code": g.code} for g in (district, mine, elsewhere)],
            "tracking": [{"tracking": a.tracking} for a in refs]
            + [{"tracking": str(a.public_id)} for a in refs],
            "tile": [dict(zip("zxy", (z, *lonlat_to_tile(lon, lat, z)), strict=True))
                     for z in (8, 13, 17)],
            "id": [{"id": pk} for pk in cared],
        },
        # Bodies with the real version: actions that the state allows get through to the
        # service and answer the appeal.
        "bodies": {"version": [{"version": a.version} for a in refs]},
    }


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, small_city_dir, tmp_path_factory):
    media = tmp_path_factory.mktemp("media")
    limits = {**django_settings.GEOGRID, "APPEAL_ANON_RATE": (10**6, 3600),
              "RATE_LIMITS": NO_LIMITS}
    with (django_db_blocker.unblock(), in_process_requests(),
          override_settings(MEDIA_ROOT=media, GEOGRID=limits,
                            ALLOWED_HOSTS=[*django_settings.ALLOWED_HOSTS, "localhost"]),
          transaction.atomic()):
        data = build_world(small_city_dir)
        app = WSGIHandler()
        # The schema as the API serves it (JSON), loaded through the same application.
        config = schemathesis.Config.from_dict({})
        schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app, config=config)
        w = World(schema=schema, app=app, path_values=data["path_values"],
                  bodies=data["bodies"])
        client = Client()
        for role in ROLES:
            user = data["users"].get(role)
            client.cookies = SimpleCookie()
            w.cookies[role] = {"csrftoken": CSRF_TOKEN}
            w.headers[role] = {}
            if user is not None:
                client.force_login(user)
                w.cookies[role]["sessionid"] = client.cookies["sessionid"].value
                w.headers[role]["X-CSRFToken"] = CSRF_TOKEN
        w.headers["reporter"]["X-Appeal-Token"] = data["token"]
        yield w
        transaction.set_rollback(True)


def strategy_for(operation: Any, w: World) -> st.SearchStrategy:
    """Valid and invalid requests for `operation`; the path parameters mostly taken from the
    real data (grid codes, tracking numbers and public ids, tiles over the city) instead of
    generated, care subjects the worker sees, and the workflow actions' bodies sometimes just
    the appeal's real version."""
    names = {p.name for p in operation.path_parameters}
    fixed: list[dict[str, Any]] = []
    if {"z", "x", "y"} <= names:
        fixed = w.path_values["tile"]
    elif names == {"code"}:
        fixed = w.path_values["code"]
    elif names == {"tracking"}:
        fixed = w.path_values["tracking"]
    elif names == {"id"} and "/care/" in operation.path:
        fixed = w.path_values["id"]
    bodies: list[dict[str, Any]] = []
    if names == {"tracking"} and operation.method.upper() == "POST":
        bodies = w.bodies["version"]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                      operation.as_strategy(GenerationMode.NEGATIVE))
    if not fixed:
        return cases
    choices = st.tuples(st.sampled_from([None, *fixed]), st.sampled_from([None, *bodies]))
    return st.builds(_with_real_values, cases, choices)


def _with_real_values(case: Any, choice: tuple[dict | None, dict | None]) -> Any:
    path, body = choice
    if path is not None:
        case.path_parameters = {**(case.path_parameters or {}), **path}
    if body is not None and case.media_type == "application/json":
        case.body = dict(body)
    return case


def seed_of(role: str, label: str) -> int:
    """A fixed seed per role and operation: each draws its own requests, the same on every run
    (GEOGRID_FUZZ_SEED=n shifts them all)."""
    return zlib.crc32(f"{role} {label}".encode()) + int(SEED or 0)


def fuzz_settings(examples: int, seed_value: int) -> Callable[[Callable], Callable]:
    def apply(test: Callable) -> Callable:
        wrapped = hypothesis_settings(
            max_examples=examples,
            deadline=None,
            database=None,
            print_blob=False,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                   HealthCheck.data_too_large, HealthCheck.large_base_example],
        )(test)
        return seed(seed_value)(wrapped)

    return apply


class ServerErrors:
    """Tracebacks of the exceptions the application raised (answered as 500s)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, sender: Any, request: Any = None, **kwargs: Any) -> None:
        self.seen.append(traceback.format_exc())

    def __enter__(self) -> ServerErrors:
        got_request_exception.connect(self)
        return self

    def __exit__(self, *exc: object) -> None:
        got_request_exception.disconnect(self)


def _cut(text: str, limit: int = 4000) -> str:
    """A generated body can be 100 kB long: enough of it to see what it was."""
    return text if len(text) <= limit else f"{text[:limit]} … ({len(text) - limit} more)"


@dataclass
class Outcome:
    requests: int = 0
    statuses: set[int] = field(default_factory=set)
    failure: str | None = None


def fuzz_operation(w: World, role: str, operation: Any,
                   examples: int = EXAMPLES) -> Outcome:
    headers = dict(w.headers[role])
    cookies = w.cookies[role]
    outcome = Outcome()

    @fuzz_settings(examples, seed_of(role, operation.label))
    @given(case=strategy_for(operation, w))
    def fuzz(case: Any) -> None:
        outcome.requests += 1
        with transaction.atomic():
            try:
                response = case.call(headers=headers, cookies=cookies)
                outcome.statuses.add(response.status_code)
                case.validate_response(response, checks=CHECKS)
            finally:
                transaction.set_rollback(True)

    with ServerErrors() as errors:
        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as exc:
            report = f"{role} · {operation.label}\n{_cut(str(exc))}"
            if errors.seen:
                report += "\nserver traceback:\n" + errors.seen[-1]
            outcome.failure = report
    return outcome


@pytest.mark.parametrize("role", ROLES)
def test_every_operation(world, role):
    """No 5xx and no answer outside the schema, for every operation, as `role`."""
    CLOCK["started"] = CLOCK["started"] or time.monotonic()
    failures, operations, requests = [], 0, 0
    timings: dict[str, float] = {}
    for result in world.schema.get_all_operations():
        operation = result.ok()
        if ONLY and ONLY not in operation.label:
            continue
        if role == "reporter" and not operation.path.startswith("/api/v1/appeals/"):
            continue  # the token opens nothing else
        if time.monotonic() - CLOCK["started"] > BUDGET_S:
            CLOCK["left_out"].append(f"{role} · {operation.label}")
            continue
        started = time.monotonic()
        outcome = fuzz_operation(world, role, operation)
        timings[operation.label] = time.monotonic() - started
        operations += 1
        requests += outcome.requests
        if outcome.failure:
            failures.append(outcome.failure)
    slowest = sorted(timings.items(), key=lambda kv: -kv[1])[:5]
    print(f"\nfuzz {role}: {operations} operations, {requests} requests in "
          f"{sum(timings.values()):.0f} s; slowest: "
          + ", ".join(f"{label} {seconds:.1f} s" for label, seconds in slowest))
    if CLOCK["left_out"]:
        warnings.warn(pytest.PytestWarning(
            f"fuzz budget of {BUDGET_S:.0f} s spent; not fuzzed: {CLOCK['left_out']}"),
            stacklevel=1)
    assert not failures, f"{len(failures)} operation(s) failed:\n\n" + "\n\n".join(failures)


# 429s that are not the anonymous rate limits: the daily unmask limit of community staff
# (tests/layers/people/test_access_matrix.py::test_unmask_needs_a_reason_and_has_a_daily_limit,
# tests/layers/care/test_access.py::test_opening_counts_against_the_daily_unmask_limit).
NOT_RATE_LIMITS = {"POST /api/v1/people/persons/{id}/unmask/",
                   "POST /api/v1/care/subjects/{id}/open/"}


def test_rate_limited_answers(world):
    """With every limit at zero, each operation documented with a 429 answers anonymous
    clients (one with the appeal's token too: ratings) 429 in the one error shape with
    Retry-After, as the schema says."""
    zero = {**django_settings.GEOGRID, "APPEAL_ANON_RATE": (0, 3600),
            "RATE_LIMITS": {scope: (0, 3600) for scope in NO_LIMITS}}
    limited, failures = [], []
    with override_settings(GEOGRID=zero):
        for result in world.schema.get_all_operations():
            operation = result.ok()
            if "429" not in operation.responses.status_codes or (
                    operation.label in NOT_RATE_LIMITS):
                continue
            statuses: set[int] = set()
            for role in ("anonymous", "reporter"):
                outcome = fuzz_operation(world, role, operation, examples=6)
                statuses |= outcome.statuses
                if outcome.failure:
                    failures.append(outcome.failure)
            limited.append(operation.label)
            if 429 not in statuses:
                failures.append(f"{operation.label}: no 429 in {sorted(statuses)}")
    assert len(limited) >= 4, limited  # intake, support (2 paths), feedback (2), locate
    assert not failures, "\n\n".join(failures)
