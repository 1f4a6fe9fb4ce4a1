"""Load a sample city's appeals.csv straight into layers_appeal with COPY, for analytics tests
and benchmarks. Not an importer: grids come from the generator's expected micro-grid code
instead of spatial assignment, and no timeline rows are written (importers.appeals does that)."""

from __future__ import annotations

import csv
from pathlib import Path

from django.db import connection, transaction

from layers.appeals import partitions

STATUS = {"submitted": "received"}  # the sample's other statuses are ours too


def load_sample_appeals(directory: Path) -> int:
    path = Path(directory) / "appeals.csv"
    cols = ("appeal_id", "category_code", "channel", "status", "lon", "lat", "address",
            "description", "reported_at", "expected_micro_grid_code")
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute("DROP TABLE IF EXISTS _sample_appeal")
        raw.execute(
            "CREATE TEMP TABLE _sample_appeal (appeal_id text, category_code text, channel text,"
            " status text, lon text, lat text, address text, description text,"
            " reported_at text, grid_code text) ON COMMIT DROP"
        )
        with path.open(encoding="utf-8", newline="") as handle, raw.copy(
            "COPY _sample_appeal FROM STDIN"
        ) as copy:
            for row in csv.DictReader(handle):
                copy.write_row(tuple(row[c] for c in cols))
        # The months the sample covers get their partitions (else its rows sit in DEFAULT).
        partitions.ensure_for_query("SELECT reported_at::timestamptz FROM _sample_appeal")
        raw.execute(
            """
            INSERT INTO layers_appeal (tracking, token_hash, district_code, location, raw_x,
                raw_y, raw_crs, address, category_id, description, channel, source_ref,
                contact_phone, status, grid_id, assignment, reported_at, created_at, updated_at)
            SELECT s.appeal_id, '', coalesce(left(nullif(s.grid_code, ''), 6), ''),
                   CASE WHEN s.lon <> '' THEN
                       ST_SetSRID(ST_MakePoint(s.lon::float8, s.lat::float8), 4326) END,
                   nullif(s.lon, '')::float8, nullif(s.lat, '')::float8, 'EPSG:4326',
                   left(s.address, 300), c.id, s.description, s.channel, s.appeal_id, '',
                   coalesce(m.status, s.status), g.id,
                   CASE WHEN g.id IS NULL OR s.lon = '' THEN 'unlocated' ELSE 'covers' END,
                   s.reported_at::timestamptz, now(), now()
            FROM _sample_appeal s
            JOIN layers_category c ON c.code = s.category_code
            LEFT JOIN (SELECT * FROM (VALUES """
            + ", ".join(f"('{k}', '{v}')" for k, v in STATUS.items())
            + """) v(raw, status)) m ON m.raw = s.status
            LEFT JOIN geogrid_grid g ON g.code = s.grid_code AND g.valid_to IS NULL
                                    AND s.lon <> ''
            """
        )
        return raw.rowcount
