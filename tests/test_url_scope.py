"""Every URL pattern of the project × every role × a grid inside and outside the role's scope.

The walk reads the project's URLconf (`get_resolver().url_patterns`, recursively) and fails
when a pattern has no rule below: a new endpoint must say who may use it. The rules are the
access table of docs/appeals.md ("Who sees what"):

- grid-scoped reads (grid summary, statistics, the staff list) answer 200 inside the scope
  (`geogrid.access`: a post whose subtree holds the grid, or a superuser) and 403 outside;
- grid edits answer the editor (a grid manager of the subtree) past the permission check and
  everyone else 403;
- the analytics layers narrow to the scope: outside it they answer nothing of the grid;
- appeals: readers (the reporter, staff whose posts touch the appeal) get it; others a 404
  (residents, anonymous) or the service's 403 (staff) and nothing changes; the public id shows
  the share card; support is refused in one answer;
- no answer carries a staff phone, a login name or a reporter's phone unless that role is
  entitled to it (the staff list's rules, a dispatcher of the appeal's district), and every
  denied JSON answer is in the one error shape, without the appeal's state.

Roles: anonymous, resident, grid worker and grid leader of micro-grid A, the community's grid
manager, a dispatcher of district X (A and B are in it), a dispatcher of district Y, a
department member and a superuser. Targets: micro-grids A and B of district X and YA of Y (the
appeal action endpoints and photos, one view class each, take one grid inside and one outside
per role: PAIRS). The world is built once for the module (one transaction, rolled back at the
end); the walk takes about half a minute."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from PIL import Image

from geogrid.models import AccessLog, Post, StaffAssignment
from layers.analytics.tilemath import lonlat_to_tile
from layers.appeals.intake import AppealInput, submit_appeal
from layers.appeals.models import Appeal, Department
from layers.appeals.transitions import APPEAL_ACTIONS
from layers.people.models import MicroUnit, MicroUnitLeaderTerm
from tests.analytics.test_tiles import bin_total
from tests.factories import assign, make_grid, make_user
from tests.layers.care import subject_url_rules as care_url_rules
from tests.layers.care import url_rules as care_stats_rules
from tests.layers.deliberation import url_rules as deliberation_url_rules
from tests.layers.factories import COMMUNITY, DISTRICT, A, B, box, make_city
from tests.layers.ogcapi import url_rules as ogcapi_url_rules
from tests.layers.open311 import url_rules as open311_url_rules
from tests.layers.people import url_rules as people_url_rules
from tests.layers.placards import url_rules as placards_url_rules
from tests.layers.shop import url_rules as shop_url_rules
from tests.layers.volunteering import url_rules as volunteering_url_rules
from tests.layers.whistles import url_rules as whistles_url_rules
from tests.layers.wishes import url_rules as wishes_url_rules
from tests.maps import care_url_rules as care_page_rules
from tests.maps import proposals_url_rules as proposals_page_rules
from tests.maps import whistles_url_rules as whistles_page_rules

pytestmark = pytest.mark.django_db

# --- the world ---------------------------------------------------------------------------------
X = DISTRICT
Y = "350428"
Y_SUB, Y_COM = Y + "001", Y + "001001"
Y_ZONE = Y_COM + "001"
YA = Y_ZONE + "001"
TARGETS = (A, B, YA)
POINT = {A: (117.795, 26.40), B: (117.805, 26.405), YA: (117.845, 26.40)}
CONTACT_PHONE = "13812345678"

ROLES = ("anonymous", "resident", "worker_A", "leader_A", "manager", "dispatcher_X",
         "dispatcher_Y", "dept", "superuser")
STAFF = {"worker_A", "leader_A", "manager", "dispatcher_X", "dispatcher_Y", "dept"}  # posts/dept
# The grids (of TARGETS) each role may act on — and so the appeals lying there it may read.
SCOPE = {
    "anonymous": set(), "resident": set(), "dept": set(),
    "worker_A": {A}, "leader_A": {A},
    "manager": {A, B}, "dispatcher_X": {A, B},
    "dispatcher_Y": {YA},
    "superuser": {A, B, YA},
}
# People (layers.people): two more posts, used only by the people rules — a micro-unit leader of a
# unit in A (an open leader term) and community staff of the community holding A and B.
PEOPLE_ROLES = ("unit_leader_A", "staff_com")
# GRID/SUBTREE capabilities (geogrid.capabilities): the 四清 figures and the focus list.
PEOPLE_SCOPE = {"worker_A": {A}, "leader_A": {A}, "staff_com": {A, B}, "superuser": {A, B, YA}}
PEOPLE_COUNTS = {**SCOPE, "staff_com": {A, B}, "unit_leader_A": set()}  # COUNTS, GRID, SUBTREE
PHONES = {"manager", "dispatcher_X", "dispatcher_Y", "superuser"}  # staff phones, in scope
ACCOUNTS = {"manager", "superuser"}  # login names and post ids, in scope
EDITORS = {"manager", "superuser"}  # grid edits and posts, in scope
CONTACT = {"dispatcher_X": {A, B}, "dispatcher_Y": {YA}, "superuser": {A, B, YA}}
DISPATCH_PAGE = {"dispatcher_X", "dispatcher_Y", "superuser"}
EDITOR_PAGE = {"manager", "superuser"}
NO_SUCH_VERSION = 999_999
# For the many action endpoints (one view class): each role on one grid inside its scope (if it
# has one) and one outside — the sibling micro-grid for A's staff, the other district for the
# dispatchers and the manager.
PAIRS = {
    "anonymous": (A,), "resident": (A,), "dept": (A,),
    "worker_A": (A, B), "leader_A": (A, B), "manager": (B, YA),
    "dispatcher_X": (A, YA), "dispatcher_Y": (YA, A), "superuser": (A, YA),
}


def png() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 30)).save(out, format="PNG")
    return SimpleUploadedFile("p.png", out.getvalue(), content_type="image/png")


@dataclass
class World:
    grids: dict
    users: dict = field(default_factory=dict)
    client: Client = field(default_factory=lambda: Client(HTTP_ACCEPT_LANGUAGE="en"))
    cookies: dict = field(default_factory=dict)  # each role's session cookie
    appeals: dict = field(default_factory=dict)
    photos: dict = field(default_factory=dict)
    logins: set = field(default_factory=set)
    phones: set = field(default_factory=set)
    units: dict = field(default_factory=dict)  # micro-grid code → a micro-unit in it

    def call(self, role: str, method: str, url: str, body: Any = None, **headers: str):
        # One client (building a handler loads every middleware), each role's own cookies.
        client = self.client
        client.cookies = SimpleCookie(self.cookies[role])
        if method == "GET":
            return client.get(url, **headers)
        data = json.dumps(body if body is not None else {})
        return client.generic(method, url, data, content_type="application/json", **headers)


def build_world() -> World:
    grids = make_city(with_staff=False)
    grids[Y] = make_grid(Y, boundary=box(117.83, 26.38, 117.88, 26.42), name="区Y")
    grids[Y_SUB] = make_grid(Y_SUB, parent=grids[Y], boundary=box(117.83, 26.38, 117.88, 26.42),
                             name="街道Y")
    grids[Y_COM] = make_grid(Y_COM, parent=grids[Y_SUB],
                             boundary=box(117.835, 26.385, 117.875, 26.415), name="社区Y")
    grids[Y_ZONE] = make_grid(Y_ZONE, parent=grids[Y_COM],
                              boundary=box(117.84, 26.39, 117.87, 26.41), name="片区Y")
    grids[YA] = make_grid(YA, parent=grids[Y_ZONE], boundary=box(117.84, 26.39, 117.85, 26.41),
                          name="微网格YA")
    w = World(grids=grids)
    phone = iter(range(1, 100))

    def person(key: str, *roles: str, **extra: Any):
        user = make_user(*roles, username=f"zzlogin-{key}", first_name=f"Name{key}", **extra)
        w.logins.add(user.username)
        return user

    def post(user, code: str, kind: str) -> None:
        number = f"1390000{next(phone):04d}"
        w.phones.add(number)
        assign(user, grids[code], kind, phone=number)

    u = w.users
    u["anonymous"] = None
    u["resident"] = person("resident", "resident")
    u["worker_A"] = person("worker-a", "grid_worker")
    post(u["worker_A"], A, Post.GRID_WORKER)
    u["leader_A"] = person("leader-a", "grid_worker")
    post(u["leader_A"], A, Post.GRID_LEADER)
    u["manager"] = person("manager", "grid_manager")
    post(u["manager"], COMMUNITY, Post.MANAGER)
    u["dispatcher_X"] = person("dispatcher-x", "dispatcher")
    post(u["dispatcher_X"], X, Post.DISPATCHER)
    u["dispatcher_Y"] = person("dispatcher-y", "dispatcher")
    post(u["dispatcher_Y"], Y, Post.DISPATCHER)
    u["dept"] = person("dept")
    Department.objects.create(code="CGJ", name_zh="城管局").members.add(u["dept"])
    u["superuser"] = person("root", is_superuser=True, is_staff=True)
    for key, code in (("worker-b", B), ("worker-ya", YA)):  # staff on the other targets
        post(person(key, "grid_worker"), code, Post.GRID_WORKER)
    for code in TARGETS:
        w.units[code] = MicroUnit.objects.create(code=code + "001", name=f"unit of {code}",
                                                 grid=grids[code])
    u["unit_leader_A"] = person("unit-leader-a")
    assign(u["unit_leader_A"], grids[A], Post.MICRO_UNIT_LEADER)
    MicroUnitLeaderTerm.objects.create(micro_unit=w.units[A], user=u["unit_leader_A"])
    u["staff_com"] = person("staff-com")
    assign(u["staff_com"], grids[COMMUNITY], Post.COMMUNITY_STAFF)
    for role, user in u.items():
        w.client.cookies = SimpleCookie()
        if user is not None:
            w.client.force_login(user)
        w.cookies[role] = w.client.cookies.output(header="", sep=";")
    for code, (lon, lat) in POINT.items():
        result = submit_appeal(
            AppealInput(category="R0102", lon=lon, lat=lat, description="walk",
                        contact_phone=CONTACT_PHONE, photos=[png()]),
            actor=AnonymousUser())
        w.appeals[code] = result.appeal
        w.photos[code] = result.appeal.photos.get().pk
    return w


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("media")
    with (django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media),
          transaction.atomic()):
        yield build_world()
        transaction.set_rollback(True)


# --- what an answer may carry ----------------------------------------------------------------
def leaks(w: World, response, *, phones: bool = False, logins: bool = False,
          contact: bool = False) -> list[str]:
    raw = (b"".join(response.streaming_content) if response.streaming
           else response.content)
    text = raw.decode("utf-8", "replace")
    found = []
    if not phones:
        found += [f"staff phone {p}" for p in sorted(w.phones) if p in text]
    if not logins:
        found += [f"login {n}" for n in sorted(w.logins) if n in text]
    if not contact and CONTACT_PHONE in text:
        found.append("the reporter's phone")
    return found


def error_shaped(response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return {"detail", "code", "fields", "problems"} <= set(body) and "current" not in body


class Walk:
    """Collects what went wrong over one pattern's roles and targets."""

    def __init__(self, w: World, name: str) -> None:
        self.w, self.name, self.problems = w, name, []

    def expect(self, role: str, target: str, response, statuses: set[int] | int, *,
               shape: bool = True, **entitled: bool) -> None:
        wanted = {statuses} if isinstance(statuses, int) else statuses
        where = f"{self.name} [{role} → {target}] {response.status_code}"
        if response.status_code not in wanted:
            self.problems.append(f"{where}: wanted {sorted(wanted)}: "
                                 f"{getattr(response, 'content', b'')[:160]!r}")
        if response.status_code in (403, 404) and shape and not error_shaped(response):
            self.problems.append(f"{where}: not the one error shape: {response.content[:160]!r}")
        for leak in leaks(self.w, response, **entitled):
            self.problems.append(f"{where}: leaks {leak}")


