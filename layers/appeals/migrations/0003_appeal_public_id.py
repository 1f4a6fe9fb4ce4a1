"""An unguessable public id per appeal (the share link and anonymous support use it; the
sequential tracking number stays for staff, the hotline and the reporter with the token).

Three steps so that it works on a database that already has appeals: add the column empty,
fill every existing row with its own random UUID in one set-based UPDATE (gen_random_uuid(),
built into PostgreSQL 13+), then make it NOT NULL and unique with the same database default,
so that raw INSERTs (the hotline importer, the sample generator) get one too."""

import uuid

import django.contrib.postgres.functions
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("appeals", "0002_moved_relations"),
    ]

    operations = [
        migrations.AddField(
            model_name="appeal",
            name="public_id",
            field=models.UUIDField(editable=False, null=True, verbose_name="public id"),
        ),
        migrations.RunSQL(
            "UPDATE layers_appeal SET public_id = gen_random_uuid() WHERE public_id IS NULL",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="appeal",
            name="public_id",
            field=models.UUIDField(
                db_default=django.contrib.postgres.functions.RandomUUID(),
                default=uuid.uuid4,
                editable=False,
                help_text="unguessable id of the share link and anonymous support",
                unique=True,
                verbose_name="public id",
            ),
        ),
    ]
