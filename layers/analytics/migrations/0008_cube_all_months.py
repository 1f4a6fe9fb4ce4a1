"""The cuboids without a time dimension (0, 1, 2, 5, 6, 7: snapshot.ALL_MONTH_CUBOIDS) also in
one all-months table, `analytics_cube_all`, that a refresh keeps equal to the sum of the month
partitions by difference inside its swap (layers.analytics.snapshot). A no-period tile reads
one row per bin there instead of one per bin and month (~15,000 rows instead of ~1,000 for a
dense z13 category tile of the city).

Filled here from the month partitions already built."""

from django.db import migrations

FORWARD = """
CREATE TABLE analytics_cube_all (
    cuboid smallint NOT NULL,
    z smallint NOT NULL,
    key bigint NOT NULL,
    cx integer NOT NULL,
    cy integer NOT NULL,
    category_id bigint NOT NULL DEFAULT 0,
    status varchar(16) NOT NULL DEFAULT '',
    sub varchar(32) NOT NULL DEFAULT '',
    channel varchar(16) NOT NULL DEFAULT '',
    n integer NOT NULL CHECK (n > 0)
);
-- The refresh's MERGE matches on every dimension; a tile reads a key range of (cuboid, z),
-- index-only once vacuumed.
CREATE UNIQUE INDEX analytics_cube_all_key
    ON analytics_cube_all (cuboid, z, key, category_id, status, sub, channel) INCLUDE (cx, cy, n);
INSERT INTO analytics_cube_all (cuboid, z, key, cx, cy, category_id, status, sub, channel, n)
SELECT cuboid, z, key, cx, cy, category_id, status, sub, channel, sum(n)
FROM analytics_cube WHERE cuboid IN (0, 1, 2, 5, 6, 7)
GROUP BY cuboid, z, key, cx, cy, category_id, status, sub, channel
ORDER BY cuboid, z, key;
UPDATE analytics_state SET version = version + 1;
"""


class Migration(migrations.Migration):
    dependencies = [("analytics", "0007_monthly_partitions")]
    operations = [migrations.RunSQL(FORWARD, "DROP TABLE analytics_cube_all;")]
