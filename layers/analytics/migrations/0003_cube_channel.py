"""The cube gains a channel dimension (a cuboid per channel)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("analytics", "0002_tile_tables")]
    operations = [
        migrations.RunSQL(
            "ALTER TABLE analytics_cube_a ADD COLUMN channel varchar(16) NOT NULL DEFAULT '';"
            "ALTER TABLE analytics_cube_b ADD COLUMN channel varchar(16) NOT NULL DEFAULT '';",
            "ALTER TABLE analytics_cube_a DROP COLUMN channel;"
            "ALTER TABLE analytics_cube_b DROP COLUMN channel;",
        ),
    ]
