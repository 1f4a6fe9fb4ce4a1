"""Building moves from the `layers` app to this app (label `buildings`).

State only: the tables were created by layers/migrations (0001–0006) and keep their names
(db_table); nothing in the database changes."""

import django.contrib.gis.db.models.fields
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('layers', '0006_holiday_schedule'),
        ('geogrid', '0005_holiday_schedule'),
    ]

    state_operations = [
        migrations.CreateModel(
            name='Building',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source_id', models.CharField(max_length=64, unique=True, verbose_name='source id')),
                ('address', models.CharField(max_length=200, verbose_name='standard address')),
                ('estate_or_road', models.CharField(max_length=100, verbose_name='estate or road')),
                ('door_no', models.CharField(blank=True, db_default='', max_length=20, verbose_name='door number')),
                ('building_no', models.CharField(max_length=20, verbose_name='building number')),
                ('units', models.PositiveSmallIntegerField(default=1, verbose_name='units')),
                ('households', models.PositiveIntegerField(default=0, verbose_name='households')),
                ('aliases', models.TextField(blank=True, db_default='', help_text='other names of this address, one per line (old names, local usage)', verbose_name='aliases')),
                ('location', django.contrib.gis.db.models.fields.PointField(srid=4326, verbose_name='location')),
                ('assignment', models.CharField(blank=True, choices=[('covers', 'inside the micro-grid'), ('nearest', 'nearest micro-grid within tolerance'), ('ancestor', 'smallest covering ancestor grid'), ('unlocated', 'unlocated')], db_default='', max_length=16, verbose_name='assignment method')),
                ('grid', models.ForeignKey(blank=True, help_text='the current grid whose boundary covers the building', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='buildings', to='geogrid.grid', verbose_name='micro-grid')),
            ],
            options={
                'verbose_name': 'building',
                'verbose_name_plural': 'buildings',
                'db_table': 'layers_building',
                'indexes': [models.Index(fields=['estate_or_road', 'building_no'], name='building_addr')],
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations),
    ]