# --- the rules --------------------------------------------------------------------------------
Rule = Callable[[Walk], None]


def public_page(method: str, url: str | Callable[[World], str], statuses: set[int],
                roles: tuple[str, ...] = ("anonymous", "resident"), **entitled: bool) -> Rule:
    """Open to everyone (not grid-scoped): answered alike to anonymous and signed-in users."""
    def rule(walk: Walk) -> None:
        target = url(walk.w) if callable(url) else url
        for role in roles:
            walk.expect(role, "-", walk.w.call(role, method, target), statuses, shape=False,
                        **entitled)
    return rule


def public_grid_read(suffix: str, roles: tuple[str, ...] = ROLES) -> Rule:
    """Boundaries and their history are not personal data: every role, every grid."""
    def rule(walk: Walk) -> None:
        for role in roles:
            for code in TARGETS:
                walk.expect(role, code, walk.w.call(role, "GET", f"/api/v1/grids/{code}/{suffix}"),
                            200)
    return rule


def grid_read(url: Callable[[str], str], *, check: Callable | None = None) -> Rule:
    """A grid-scoped read: 200 inside the scope, 403 outside (and for anonymous)."""
    def rule(walk: Walk) -> None:
        for role in ROLES:
            for code in TARGETS:
                inside = code in SCOPE[role]
                response = walk.w.call(role, "GET", url(code))
                walk.expect(role, code, response, 200 if inside else 403,
                            phones=inside and role in PHONES, logins=inside and role in ACCOUNTS)
                if inside and check and response.status_code == 200:
                    check(walk, role, code, response)
    return rule


