"""Hotspot.category now points to appeals.Category (same table, layers_category).

State only: the tables were created by layers/migrations (0001–0006) and keep their names
(db_table); nothing in the database changes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0003_cube_channel'),
        ('appeals', '0001_moved_from_layers'),
    ]

    state_operations = [
        migrations.AlterField(
            model_name='hotspot',
            name='category',
            field=models.ForeignKey(blank=True, help_text='empty when the appeals were clustered across categories', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='hotspots', to='appeals.category', verbose_name='category'),
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations),
    ]
