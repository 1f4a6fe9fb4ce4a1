"""GeoJSON representations of grids for the REST API (djangorestframework-gis)."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from geogrid.models import Grid


class GridFeatureSerializer(GeoFeatureModelSerializer):
    """A grid version as a GeoJSON Feature; the feature id is the stable code."""

    version = serializers.IntegerField(source="id", read_only=True)
    parent = serializers.CharField(source="parent.code", default=None, read_only=True)
    level_label = serializers.CharField(source="get_level_display", read_only=True)
    changed_by = serializers.CharField(source="changed_by.username", default=None, read_only=True)

    class Meta:
        model = Grid
        geo_field = "boundary"
        id_field = "code"
        fields = [
            "code",
            "version",
            "name",
            "level",
            "level_label",
            "parent",
            "area_m2",
            "valid_from",
            "valid_to",
            "changed_by",
        ]
        read_only_fields = fields


class GridVersionSerializer(serializers.ModelSerializer):
    """One entry of a grid's history, without its geometry."""

    version = serializers.IntegerField(source="id")
    changed_by = serializers.CharField(source="changed_by.username", default=None)

    class Meta:
        model = Grid
        fields = ["version", "code", "name", "area_m2", "valid_from", "valid_to", "changed_by"]
        read_only_fields = fields
