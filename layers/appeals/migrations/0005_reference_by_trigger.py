"""Before the appeals and their timeline are partitioned (0006): the references to them become
db_constraint=False (their foreign keys are dropped here; 0006 installs the triggers that keep
them), and the timeline, photos and supports get their appeal's district code (filled in 0006).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('appeals', '0004_alter_appealevent_kind'),
    ]

    operations = [
        migrations.AddField(
            model_name='appealevent',
            name='district_code',
            field=models.CharField(blank=True, default='', editable=False, max_length=16),
        ),
        migrations.AddField(
            model_name='appealphoto',
            name='district_code',
            field=models.CharField(blank=True, default='', editable=False, max_length=16),
        ),
        migrations.AddField(
            model_name='support',
            name='district_code',
            field=models.CharField(blank=True, default='', editable=False, max_length=16),
        ),
        migrations.AlterField(
            model_name='appeal',
            name='merged_into',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='duplicates', to='appeals.appeal', verbose_name='merged into'),
        ),
        migrations.AlterField(
            model_name='appealevent',
            name='appeal',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='appeals.appeal'),
        ),
        migrations.AlterField(
            model_name='appealphoto',
            name='appeal',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='photos', to='appeals.appeal'),
        ),
        migrations.AlterField(
            model_name='appealphoto',
            name='event',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='photos', to='appeals.appealevent'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='appeal',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='appeals.appeal'),
        ),
        migrations.AlterField(
            model_name='reassignment',
            name='appeal',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='reassignments', to='appeals.appeal'),
        ),
        migrations.AlterField(
            model_name='support',
            name='appeal',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='supports', to='appeals.appeal'),
        ),
    ]
