"""Pre-aggregation tables for tiles and heat, in two copies (a/b): a refresh fills the idle copy
and flips analytics_state, so readers never wait for a rebuild."""

from django.db import migrations

MORTON = """
CREATE OR REPLACE FUNCTION analytics_spread(v bigint) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    v := v & 16777215;
    v := (v | (v << 16)) & 281470681808895;
    v := (v | (v << 8)) & 71777214294589695;
    v := (v | (v << 4)) & 1085102592571150095;
    v := (v | (v << 2)) & 3689348814741910323;
    RETURN (v | (v << 1)) & 6148914691236517205;
END $$;
CREATE OR REPLACE FUNCTION analytics_morton(x bigint, y bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT analytics_spread(x) | (analytics_spread(y) << 1) $$;
"""

TABLES = """
CREATE TABLE analytics_fact_{c} (
    appeal_id bigint NOT NULL,
    key bigint,  -- NULL for an appeal without a location (it still counts for its grid)
    cx integer,
    cy integer,
    category_id bigint NOT NULL,
    status varchar(16) NOT NULL,
    channel varchar(16) NOT NULL,
    day date NOT NULL,
    grid_code varchar(32) NOT NULL,
    on_time boolean
);
CREATE TABLE analytics_cube_{c} (
    cuboid smallint NOT NULL,
    z smallint NOT NULL,
    key bigint NOT NULL,
    cx integer NOT NULL,
    cy integer NOT NULL,
    category_id bigint NOT NULL DEFAULT 0,
    status varchar(16) NOT NULL DEFAULT '',
    month date NOT NULL DEFAULT '1970-01-01',
    sub varchar(32) NOT NULL DEFAULT '',
    n integer NOT NULL
);
"""

STATE = """
CREATE TABLE analytics_state (
    id smallint PRIMARY KEY CHECK (id = 1),
    active char(1) NOT NULL CHECK (active IN ('a', 'b')),
    version integer NOT NULL,
    watermark bigint NOT NULL,
    refreshed_at timestamptz,
    seconds double precision
);
INSERT INTO analytics_state VALUES (1, 'a', 0, 0, NULL, NULL);
"""

DROP = """
DROP TABLE IF EXISTS analytics_state, analytics_fact_a, analytics_fact_b, analytics_cube_a,
    analytics_cube_b;
DROP FUNCTION IF EXISTS analytics_morton(bigint, bigint);
DROP FUNCTION IF EXISTS analytics_spread(bigint);
"""


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial")]
    operations = [
        migrations.RunSQL(
            MORTON + TABLES.format(c="a") + TABLES.format(c="b") + STATE, DROP
        ),
    ]
