"""GeoJSON representations of grids for the REST API (djangorestframework-gis)."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from geogrid.models import Grid, Post
from geogrid.openapi import GeoJSONGeometryField


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


# --- what the grid API answers and takes, for its OpenAPI schema -----------------------------
# The answers are built by the serializers above (and dicts in geogrid.api); these describe
# them exactly, `required` and `null` included (tests/test_api_fuzz.py holds every answer to
# them). rest_framework_gis's own description has no required keys and no null parents.
def _coordinates(depth: int, help_text: str = "") -> serializers.ListField:
    field: serializers.Field = serializers.FloatField()
    for _ in range(depth):
        field = serializers.ListField(child=field)
    assert isinstance(field, serializers.ListField)
    field.help_text = help_text or None
    return field


class MultiPolygonOut(serializers.Serializer):
    type = serializers.ChoiceField(choices=["MultiPolygon"])
    coordinates = _coordinates(4, "polygons → rings → [longitude, latitude] (WGS 84)")


class GridPropertiesOut(serializers.Serializer):
    version = serializers.IntegerField(help_text="the version's id: send it back to edit")
    name = serializers.CharField(allow_blank=True)
    level = serializers.IntegerField(min_value=1, max_value=5)
    level_label = serializers.CharField()
    area_m2 = serializers.FloatField(allow_null=True)
    valid_from = serializers.DateTimeField()
    valid_to = serializers.DateTimeField(allow_null=True, help_text="null: the current version")
    changed_by = serializers.CharField(allow_null=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        # `parent` is a serializer's own attribute: the field is added here, not declared.
        return {**super().get_fields(),
                "parent": serializers.CharField(allow_null=True, help_text="the parent's code")}


class GridFeatureOut(serializers.Serializer):
    """A grid version as a GeoJSON Feature; the feature id is its stable code."""

    type = serializers.ChoiceField(choices=["Feature"])
    id = serializers.CharField(help_text="the grid's code")
    geometry = MultiPolygonOut()
    properties = GridPropertiesOut()


class GridEditedOut(GridFeatureOut):
    """The grid as saved, with the topology check's warnings (slivers, near-gaps)."""

    warnings = serializers.ListField(child=serializers.CharField())


class GridCollectionOut(serializers.Serializer):
    type = serializers.ChoiceField(choices=["FeatureCollection"])
    features = GridFeatureOut(many=True)


class GridVersionOut(serializers.Serializer):
    version = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    area_m2 = serializers.FloatField(allow_null=True)
    valid_from = serializers.DateTimeField()
    valid_to = serializers.DateTimeField(allow_null=True)
    changed_by = serializers.CharField(allow_null=True)


class GridEditResultOut(serializers.Serializer):
    """A split or a merge: the grid as saved, the codes whose versions changed, warnings."""

    grid = GridFeatureOut()
    changed = serializers.ListField(child=serializers.CharField())
    warnings = serializers.ListField(child=serializers.CharField())


class TopologyProblemPropertiesOut(serializers.Serializer):
    kind = serializers.CharField(help_text="overlap, gap, outside, invalid, …")
    code = serializers.CharField(allow_null=True)
    other_code = serializers.CharField(allow_null=True)
    area_m2 = serializers.FloatField(allow_null=True)
    message = serializers.CharField()


class TopologyProblemOut(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Feature"])
    geometry = GeoJSONGeometryField()
    properties = TopologyProblemPropertiesOut()


class TopologySummaryOut(serializers.Serializer):
    families = serializers.IntegerField(help_text="parents whose children were checked")
    grids = serializers.IntegerField(help_text="grids whose own geometry was checked")
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="problems by kind")
    tolerances = serializers.DictField(child=serializers.FloatField())


class TopologyReportOut(serializers.Serializer):
    """The topology report as a GeoJSON FeatureCollection of its problems."""

    type = serializers.ChoiceField(choices=["FeatureCollection"])
    features = TopologyProblemOut(many=True)
    properties = TopologySummaryOut()


class StaffPostOut(serializers.Serializer):
    """A current post on the grid. `phone` only to dispatchers and grid managers of the
    subtree; `id` (to end the post) and `username` only to grid managers of the subtree."""

    name = serializers.CharField(allow_blank=True)
    post = serializers.CharField()
    post_label = serializers.CharField()
    since = serializers.DateField()
    id = serializers.IntegerField(required=False)
    username = serializers.CharField(required=False)
    phone = serializers.CharField(required=False, allow_blank=True)


# Request bodies (the views read them by hand; these document them).
class GridPropertiesIn(serializers.Serializer):
    code = serializers.CharField(required=False, help_text="the new grid's code (POST)")
    name = serializers.CharField(required=False, allow_blank=True)
    level = serializers.IntegerField(required=False, min_value=1, max_value=5,
                                     help_text="default: from the code's length")
    version = serializers.IntegerField(required=False,
                                       help_text="PUT/PATCH: the version you edited")

    def get_fields(self) -> dict[str, serializers.Field]:
        return {**super().get_fields(), "parent": serializers.CharField(
            required=False, help_text="the parent grid's code (default: from the code)")}


class GridFeatureIn(serializers.Serializer):
    """A GeoJSON Feature with a Polygon or MultiPolygon geometry (WGS 84)."""

    type = serializers.ChoiceField(choices=["Feature"])
    geometry = GeoJSONGeometryField()
    properties = GridPropertiesIn()


class GridSplitIn(serializers.Serializer):
    version = serializers.IntegerField(help_text="the version you split")
    line = GeoJSONGeometryField(help_text="a GeoJSON LineString across the grid")
    new_code = serializers.CharField(help_text="the code of the smaller part")
    new_name = serializers.CharField(required=False, allow_blank=True)


class GridMergeIn(serializers.Serializer):
    version = serializers.IntegerField(help_text="this grid's version")
    other = serializers.CharField(help_text="the sibling to merge into this grid")
    other_version = serializers.IntegerField(help_text="the sibling's version")


class StaffPostIn(serializers.Serializer):
    username = serializers.CharField()
    post = serializers.ChoiceField(choices=Post.choices)
    phone = serializers.CharField(required=False, allow_blank=True)
