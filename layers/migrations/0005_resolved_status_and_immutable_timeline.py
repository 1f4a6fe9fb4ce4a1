"""'replied' becomes 'resolved' (the workflow's 办结), and timeline rows become immutable."""

from django.db import migrations

FORBID_UPDATE = """
CREATE OR REPLACE FUNCTION layers_appealevent_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'appeal timeline rows are immutable (event %)', OLD.id;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER layers_appealevent_no_update BEFORE UPDATE ON layers_appealevent
    FOR EACH ROW EXECUTE FUNCTION layers_appealevent_immutable();
"""
ALLOW_UPDATE = """
DROP TRIGGER IF EXISTS layers_appealevent_no_update ON layers_appealevent;
DROP FUNCTION IF EXISTS layers_appealevent_immutable();
"""


class Migration(migrations.Migration):

    dependencies = [("layers", "0004_workflow")]

    operations = [
        migrations.RunSQL(
            "UPDATE layers_appeal SET status = 'resolved' WHERE status = 'replied'",
            "UPDATE layers_appeal SET status = 'replied' WHERE status = 'resolved'",
        ),
        migrations.RunSQL(FORBID_UPDATE, ALLOW_UPDATE),
    ]
