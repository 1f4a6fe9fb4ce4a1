from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from layers.models import Building


@admin.register(Building)
class BuildingAdmin(LeafletGeoAdmin):
    list_display = ["address", "households", "units", "grid"]
    search_fields = ["address", "estate_or_road", "source_id"]
    raw_id_fields = ["grid"]
    list_per_page = 50
