"""The layers become apps: the models move to layers.buildings and layers.appeals.

State only (the tables keep their names), plus the content types' app labels."""

from django.db import migrations


MOVED = {"buildings": ["building"],
         "appeals": ["category", "department", "appeal", "appealphoto", "appealevent", "support",
                     "notification", "reassignment", "trackingsequence"]}


def relabel_content_types(apps, schema_editor, forward=True):
    """Keep permissions, group grants and admin log entries: the content types of the moved
    models change their app label instead of being created anew by post_migrate."""
    content_type = apps.get_model("contenttypes", "ContentType")
    for label, models in MOVED.items():
        old, new = ("layers", label) if forward else (label, "layers")
        content_type.objects.filter(app_label=old, model__in=models).update(app_label=new)


def unrelabel_content_types(apps, schema_editor):
    relabel_content_types(apps, schema_editor, forward=False)


class Migration(migrations.Migration):

    dependencies = [
        ('appeals', '0002_moved_relations'),
        ('buildings', '0001_moved_from_layers'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('analytics', '0004_category_moved_to_appeals'),
        ('layers', '0006_holiday_schedule'),
    ]

    state_operations = [
        migrations.RemoveField(
            model_name='appeal',
            name='assigned_grid',
        ),
        migrations.RemoveField(
            model_name='appeal',
            name='building',
        ),
        migrations.RemoveField(
            model_name='appeal',
            name='category',
        ),
        migrations.RemoveField(
            model_name='appeal',
            name='department',
        ),
        migrations.RemoveField(
            model_name='appeal',
            name='grid',
        ),
        migrations.RemoveField(
            model_name='appeal',
            name='merged_into',
        ),
        migrations.RemoveField(
            model_name='appeal',
            name='reporter',
        ),
        migrations.RemoveField(
            model_name='appealevent',
            name='appeal',
        ),
        migrations.RemoveField(
            model_name='notification',
            name='appeal',
        ),
        migrations.RemoveField(
            model_name='support',
            name='appeal',
        ),
        migrations.RemoveField(
            model_name='appealphoto',
            name='appeal',
        ),
        migrations.RemoveField(
            model_name='reassignment',
            name='appeal',
        ),
        migrations.RemoveField(
            model_name='appealevent',
            name='actor',
        ),
        migrations.RemoveField(
            model_name='appealphoto',
            name='event',
        ),
        migrations.RemoveField(
            model_name='building',
            name='grid',
        ),
        migrations.RemoveField(
            model_name='reassignment',
            name='building',
        ),
        migrations.RemoveField(
            model_name='department',
            name='members',
        ),
        migrations.RemoveField(
            model_name='notification',
            name='user',
        ),
        migrations.RemoveField(
            model_name='reassignment',
            name='actor',
        ),
        migrations.RemoveField(
            model_name='reassignment',
            name='new_grid',
        ),
        migrations.RemoveField(
            model_name='reassignment',
            name='old_grid',
        ),
        migrations.RemoveField(
            model_name='support',
            name='user',
        ),
        migrations.DeleteModel(
            name='TrackingSequence',
        ),
        migrations.DeleteModel(
            name='Category',
        ),
        migrations.DeleteModel(
            name='Appeal',
        ),
        migrations.DeleteModel(
            name='AppealEvent',
        ),
        migrations.DeleteModel(
            name='AppealPhoto',
        ),
        migrations.DeleteModel(
            name='Building',
        ),
        migrations.DeleteModel(
            name='Department',
        ),
        migrations.DeleteModel(
            name='Notification',
        ),
        migrations.DeleteModel(
            name='Reassignment',
        ),
        migrations.DeleteModel(
            name='Support',
        ),
    ]

    operations = [
        migrations.RunPython(relabel_content_types, unrelabel_content_types),
        migrations.SeparateDatabaseAndState(state_operations=state_operations),
    ]