def staff_list_content(walk: Walk, role: str, code: str, response) -> None:
    posts = response.json()
    if not posts:
        walk.problems.append(f"grid-staff [{role} → {code}]: empty list")
    for p in posts:
        if ("phone" in p) != (role in PHONES) or ("username" in p) != (role in ACCOUNTS):
            walk.problems.append(f"grid-staff [{role} → {code}]: fields {sorted(p)}")
        if not {"post", "post_label", "name"} <= set(p):
            walk.problems.append(f"grid-staff [{role} → {code}]: fields {sorted(p)}")


def summary_content(walk: Walk, role: str, code: str, response) -> None:
    if response.json().get("open_appeals") != 1:
        walk.problems.append(f"grid-summary [{role} → {code}]: {response.json()}")


def grid_edit(method: str, request: Callable[[World, str], tuple[str, Any]],
              allowed: int) -> Rule:
    """A write on a grid: grid managers of the subtree (and superusers) get past the permission
    check (`allowed`: a 400 for the deliberately bad input, or the 204 of ending a throwaway
    post); every other role 403, and nothing changes."""
    def rule(walk: Walk) -> None:
        for role in ROLES:
            for code in TARGETS:
                url, body = request(walk.w, code)
                ok = role in EDITORS and code in SCOPE[role]
                walk.expect(role, code, walk.w.call(role, method, url, body),
                            allowed if ok else 403, logins=ok, phones=ok)
    return rule


