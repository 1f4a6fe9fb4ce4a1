"""Who is told of a report filed through a placard, at once (后台瞬时掌握): the current
micro-unit leader(s) and building leader(s) of the placard's door, and the grid workers and the
grid leader of the grid the report was assigned to — all read at the moment of the report.

The text names the tracking number, the placard's address and the category: never the reporter
(a backend may send it as an SMS). Someone holding two of the roles is told once.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from geogrid.models import Post
from layers.appeals.models import Appeal
from layers.appeals.notifications import grid_staff, notify, register_kind
from layers.placards.board import GRID_WORKER_POSTS, Scene

KIND = "placard_report"
ROLES = ("micro_unit_leader", "building_leader", "grid_worker")  # in the order people are told


def recipients(scene: Scene, *, at_door: bool) -> dict[str, list[int]]:
    """Role → user ids; the door's leaders only when the report is about the door (`at_door`:
    the reporter did not move the pin away)."""
    seen: set[int] = set()
    out: dict[str, list[int]] = {}
    door = {
        "micro_unit_leader": scene.leader_ids(Post.MICRO_UNIT_LEADER),
        "building_leader": scene.leader_ids(Post.BUILDING_LEADER),
    } if at_door else {}
    grid = grid_staff(scene.grid_code, GRID_WORKER_POSTS) if scene.grid_code else []
    for role, ids in (*door.items(), ("grid_worker", grid)):
        fresh = [i for i in ids if i not in seen]
        seen.update(fresh)
        out[role] = fresh
    return out


def report_received(appeal: Appeal, scene: Scene, *, at_door: bool) -> dict[str, int]:
    """Notify everyone concerned; returns how many were told per role."""
    told: dict[str, int] = {}
    for role, ids in recipients(scene, at_door=at_door).items():
        told[role] = notify(ids, appeal, KIND, role=role, place=scene.placard.label,
                            placard=scene.placard.pk, category=appeal.category.name_zh)
    return told


def _text(data: dict) -> str:
    roles = {"micro_unit_leader": _("micro-unit leader"),
             "building_leader": _("building leader"), "grid_worker": _("grid worker")}
    return _("New report %(tracking)s through the QR placard at %(place)s (%(category)s); "
             "you are told as its %(role)s.") % {
        "tracking": data.get("tracking", ""), "place": data.get("place", ""),
        "category": data.get("category", ""), "role": roles.get(data.get("role", ""), "")}


register_kind(KIND, _text)
