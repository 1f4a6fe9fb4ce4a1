"""The appeal models move from the `layers` app to this app (label `appeals`).

State only: the tables were created by layers/migrations (0001–0006) and keep their names
(db_table); nothing in the database changes."""

import django.contrib.gis.db.models.fields
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('layers', '0006_holiday_schedule'),
        ('geogrid', '0005_holiday_schedule'),
    ]

    state_operations = [
        migrations.CreateModel(
            name='AppealEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('received', 'submitted'), ('assigned', 'assigned to a grid'), ('reassigned', 're-assigned after a boundary change'), ('imported', 'imported'), ('accept', 'accepted'), ('reject', 'rejected'), ('merge', 'merged as a duplicate'), ('merged_in', 'a duplicate was merged in'), ('dispatch', 'dispatched'), ('return', 'returned (wrong dispatch)'), ('start', 'handling started'), ('escalate', 'escalated'), ('extend', 'deadline extended'), ('suspend', 'suspended'), ('resume', 'resumed'), ('resolve', 'resolved'), ('check_pass', 'check passed'), ('check_fail', 'check failed: redo'), ('close', 'closed'), ('rate', 'rated by the reporter'), ('reopen', 'reopened after an unsatisfied rating'), ('support', 'supported by a resident'), ('warn', 'deadline warning'), ('overdue', 'escalated as overdue'), ('auto_close', 'closed without feedback'), ('recalendared', 'deadline moved by the holiday schedule')], max_length=16)),
                ('at', models.DateTimeField(default=django.utils.timezone.now)),
                ('actor_role', models.CharField(blank=True, db_default='', default='', max_length=16)),
                ('from_status', models.CharField(blank=True, db_default='', default='', max_length=16)),
                ('to_status', models.CharField(blank=True, db_default='', default='', max_length=16)),
                ('note', models.TextField(blank=True, db_default='', default='')),
                ('data', models.JSONField(blank=True, default=dict)),
            ],
            options={
                'verbose_name': 'appeal event',
                'verbose_name_plural': 'appeal events',
                'db_table': 'layers_appealevent',
                'ordering': ['at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='AppealPhoto',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('image', models.ImageField(upload_to='appeals/%Y/%m/', verbose_name='photo')),
                ('thumbnail', models.ImageField(upload_to='appeals/%Y/%m/thumbs/', verbose_name='thumbnail')),
                ('content_type', models.CharField(max_length=20)),
                ('width', models.PositiveIntegerField()),
                ('height', models.PositiveIntegerField()),
                ('size_bytes', models.PositiveIntegerField()),
            ],
            options={
                'verbose_name': 'appeal photo',
                'verbose_name_plural': 'appeal photos',
                'db_table': 'layers_appealphoto',
            },
        ),
        migrations.CreateModel(
            name='Category',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.CharField(max_length=16, unique=True, verbose_name='code')),
                ('major_zh', models.CharField(max_length=50, verbose_name='major class (Chinese)')),
                ('major_en', models.CharField(max_length=80, verbose_name='major class (English)')),
                ('name_zh', models.CharField(max_length=50, verbose_name='name (Chinese)')),
                ('name_en', models.CharField(max_length=80, verbose_name='name (English)')),
                ('kind', models.CharField(choices=[('component', 'component (city asset)'), ('event', 'event'), ('request', 'request')], max_length=16, verbose_name='kind')),
                ('deadline_class', models.CharField(max_length=32, verbose_name='deadline class')),
                ('deadline_value', models.PositiveSmallIntegerField(verbose_name='time limit')),
                ('deadline_unit', models.CharField(choices=[('working_hours', 'working hours'), ('working_days', 'working days')], max_length=16, verbose_name='time limit unit')),
                ('icon', models.CharField(blank=True, max_length=40, verbose_name='icon')),
                ('active', models.BooleanField(default=True, verbose_name='active')),
            ],
            options={
                'verbose_name': 'category',
                'verbose_name_plural': 'categories',
                'db_table': 'layers_category',
                'ordering': ['code'],
            },
        ),
        migrations.CreateModel(
            name='Department',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.CharField(max_length=32, unique=True, verbose_name='code')),
                ('name_zh', models.CharField(max_length=100, verbose_name='name (Chinese)')),
                ('name_en', models.CharField(blank=True, max_length=100, verbose_name='name (English)')),
                ('district_code', models.CharField(blank=True, help_text='empty: serves every district', max_length=16, verbose_name='district')),
                ('active', models.BooleanField(default=True, verbose_name='active')),
            ],
            options={
                'verbose_name': 'department',
                'verbose_name_plural': 'departments',
                'db_table': 'layers_department',
                'ordering': ['code'],
            },
        ),
        migrations.CreateModel(
            name='Notification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(max_length=16)),
                ('data', models.JSONField(blank=True, default=dict)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('read_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'verbose_name': 'notification',
                'verbose_name_plural': 'notifications',
                'db_table': 'layers_notification',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='Reassignment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('old_method', models.CharField(blank=True, max_length=16)),
                ('new_method', models.CharField(max_length=16)),
                ('at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'verbose_name': 're-assignment',
                'verbose_name_plural': 're-assignments',
                'db_table': 'layers_reassignment',
            },
        ),
        migrations.CreateModel(
            name='Support',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('client_key', models.CharField(blank=True, help_text='hash of the client address of anonymous support', max_length=64)),
                ('at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'verbose_name': 'support',
                'verbose_name_plural': 'supports',
                'db_table': 'layers_support',
            },
        ),
        migrations.CreateModel(
            name='TrackingSequence',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('district_code', models.CharField(max_length=16)),
                ('day', models.DateField()),
                ('last', models.PositiveIntegerField(default=0)),
            ],
            options={
                'db_table': 'layers_trackingsequence',
            },
        ),
        migrations.CreateModel(
            name='Appeal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('tracking', models.CharField(max_length=32, unique=True, verbose_name='tracking number')),
                ('token_hash', models.CharField(blank=True, editable=False, max_length=64)),
                ('district_code', models.CharField(db_index=True, max_length=16, verbose_name='district')),
                ('location', django.contrib.gis.db.models.fields.PointField(blank=True, null=True, srid=4326, verbose_name='location')),
                ('raw_x', models.FloatField(blank=True, null=True, verbose_name='submitted x / longitude')),
                ('raw_y', models.FloatField(blank=True, null=True, verbose_name='submitted y / latitude')),
                ('raw_crs', models.CharField(blank=True, max_length=32, verbose_name='submitted CRS')),
                ('address', models.CharField(blank=True, max_length=300, verbose_name='address')),
                ('geocode_score', models.FloatField(blank=True, null=True, verbose_name='geocoding score')),
                ('description', models.TextField(blank=True, verbose_name='description')),
                ('channel', models.CharField(choices=[('mobile', 'mobile'), ('hotline_12345', '12345 hotline'), ('city_110', '110 linkage'), ('snapshot', 'snapshot report'), ('patrol', 'patrol'), ('qr_code', 'QR code'), ('wechat', 'WeChat')], max_length=16, verbose_name='channel')),
                ('source_ref', models.CharField(blank=True, help_text='e.g. the 12345 order id', max_length=64, verbose_name='source reference')),
                ('contact_phone', models.CharField(blank=True, max_length=20, verbose_name='contact phone')),
                ('status', models.CharField(choices=[('received', 'submitted'), ('accepted', 'accepted'), ('returned', 'returned for re-dispatch'), ('dispatched', 'dispatched'), ('in_progress', 'being handled'), ('suspended', 'suspended'), ('resolved', 'resolved'), ('checked', 'checked'), ('closed', 'closed'), ('merged', 'merged into another appeal'), ('rejected', 'rejected')], default='received', max_length=16, verbose_name='status')),
                ('assignment', models.CharField(choices=[('covers', 'inside the micro-grid'), ('nearest', 'nearest micro-grid within tolerance'), ('ancestor', 'smallest covering ancestor grid'), ('unlocated', 'unlocated')], max_length=16, verbose_name='assignment method')),
                ('assignment_distance_m', models.FloatField(blank=True, null=True, verbose_name='distance to the grid (m)')),
                ('version', models.PositiveIntegerField(db_default=1, default=1, verbose_name='version')),
                ('escalation_level', models.PositiveSmallIntegerField(db_default=0, default=0, verbose_name='escalation level')),
                ('accepted_at', models.DateTimeField(blank=True, null=True, verbose_name='accepted at')),
                ('dispatched_at', models.DateTimeField(blank=True, null=True, verbose_name='dispatched at')),
                ('clock_started_at', models.DateTimeField(blank=True, help_text='the last dispatch, or the reopening', null=True, verbose_name='clock started at')),
                ('limit_minutes', models.PositiveIntegerField(blank=True, null=True, verbose_name='time limit (working minutes)')),
                ('extension_minutes', models.PositiveIntegerField(db_default=0, default=0, verbose_name='extensions (working minutes)')),
                ('paused_minutes', models.FloatField(db_default=0, default=0, verbose_name='paused (working minutes)')),
                ('paused_at', models.DateTimeField(blank=True, null=True, verbose_name='suspended at')),
                ('suspended_from', models.CharField(blank=True, db_default='', default='', max_length=16)),
                ('due_at', models.DateTimeField(blank=True, null=True, verbose_name='due at')),
                ('warn_at', models.DateTimeField(blank=True, null=True, verbose_name='warn at')),
                ('warned_at', models.DateTimeField(blank=True, null=True, verbose_name='deadline warning sent at')),
                ('overdue_escalated_at', models.DateTimeField(blank=True, null=True, verbose_name='escalated as overdue at')),
                ('resolved_at', models.DateTimeField(blank=True, null=True, verbose_name='resolved at')),
                ('handling_minutes', models.FloatField(blank=True, help_text='working time from the clock start to the resolution, pauses excluded', null=True, verbose_name='handling time (working minutes)')),
                ('result', models.TextField(blank=True, db_default='', default='', verbose_name='result')),
                ('checked_at', models.DateTimeField(blank=True, null=True, verbose_name='checked at')),
                ('closed_at', models.DateTimeField(blank=True, null=True, verbose_name='closed at')),
                ('redo_count', models.PositiveSmallIntegerField(db_default=0, default=0, verbose_name='redo count')),
                ('reopen_count', models.PositiveSmallIntegerField(db_default=0, default=0, verbose_name='reopen count')),
                ('resolution', models.CharField(blank=True, choices=[('solved', 'solved'), ('partly', 'partly solved'), ('unsolved', 'unsolved')], db_default='', default='', max_length=16, verbose_name='resolution')),
                ('satisfaction', models.CharField(blank=True, choices=[('satisfied', 'satisfied'), ('basically_satisfied', 'basically satisfied'), ('unsatisfied', 'unsatisfied')], db_default='', default='', max_length=24, verbose_name='satisfaction')),
                ('feedback_comment', models.TextField(blank=True, db_default='', default='', verbose_name='feedback comment')),
                ('rated_at', models.DateTimeField(blank=True, null=True, verbose_name='rated at')),
                ('supporters', models.PositiveIntegerField(db_default=0, default=0, verbose_name='supporters')),
                ('on_time', models.GeneratedField(db_persist=True, expression=models.ExpressionWrapper(models.Q(('resolved_at__lte', models.F('due_at'))), output_field=models.BooleanField()), output_field=models.BooleanField(), verbose_name='on time')),
                ('reported_at', models.DateTimeField(verbose_name='reported at')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('assigned_grid', models.ForeignKey(blank=True, help_text='the grid whose staff handle the appeal (after escalation, a higher level)', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='assigned_appeals', to='geogrid.grid', verbose_name='assigned grid')),
            ],
            options={
                'verbose_name': 'appeal',
                'verbose_name_plural': 'appeals',
                'db_table': 'layers_appeal',
                'ordering': ['-reported_at'],
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations),
    ]
