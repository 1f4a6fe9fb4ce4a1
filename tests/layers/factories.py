"""Layers test data: a small hierarchy drawn in degrees so that edges and vertices are exact.

    district 350427       117.78–117.83 E, 26.38–26.42 N   (subdistrict 350427001: the same)
    community …001        117.785–117.825, 26.385–26.415
    zone …001             117.79–117.82, 26.39–26.41
    micro-grids  A …001   117.79–117.80, 26.39–26.41   (west column)
                 B …002   117.80–117.81, 26.40–26.41   (north-east)
                 C …003   117.80–117.81, 26.39–26.40   (south-east)
    planted gap           117.81–117.82 inside the zone, covered by no micro-grid

(117.80, 26.40) is a vertex shared by A, B and C; x = 117.80 is the A|B and A|C edge.
"""

from __future__ import annotations

from django.contrib.gis.geos import MultiPolygon, Polygon

from geogrid.models import Post
from layers.appeals.models import Category
from tests.factories import assign, make_grid, make_user

DISTRICT = "350427"
SUB = DISTRICT + "001"
COMMUNITY = SUB + "001"
ZONE = COMMUNITY + "001"
A, B, C = (ZONE + s for s in ("001", "002", "003"))


def box(x0: float, y0: float, x1: float, y1: float) -> MultiPolygon:
    ring = ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))
    return MultiPolygon(Polygon(ring), srid=4326)


def make_city(*, with_staff: bool = True) -> dict:
    grids = {}
    grids[DISTRICT] = make_grid(DISTRICT, boundary=box(117.78, 26.38, 117.83, 26.42), name="沙县区")
    grids[SUB] = make_grid(SUB, parent=grids[DISTRICT], boundary=box(117.78, 26.38, 117.83, 26.42),
                           name="凤岗街道")
    grids[COMMUNITY] = make_grid(COMMUNITY, parent=grids[SUB],
                                 boundary=box(117.785, 26.385, 117.825, 26.415), name="西门社区")
    grids[ZONE] = make_grid(ZONE, parent=grids[COMMUNITY],
                            boundary=box(117.79, 26.39, 117.82, 26.41), name="第一片区")
    grids[A] = make_grid(A, parent=grids[ZONE], boundary=box(117.79, 26.39, 117.80, 26.41),
                         name="微网格A")
    grids[B] = make_grid(B, parent=grids[ZONE], boundary=box(117.80, 26.40, 117.81, 26.41),
                         name="微网格B")
    grids[C] = make_grid(C, parent=grids[ZONE], boundary=box(117.80, 26.39, 117.81, 26.40),
                         name="微网格C")
    if with_staff:
        for code in (A, B, C):
            leader = make_user("grid_worker", first_name=f"leader {code[-1]}")
            assign(leader, grids[code], Post.GRID_LEADER, phone="0598-1000000")
            worker = make_user("grid_worker", first_name=f"worker {code[-1]}")
            assign(worker, grids[code], Post.GRID_WORKER)
    return grids


def category(code: str = "E0102") -> Category:
    return Category.objects.get(code=code)


METRE_LON = 1 / (111_320 * 0.8957)  # degrees of longitude per metre at 26.4° N
