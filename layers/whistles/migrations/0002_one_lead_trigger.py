"""Exactly one lead per blown whistle, enforced by PostgreSQL.

The partial unique index `whistle_one_lead` (0001) allows at most one lead that has not been
replaced. This deferred constraint trigger adds "at least one": at commit, a whistle that is
blown, working, resolved or closed must have exactly one such lead. Deferred, because replacing
a lead marks the old unit replaced and inserts the new one in the same transaction. The
timeline is append-only like every other timeline."""

from django.db import migrations

from geogrid.dbtriggers import append_only

CHECK = """
CREATE OR REPLACE FUNCTION whistles_one_lead() RETURNS trigger AS $$
DECLARE
    wid bigint;
    st text;
    leads int;
BEGIN
    IF TG_TABLE_NAME = 'whistles_whistle' THEN
        wid := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        wid := OLD.whistle_id;
    ELSE
        wid := NEW.whistle_id;
    END IF;
    SELECT status INTO st FROM whistles_whistle WHERE id = wid;
    IF st IN ('blown', 'working', 'resolved', 'closed') THEN
        SELECT count(*) INTO leads FROM whistles_whistleunit
         WHERE whistle_id = wid AND role = 'lead' AND status <> 'replaced';
        IF leads <> 1 THEN
            RAISE EXCEPTION 'whistle % has % leads; a blown whistle has exactly one', wid, leads
                USING ERRCODE = '23514', CONSTRAINT = 'whistle_exactly_one_lead';
        END IF;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER whistle_exactly_one_lead
    AFTER INSERT OR UPDATE OF status ON whistles_whistle
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION whistles_one_lead();
CREATE CONSTRAINT TRIGGER whistle_unit_exactly_one_lead
    AFTER INSERT OR UPDATE OF status, role, whistle_id OR DELETE ON whistles_whistleunit
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION whistles_one_lead();
"""

DROP = """
DROP TRIGGER IF EXISTS whistle_exactly_one_lead ON whistles_whistle;
DROP TRIGGER IF EXISTS whistle_unit_exactly_one_lead ON whistles_whistleunit;
DROP FUNCTION IF EXISTS whistles_one_lead();
"""


class Migration(migrations.Migration):
    dependencies = [("whistles", "0001_initial")]

    operations = [
        migrations.RunSQL(CHECK, DROP),
        append_only("whistles_whistleevent"),
    ]
