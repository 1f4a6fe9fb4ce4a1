"""The facts carry what a point tile shows of a single appeal (Web Mercator position, tracking
number, time), so that z16+ tiles are read from the facts alone (layers.analytics.tiles)."""

from django.db import migrations

COLUMNS = ("x double precision", "y double precision", "tracking varchar(32)",
           "reported_at timestamptz")


def _sql(op: str) -> str:
    return "".join(
        f"ALTER TABLE analytics_fact_{c} {op} COLUMN "
        + (col if op == "ADD" else col.split()[0]) + ";"
        for c in "ab" for col in COLUMNS
    )


class Migration(migrations.Migration):
    dependencies = [("analytics", "0004_category_moved_to_appeals")]
    operations = [migrations.RunSQL(_sql("ADD"), _sql("DROP"))]
