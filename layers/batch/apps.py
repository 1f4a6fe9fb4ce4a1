from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BatchConfig(AppConfig):
    name = "layers.batch"
    label = "batch"
    verbose_name = _("batch jobs")
    default_auto_field = "django.db.models.BigAutoField"