def feature(code: str, geometry: dict, **props: Any) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": {"code": code, **props}}


def square(code: str) -> dict:
    lon, lat = POINT[code]
    d = 0.001
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d],
            [lon - d, lat - d]]
    return {"type": "Polygon", "coordinates": [ring]}


def bowtie(code: str) -> dict:
    lon, lat = POINT[code]
    d = 0.001
    ring = [[lon - d, lat - d], [lon + d, lat + d], [lon + d, lat - d], [lon - d, lat + d],
            [lon - d, lat - d]]
    return {"type": "Polygon", "coordinates": [ring]}


def create_existing(w: World, code: str) -> tuple[str, Any]:
    return "/api/v1/grids/", feature(code, square(code), name="again")


def edit_boundary(w: World, code: str) -> tuple[str, Any]:
    return (f"/api/v1/grids/{code}/",
            feature(code, bowtie(code), version=w.grids[code].id))  # invalid: a 400


def split_nowhere(w: World, code: str) -> tuple[str, Any]:
    lon, lat = POINT[code]
    line = {"type": "LineString", "coordinates": [[lon - 0.3, lat], [lon - 0.2, lat]]}
    return (f"/api/v1/grids/{code}/split/",
            {"version": w.grids[code].id, "line": line, "new_code": code[:-3] + "099",
             "new_name": "x"})  # the line misses the grid: a 400


def merge_itself(w: World, code: str) -> tuple[str, Any]:
    v = w.grids[code].id
    return f"/api/v1/grids/{code}/merge/", {"version": v, "other": code, "other_version": v}


def bad_post(w: World, code: str) -> tuple[str, Any]:
    return f"/api/v1/grids/{code}/staff/", {"username": "nobody", "post": "boss"}


def end_throwaway_post(w: World, code: str) -> tuple[str, Any]:
    post = StaffAssignment.objects.create(user=make_user("grid_worker"), grid=w.grids[code],
                                          post=Post.GRID_WORKER)
    return f"/api/v1/grids/{code}/staff/?id={post.pk}", None


def both(*rules: Rule) -> Rule:
    def rule(walk: Walk) -> None:
        for r in rules:
            r(walk)
    return rule


