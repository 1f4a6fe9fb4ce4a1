"""The relations of the moved appeal models (split from 0001 by the autodetector).

State only: the tables were created by layers/migrations (0001–0006) and keep their names
(db_table); nothing in the database changes."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('appeals', '0001_moved_from_layers'),
        ('buildings', '0001_moved_from_layers'),
        ('geogrid', '0005_holiday_schedule'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    state_operations = [
        migrations.AddField(
            model_name='appeal',
            name='building',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to='buildings.building', verbose_name='building'),
        ),
        migrations.AddField(
            model_name='appeal',
            name='grid',
            field=models.ForeignKey(blank=True, help_text='the grid version the appeal was assigned with', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='appeals', to='geogrid.grid', verbose_name='grid'),
        ),
        migrations.AddField(
            model_name='appeal',
            name='merged_into',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='duplicates', to='appeals.appeal', verbose_name='merged into'),
        ),
        migrations.AddField(
            model_name='appeal',
            name='reporter',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='appeals', to=settings.AUTH_USER_MODEL, verbose_name='reporter'),
        ),
        migrations.AddField(
            model_name='appealevent',
            name='actor',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='appealevent',
            name='appeal',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='appeals.appeal'),
        ),
        migrations.AddField(
            model_name='appealphoto',
            name='appeal',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='photos', to='appeals.appeal'),
        ),
        migrations.AddField(
            model_name='appealphoto',
            name='event',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='photos', to='appeals.appealevent'),
        ),
        migrations.AddField(
            model_name='appeal',
            name='category',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to='appeals.category', verbose_name='category'),
        ),
        migrations.AddField(
            model_name='department',
            name='members',
            field=models.ManyToManyField(blank=True, db_table='layers_department_members', related_name='departments', to=settings.AUTH_USER_MODEL, verbose_name='members'),
        ),
        migrations.AddField(
            model_name='appeal',
            name='department',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='appeals', to='appeals.department', verbose_name='assigned department'),
        ),
        migrations.AddField(
            model_name='notification',
            name='appeal',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='appeals.appeal'),
        ),
        migrations.AddField(
            model_name='notification',
            name='user',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='reassignment',
            name='actor',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='reassignment',
            name='appeal',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='reassignments', to='appeals.appeal'),
        ),
        migrations.AddField(
            model_name='reassignment',
            name='building',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='reassignments', to='buildings.building'),
        ),
        migrations.AddField(
            model_name='reassignment',
            name='new_grid',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='geogrid.grid'),
        ),
        migrations.AddField(
            model_name='reassignment',
            name='old_grid',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='geogrid.grid'),
        ),
        migrations.AddField(
            model_name='support',
            name='appeal',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='supports', to='appeals.appeal'),
        ),
        migrations.AddField(
            model_name='support',
            name='user',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddConstraint(
            model_name='trackingsequence',
            constraint=models.UniqueConstraint(fields=('district_code', 'day'), name='tracking_seq_unique'),
        ),
        migrations.AddIndex(
            model_name='appeal',
            index=models.Index(condition=models.Q(('status__in', ['received', 'accepted', 'returned', 'dispatched', 'in_progress', 'suspended', 'resolved', 'checked'])), fields=['category', 'reported_at'], name='appeal_open_cat'),
        ),
        migrations.AddIndex(
            model_name='appeal',
            index=models.Index(fields=['grid', 'status'], name='appeal_grid_status'),
        ),
        migrations.AddIndex(
            model_name='appeal',
            index=models.Index(condition=models.Q(('assignment', 'unlocated')), fields=['assignment'], name='appeal_unlocated'),
        ),
        migrations.AddIndex(
            model_name='appeal',
            index=models.Index(condition=models.Q(('status__in', ['dispatched', 'in_progress'])), fields=['due_at'], name='appeal_clock_due'),
        ),
        migrations.AddConstraint(
            model_name='appeal',
            constraint=models.UniqueConstraint(condition=models.Q(('source_ref', ''), _negated=True), fields=('channel', 'source_ref'), name='appeal_unique_source_ref'),
        ),
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(condition=models.Q(('read_at__isnull', True)), fields=['user', 'created_at'], name='notification_unread'),
        ),
        migrations.AddConstraint(
            model_name='reassignment',
            constraint=models.CheckConstraint(condition=models.Q(('appeal__isnull', False), ('building__isnull', False), _connector='OR'), name='reassignment_has_subject'),
        ),
        migrations.AddConstraint(
            model_name='support',
            constraint=models.UniqueConstraint(condition=models.Q(('user__isnull', False)), fields=('appeal', 'user'), name='support_once_per_user'),
        ),
        migrations.AddConstraint(
            model_name='support',
            constraint=models.UniqueConstraint(condition=models.Q(('user__isnull', True)), fields=('appeal', 'client_key'), name='support_once_per_client'),
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations),
    ]
