"""`layers` is a package of layer apps (appeals, buildings, analytics, …), each with its own
models, services, API and migrations. This app config only keeps the migration history of the
tables created before the layers became apps: `layers/migrations/` creates them on a new
database, and its last migration hands them to the layer apps without touching the data.
Add nothing here; a new layer is a new app (docs/adding-a-layer.md)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LayersConfig(AppConfig):
    name = "layers"
    verbose_name = _("Layers (migration history before the move to layer apps)")