def narrowed(url: Callable[[str], str], count: Callable[[Any], int] | None) -> Rule:
    """The analytics layers: signed-in users only; ?grid= outside the scope answers nothing
    of that grid (the scope is intersected, not widened), inside it the appeal is there."""
    def rule(walk: Walk) -> None:
        for role in ROLES:
            for code in TARGETS:
                response = walk.w.call(role, "GET", url(code))
                if role == "anonymous":
                    walk.expect(role, code, response, 403)
                    continue
                walk.expect(role, code, response, 200)
                if count is not None and response.status_code == 200:
                    n, want = count(response), int(code in SCOPE[role])
                    if n != want:
                        walk.problems.append(f"{walk.name} [{role} → {code}]: {n} appeals, "
                                             f"wanted {want}")
    return rule


def tile(code: str, z: int = 12) -> str:
    x, y = lonlat_to_tile(*POINT[code], z)
    return f"/tiles/appeals/{z}/{x}/{y}.pbf?grid={code}"


# Each action's fields, valid enough to reach the permission check (a new action needs one).
ACTION_FIELDS: dict[str, dict] = {
    "accept": {}, "reject": {"note": "x"}, "merge": {"master": "350427-20991231-99999"},
    "dispatch": {"grid": A}, "return": {"note": "x"}, "start": {}, "escalate": {},
    "extend": {"hours": 1}, "suspend": {"note": "x"}, "resume": {}, "resolve": {"result": "x"},
    "check_pass": {}, "check_fail": {"note": "x"}, "close": {},
    "rate": {"resolution": "solved", "satisfaction": "satisfied"}, "support": {},
}


def readable(role: str, code: str) -> bool:
    return code in SCOPE[role]


def appeal_action(action: str, path: str = "actions/{action}/") -> Rule:
    """POST an action by tracking number with a stale version: a reader gets past the scope
    (the service's 403 for a role without the action, else the stale version's 409); whoever
    may not read the appeal gets a 404 (anonymous, residents) or 403 (staff) — never its state
    — and nothing changes."""
    def rule(walk: Walk) -> None:
        body = dict(ACTION_FIELDS[action])
        if action != "support":
            body["version"] = NO_SUCH_VERSION
        for role in ROLES:
            for code in PAIRS[role]:
                appeal = walk.w.appeals[code]
                before = Appeal.objects.values_list("status", "version").get(pk=appeal.pk)
                url = f"/api/v1/appeals/{appeal.tracking}/" + path.format(action=action)
                response = walk.w.call(role, "POST", url, body)
                if readable(role, code):
                    wanted = {403, 409} | ({200} if action == "support" else set())
                    walk.expect(role, code, response, wanted, shape=False,
                                contact=role in CONTACT and code in CONTACT[role])
                elif action == "support" or role not in STAFF:
                    walk.expect(role, code, response, 404)
                else:
                    walk.expect(role, code, response, 403)
                after = Appeal.objects.values_list("status", "version").get(pk=appeal.pk)
                if after != before:
                    walk.problems.append(f"{walk.name} [{role} → {code}]: changed {before} → "
                                         f"{after}")
        if action == "support":
            support_by_public_id(walk)
    return rule


def support_by_public_id(walk: Walk) -> None:
    """By the public id: residents and anonymous clients support (the count, nothing else);
    staff who may not read it get the one refusal; readers the service's answer."""
    for role in ROLES:
        for code in TARGETS:
            appeal = walk.w.appeals[code]
            response = walk.w.call(role, "POST", f"/api/v1/appeals/{appeal.public_id}/support/")
            where = f"{walk.name} by public id [{role} → {code}]"
            if readable(role, code):
                walk.expect(role, code, response, {200, 403, 409}, shape=False,
                            contact=role in CONTACT and code in CONTACT[role])
            elif role in STAFF:
                walk.expect(role, code, response, 404)
            else:
                walk.expect(role, code, response, 200)
                if response.status_code == 200 and set(response.json()) != {
                        "public_id", "supporters", "supported"}:
                    walk.problems.append(f"{where}: {response.json()}")


