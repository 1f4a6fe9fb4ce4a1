"""The cube gains a day dimension (cuboids per day, and per day × status, up to
DAY_CUBE_MAX_ZOOM): an arbitrary day range at coarse zooms sums a few hundred bins a day
instead of reading every appeal of the tile."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("analytics", "0005_fact_point_columns")]
    operations = [
        migrations.RunSQL(
            "ALTER TABLE analytics_cube_a ADD COLUMN day date NOT NULL DEFAULT '1970-01-01';"
            "ALTER TABLE analytics_cube_b ADD COLUMN day date NOT NULL DEFAULT '1970-01-01';",
            "ALTER TABLE analytics_cube_a DROP COLUMN day;"
            "ALTER TABLE analytics_cube_b DROP COLUMN day;",
        ),
    ]
