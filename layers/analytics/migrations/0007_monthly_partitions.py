"""The facts and the cube become one table each, partitioned by local calendar month
(layers.appeals.partitions.bounds), in place of the a/b copies: a refresh rebuilds only the months whose appeals
changed and swaps their partitions (layers.analytics.snapshot). `analytics_month` keeps each
month's fingerprint as of its last build.

The old copies are dropped and the watermark set to 0, so every appeal is counted live (right,
slower) until `manage.py analytics_refresh` builds the months. The partitioned indexes must
match the ones snapshot builds on each month's side table (FACT_INDEXES/FACT_COVER,
CUBE_INDEXES): a mismatch makes ATTACH build the missing index under the swap's lock."""

from django.db import migrations

FORWARD = """
DROP TABLE analytics_fact_a, analytics_fact_b, analytics_cube_a, analytics_cube_b;
CREATE TABLE analytics_fact (
    appeal_id bigint NOT NULL,
    key bigint,  -- NULL for an appeal without a location (it still counts for its grid)
    cx integer,
    cy integer,
    category_id bigint NOT NULL,
    status varchar(16) NOT NULL,
    channel varchar(16) NOT NULL,
    day date NOT NULL,  -- local (TIME_ZONE) day of reported_at: the partition key
    grid_code varchar(32) NOT NULL,
    on_time boolean,
    x double precision,
    y double precision,
    tracking varchar(32),
    reported_at timestamptz
) PARTITION BY RANGE (day);
CREATE TABLE analytics_cube (
    cuboid smallint NOT NULL,
    z smallint NOT NULL,
    key bigint NOT NULL,
    cx integer NOT NULL,
    cy integer NOT NULL,
    category_id bigint NOT NULL DEFAULT 0,
    status varchar(16) NOT NULL DEFAULT '',
    month date NOT NULL,  -- every row's month (first day): the partition key
    sub varchar(32) NOT NULL DEFAULT '',
    n integer NOT NULL,
    channel varchar(16) NOT NULL DEFAULT '',
    day date NOT NULL DEFAULT '1970-01-01'
) PARTITION BY RANGE (month);
CREATE INDEX analytics_fact_key ON analytics_fact (key)
    INCLUDE (cx, cy, appeal_id, category_id, status, channel, day, grid_code);
CREATE INDEX analytics_fact_grid ON analytics_fact (grid_code varchar_pattern_ops, key)
    INCLUDE (cx, cy, appeal_id, category_id, status, channel, day);
CREATE INDEX analytics_fact_day ON analytics_fact (day, key)
    INCLUDE (cx, cy, appeal_id, category_id, status, channel, grid_code);
CREATE INDEX analytics_fact_cat ON analytics_fact (category_id, key)
    INCLUDE (cx, cy, appeal_id, status, channel, day, grid_code);
CREATE INDEX analytics_fact_status ON analytics_fact (status, key)
    INCLUDE (cx, cy, appeal_id, category_id, channel, day, grid_code);
CREATE INDEX analytics_cube_key ON analytics_cube (cuboid, z, key);
CREATE INDEX analytics_cube_day ON analytics_cube (cuboid, z, day, key)
    INCLUDE (cx, cy, status, n) WHERE cuboid IN (8, 9);
CREATE TABLE analytics_month (
    month date PRIMARY KEY,
    appeals bigint NOT NULL,  -- appeals of the month with id <= the watermark at its build
    xmin_sum numeric NOT NULL,  -- the sum of their xmin: changes with any write to them
    facts bigint NOT NULL,
    cube_rows bigint NOT NULL,
    built_at timestamptz NOT NULL
);
ALTER TABLE analytics_state DROP COLUMN active;
UPDATE analytics_state SET watermark = 0, version = version + 1;
"""

OLD_TABLES = """
CREATE TABLE analytics_fact_{c} (
    appeal_id bigint NOT NULL, key bigint, cx integer, cy integer, category_id bigint NOT NULL,
    status varchar(16) NOT NULL, channel varchar(16) NOT NULL, day date NOT NULL,
    grid_code varchar(32) NOT NULL, on_time boolean, x double precision, y double precision,
    tracking varchar(32), reported_at timestamptz
);
CREATE TABLE analytics_cube_{c} (
    cuboid smallint NOT NULL, z smallint NOT NULL, key bigint NOT NULL, cx integer NOT NULL,
    cy integer NOT NULL, category_id bigint NOT NULL DEFAULT 0,
    status varchar(16) NOT NULL DEFAULT '', month date NOT NULL DEFAULT '1970-01-01',
    sub varchar(32) NOT NULL DEFAULT '', n integer NOT NULL,
    channel varchar(16) NOT NULL DEFAULT '', day date NOT NULL DEFAULT '1970-01-01'
);
"""

BACKWARD = (
    "DROP TABLE analytics_fact, analytics_cube, analytics_month;"
    + OLD_TABLES.format(c="a") + OLD_TABLES.format(c="b")
    + "ALTER TABLE analytics_state ADD COLUMN active char(1) NOT NULL DEFAULT 'a' "
      "CHECK (active IN ('a', 'b'));"
    "UPDATE analytics_state SET watermark = 0, version = version + 1;"
)


class Migration(migrations.Migration):
    dependencies = [("analytics", "0006_cube_day")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