def appeal_detail(walk: Walk) -> None:
    for role in ROLES:
        for code in TARGETS:
            appeal = walk.w.appeals[code]
            contact = role in CONTACT and code in CONTACT[role]
            by_number = walk.w.call(role, "GET", f"/api/v1/appeals/{appeal.tracking}/")
            by_id = walk.w.call(role, "GET", f"/api/v1/appeals/{appeal.public_id}/")
            if readable(role, code):
                walk.expect(role, code, by_number, 200, contact=contact)
                walk.expect(role, code, by_id, 200, contact=contact)
                continue
            walk.expect(role, code, by_number, 404)
            walk.expect(role, code, by_id, 200)  # the share card
            card = by_id.json() if by_id.status_code == 200 else {}
            if {"status", "version", "tracking", "timeline"} & set(card) or (
                    appeal.tracking in by_id.content.decode()):
                walk.problems.append(f"appeal-detail card [{role} → {code}]: {sorted(card)}")


def appeal_photo(suffix: str) -> Rule:
    def rule(walk: Walk) -> None:
        for role in ROLES:
            for code in PAIRS[role]:
                appeal = walk.w.appeals[code]
                url = f"/api/v1/appeals/{appeal.tracking}/photos/{walk.w.photos[code]}/{suffix}"
                walk.expect(role, code, walk.w.call(role, "GET", url),
                            200 if readable(role, code) else 404)
    return rule


def appeal_list(walk: Walk) -> None:
    for role in ROLES:
        response = walk.w.call(role, "GET", "/api/v1/appeals/")
        if role == "anonymous":
            walk.expect(role, "-", response, 403)
            continue
        walk.expect(role, "-", response, 200)
        seen = {f["id"] for f in response.json().get("features", [])}
        wanted = {walk.w.appeals[c].tracking for c in SCOPE[role]}
        if seen != wanted:
            walk.problems.append(f"appeal-list [{role}]: {sorted(seen)} ≠ {sorted(wanted)}")


def signed_in(method: str, url: str, body: Any = None) -> Rule:
    """Any signed-in user, about themselves (not grid-scoped); anonymous 403."""
    def rule(walk: Walk) -> None:
        for role in ROLES:
            walk.expect(role, "-", walk.w.call(role, method, url, body),
                        403 if role == "anonymous" else 200)
    return rule


def grids_tile(walk: Walk) -> None:
    """Grid boundaries as tiles: any signed-in user, any grid (boundaries are public)."""
    for role in ROLES:
        for code in TARGETS:
            x, y = lonlat_to_tile(*POINT[code], 12)
            response = walk.w.call(role, "GET", f"/tiles/grids/12/{x}/{y}.pbf?grid={code}")
            walk.expect(role, code, response, 403 if role == "anonymous" else 200)


def role_page(url: str, allowed: set[str]) -> Rule:
    """A screen for some roles: others 403, anonymous to the login page."""
    def rule(walk: Walk) -> None:
        for role in ROLES:
            response = walk.w.call(role, "GET", url)
            wanted = 302 if role == "anonymous" else 200 if role in allowed else 403
            walk.expect(role, "-", response, wanted, shape=False)
    return rule


def map_report(walk: Walk) -> None:
    for role in ROLES:
        for code in TARGETS:
            response = walk.w.call(role, "GET", f"/maps/report.html?grid={code}&days=30")
            walk.expect(role, code, response, 403 if role == "anonymous" else 200)


def admin_site(walk: Walk) -> None:
    """Django's admin guards itself: staff accounts only."""
    for role in ("anonymous", "resident", "dispatcher_X"):
        walk.expect(role, "-", walk.w.call(role, "GET", "/admin/"), 302, shape=False)
    walk.expect("superuser", "-", walk.w.call("superuser", "GET", "/admin/"), 200,
                shape=False, phones=True, logins=True, contact=True)


def count_of(response) -> int:
    return response.json()["count"]


def people_grid_read(url: Callable[[str], str], scope: dict[str, set[str]]) -> Rule:
    """A people read of a grid (layers.people.ledger_views): 200 inside the capability's scope,
    403 outside (and for anonymous); never a person's data, so no access-log row."""
    def rule(walk: Walk) -> None:
        for role in ROLES + PEOPLE_ROLES:
            for code in TARGETS:
                before = AccessLog.objects.count()
                walk.expect(role, code, walk.w.call(role, "GET", url(code)),
                            200 if code in scope.get(role, ()) else 403)
                if AccessLog.objects.count() != before:
                    walk.problems.append(f"{walk.name} [{role} → {code}]: logged a read")
    return rule


