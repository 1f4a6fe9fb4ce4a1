"""The care API's list endpoints on the county sample through Django's test client (view,
access rules, serializers, access log, JSON; no HTTP socket), with the number of SQL statements
per request at several page sizes (results: docs/benchmarks.md, "Care visits").

    DATABASE_URL=… .venv/bin/python bench/care_api.py [--runs 20]

Needs the county sample loaded (bench/care_common.py). The clock is frozen at 09:00 local time
on the sample's last day + 10 days (as in bench/care_reminders.py), so "overdue" means the same
whatever day it is run. Viewers: the grid worker of the micro-grid with the most care subjects
(care.grid there) and the community staff member of the community with the most (care.subtree),
both from the sample's staff. Requests:

- GET /api/v1/care/subjects/?overdue=1 — subjects with a visit past due, soonest due first;
- GET /api/v1/care/dues/ — open dues past due in the viewer's scope, most overdue first.

Each is p50/p95 of --runs requests after a warm-up at the default page size (100), then once at
page sizes 10, 50 and 100 with its SQL statements counted (CaptureQueriesContext): a count that
grows with the page is a query per row (N+1); the statements that repeat are printed.
The access-log rows the requests write are kept (one per request that shows subjects).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.care_common import LAST_DAY, at, django_setup, header, ms, p50_p95, timings

PATHS = ("/api/v1/care/subjects/?overdue=1", "/api/v1/care/dues/")
PAGE_SIZES = (10, 50, 100)


def busiest(post: str, length: int) -> Any:
    """The user holding `post` on the grid (code of `length` digits) where most care subjects
    live."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT sa.user_id FROM (
                   SELECT left(g.code, %s) AS code, count(*) AS n FROM care_caresubject s
                   JOIN people_residence r ON r.person_id = s.person_id AND r.valid_to IS NULL
                   JOIN people_household h ON h.id = r.household_id
                   JOIN people_dwelling d ON d.id = h.dwelling_id
                   JOIN layers_building b ON b.id = d.building_id
                   JOIN geogrid_grid g ON g.id = b.grid_id GROUP BY 1) c
               JOIN geogrid_grid sg ON sg.code = c.code AND sg.valid_to IS NULL
               JOIN geogrid_staffassignment sa ON sa.grid_id = sg.id AND sa.post = %s
                    AND sa.until IS NULL
               ORDER BY c.n DESC, c.code, sa.user_id LIMIT 1""", [length, post])
        (user_id,) = cursor.fetchone()
    return get_user_model().objects.get(pk=user_id)


def shape(sql: str) -> str:
    """A statement with its literals blanked, to see which ones repeat."""
    return re.sub(r"'[^']*'|\b\d+\b", "?", sql)[:150]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    django_setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from geogrid.hierarchy import code_lengths
    from geogrid.models import Post

    header("care API list endpoints (bench/care_api.py)")
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    now = at(LAST_DAY + dt.timedelta(days=10))
    lengths = code_lengths()
    viewers = {"grid worker": busiest(Post.GRID_WORKER, lengths[5]),
               "community staff": busiest(Post.COMMUNITY_STAFF, lengths[3])}
    print(f"clock frozen at {now.isoformat()}; p50 / p95 of {args.runs} requests after a "
          f"warm-up\n")
    with mock.patch("django.utils.timezone.now", return_value=now):
        for role, user in viewers.items():
            client = Client()
            client.force_login(user)
            print(f"{role} {user.username}")
            for path in PATHS:
                def get(p: str = path, c: Client = client) -> Any:
                    response = c.get(p, secure=True)
                    assert response.status_code == 200, response.content[:300]
                    return response

                times, response = timings(get, args.runs)
                body = response.json()
                rows = body["results"] if isinstance(body, dict) else body
                total = f" of {body['count']:,}" if isinstance(body, dict) else ""
                p50, p95 = p50_p95(times)
                counts = []
                repeated: Counter[str] = Counter()
                for size in PAGE_SIZES:
                    sep = "&" if "?" in path else "?"
                    with CaptureQueriesContext(connection) as queries:
                        got = len(_rows(get(f"{path}{sep}page_size={size}").json()))
                    counts.append(f"{len(queries)} at {got} rows")
                    repeated = Counter(shape(q["sql"]) for q in queries.captured_queries)
                print(f"  GET {path:<36} p50 {ms(p50)}, p95 {ms(p95)}; {len(rows)}{total} rows, "
                      f"{len(response.content):,} bytes")
                print(f"    SQL statements per request: {'; '.join(counts)}")
                for sql, n in repeated.most_common():
                    if n > 1:
                        print(f"      ×{n}: {sql}")
            print()


def _rows(body: Any) -> list:
    return body["results"] if isinstance(body, dict) else body


if __name__ == "__main__":
    main()
