from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from layers.buildings.models import Building


@admin.register(Building)
class BuildingAdmin(LeafletGeoAdmin):
    list_display = ["address", "households", "units", "grid", "assignment"]
    search_fields = ["address", "estate_or_road", "source_id", "aliases"]
    raw_id_fields = ["grid"]
    list_per_page = 50