def micro_unit_ledger(walk: Walk) -> None:
    """One unit's figures and 重点关注 list (personal data): its leader and GRID/SUBTREE posts
    in scope get it with exactly one access-log row; anonymous 403; everyone else the 404 of a
    unit that does not exist, and no row."""
    readers = {**PEOPLE_SCOPE, "unit_leader_A": {A}}
    for role in ROLES + PEOPLE_ROLES:
        for code in TARGETS:
            before = AccessLog.objects.count()
            url = f"/api/v1/people/micro-units/{walk.w.units[code].pk}/ledger/"
            inside = code in readers.get(role, ())
            walk.expect(role, code, walk.w.call(role, "GET", url),
                        200 if inside else 403 if role == "anonymous" else 404)
            if AccessLog.objects.count() != before + int(inside):
                walk.problems.append(f"{walk.name} [{role} → {code}]: "
                                     f"{AccessLog.objects.count() - before} access-log rows")


RULES: dict[str, Rule] = {
    # open to everyone
    "healthz": public_page("GET", "/healthz", {200}),
    "set_language": public_page("POST", "/i18n/setlang/", {302}),
    "grid-list": both(public_page("GET", "/api/v1/grids/?level=5", {200}),
                      grid_edit("POST", create_existing, 400)),
    "grid-at": public_page("GET", "/api/v1/grids/at/?lon=117.795&lat=26.40", {200}),
    "grid-detail": both(public_grid_read(""), grid_edit("PUT", edit_boundary, 400)),
    "grid-children": public_grid_read("children/"),
    "grid-ancestors": public_grid_read("ancestors/"),
    # (a topology check takes a while, and its answer does not depend on who asks)
    "grid-topology": public_grid_read("topology/?scope=grid", roles=("anonymous",)),
    "grid-history": public_grid_read("history/"),
    # The notice board: the micro-grid's posts with names and duty phones, meant to be public
    # (PEOPLE.md (e), the report page) — not the staff accounts.
    "locate": public_page("GET", "/api/v1/locate?lon=117.795&lat=26.40", {200}, phones=True),
    "schema": public_page("GET", "/api/schema/", {200}, roles=("anonymous",)),
    "api-docs": public_page("GET", "/api/docs/", {200}, roles=("anonymous",)),
    "home": public_page("GET", "/", {200}),
    "report": public_page("GET", "/m/", {200}),
    "follow": public_page("GET", lambda w: f"/m/follow/{w.appeals[A].public_id}/", {200}),
    "login": public_page("GET", "/accounts/login/", {200}),
    "logout": public_page("POST", "/accounts/logout/", {302}, roles=("anonymous",)),
    # grid-scoped: one rule (geogrid.access)
    "grid-summary": grid_read(lambda c: f"/maps/grids/{c}/summary", check=summary_content),
    "stats": grid_read(lambda c: f"/api/v1/stats/?grid={c}"),
    "grid-staff": both(grid_read(lambda c: f"/api/v1/grids/{c}/staff/",
                                 check=staff_list_content),
                       grid_edit("POST", bad_post, 400),
                       grid_edit("DELETE", end_throwaway_post, 204)),
    "grid-split": grid_edit("POST", split_nowhere, 400),
    "grid-merge": grid_edit("POST", merge_itself, 400),
    # analytics: narrowed to the scope
    "analytics:heat": narrowed(lambda c: f"/api/v1/heat?grid={c}&bbox=117.7,26.3,117.9,26.5"
                                         "&zoom=14", lambda r: r.json()["total"]),
    "analytics:count": narrowed(lambda c: f"/api/v1/heat/count?grid={c}", count_of),
    "analytics:grid-stats": narrowed(
        lambda c: f"/api/v1/heat/grids?grid={c}&level=5",
        lambda r: sum(g["appeals"] for g in r.json()["grids"])),
    "analytics:appeals-tile": narrowed(tile, lambda r: bin_total(r.content)),
    "analytics:hotspots": narrowed(lambda c: f"/api/v1/hotspots?grid={c}",
                                   None),  # none stored: sign-in, status and leaks only
    "analytics:grids-tile": grids_tile,
    "map-report": map_report,
    # appeals: Appeal.objects.visible_to / actors.may_read
    "appeal-list": appeal_list,
    "appeal-detail": appeal_detail,
    "appeal-photo": appeal_photo(""),
    "appeal-photo-thumbnail": appeal_photo("thumbnail/"),
    "appeal-feedback": appeal_action("rate", "feedback/"),
    "appeal-support": appeal_action("support", "support/"),
    **{f"appeal-action-{a.name}": appeal_action(a.name) for a in APPEAL_ACTIONS.public()},
    # people: the 四清 ledger and household counts (geogrid.capabilities)
    "people:counts": people_grid_read(lambda c: f"/api/v1/people/counts/?grid={c}",
                                      PEOPLE_COUNTS),
    "people:ledger": people_grid_read(lambda c: f"/api/v1/people/ledger/?grid={c}",
                                      PEOPLE_SCOPE),
    "people:micro-unit-ledger": micro_unit_ledger,
    # the user's own
    "notification-list": signed_in("GET", "/api/v1/notifications/"),
    "notification-read": signed_in("POST", "/api/v1/notifications/read/", {"all": True}),
    # screens for some roles
    "grid-editor": role_page("/maps/grids/", EDITOR_PAGE),
    "dispatch": role_page("/maps/dispatch/", DISPATCH_PAGE),
}
# The people endpoints that name a household, or none (tests/layers/people/url_rules.py).
_TARGET_NAMES = {A: "A", B: "B", YA: "YA"}
RULES.update(people_url_rules.household_rules(
    ROLES + PEOPLE_ROLES, _TARGET_NAMES, POINT))
