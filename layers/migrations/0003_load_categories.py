"""Load the category taxonomy from layers/appeals/fixtures/categories.json (upsert by code)."""

import json
from pathlib import Path

from django.db import migrations

FIXTURE = Path(__file__).resolve().parent.parent / "appeals" / "fixtures" / "categories.json"


def load(apps, schema_editor):
    Category = apps.get_model("layers", "Category")
    for row in json.loads(FIXTURE.read_text(encoding="utf-8"))["categories"]:
        code = row.pop("code")
        Category.objects.update_or_create(code=code, defaults=row)


class Migration(migrations.Migration):
    dependencies = [("layers", "0002_appeals")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