RULES.update(people_url_rules.plain_rules(
    ROLES + PEOPLE_ROLES, _TARGET_NAMES, {name: code for code, name in _TARGET_NAMES.items()}))

# The care endpoints (tests/layers/care/subject_url_rules.py).
RULES.update(care_url_rules.care_rules(ROLES + PEOPLE_ROLES, _TARGET_NAMES, POINT))
RULES.update(care_page_rules.page_rules(ROLES + PEOPLE_ROLES))
RULES.update(whistles_page_rules.page_rules(ROLES + PEOPLE_ROLES))
RULES.update(proposals_page_rules.page_rules(ROLES + PEOPLE_ROLES))
RULES.update(care_stats_rules.stats_rules(
    ROLES + PEOPLE_ROLES, {name: code for code, name in _TARGET_NAMES.items()}))

# Participation (tests/layers/{volunteering,shop,wishes,placards}/url_rules.py).
for _layer in (volunteering_url_rules, shop_url_rules, wishes_url_rules, placards_url_rules,
               whistles_url_rules, deliberation_url_rules):
    RULES.update(_layer.rules(ROLES + PEOPLE_ROLES, _TARGET_NAMES, POINT))
# The standards (tests/layers/{open311,ogcapi}/url_rules.py).
for _layer in (open311_url_rules, ogcapi_url_rules):
    RULES.update(_layer.rules(ROLES + PEOPLE_ROLES, _TARGET_NAMES, POINT))

NAMESPACE_RULES: dict[str, Rule] = {"admin": admin_site}


def url_patterns() -> list[tuple[str, str]]:
    """(name, route) of every pattern of the project, namespaced names as `ns:name`."""
    found: list[tuple[str, str]] = []

    def walk(patterns, prefix: str, namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern):
                found.append((namespace + (p.name or ""), prefix + str(p.pattern)))

    walk(get_resolver().url_patterns, "", "")
    return found


def rule_for(name: str) -> Rule | None:
    if name in RULES:
        return RULES[name]
    namespace = name.split(":", 1)[0] if ":" in name else ""
    return NAMESPACE_RULES.get(namespace)


def test_every_url_pattern_has_a_rule():
    missing = [f"{name or '(unnamed)'}: {route}" for name, route in url_patterns()
               if rule_for(name) is None]
    assert not missing, "URL patterns without an access rule in tests/test_url_scope.py:\n" + (
        "\n".join(missing))
    assert {a.name for a in APPEAL_ACTIONS.public()} <= set(ACTION_FIELDS)
    stale = set(RULES) - {name for name, _ in url_patterns()}
    assert not stale, f"rules for patterns that no longer exist: {sorted(stale)}"


@pytest.mark.parametrize("name", sorted(RULES) + sorted(NAMESPACE_RULES))
def test_walk(world, name):
    walk = Walk(world, name)
    rule = RULES.get(name) or NAMESPACE_RULES[name]
    rule(walk)
    assert not walk.problems, "\n".join(walk.problems)
