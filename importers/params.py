"""The parameters objects of the importers.

They live apart from the importers so that the helper modules (grid_features, tables) can take
them without importing the importer that calls them. Every import is a dry run unless `commit`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.models import User


@dataclass
class ImportParams:
    path: Path
    commit: bool = False  # False: a dry run that reports what a commit would do


@dataclass
class TableImportParams(ImportParams):
    """A CSV or XLSX table whose columns are mapped to ours."""

    columns: dict[str, str] = field(default_factory=dict)  # our name → the file's column
    crs: str = "wgs84"  # for rows without a CRS column or value
    sheet: str | None = None
    encoding: str = "utf-8"


@dataclass
class GridImportParams(ImportParams):
    layer: str | None = None
    srid: int | None = None  # only for files without a CRS of their own
    encoding: str | None = None  # attribute encoding, e.g. "gbk", when the file does not say
    code_field: str = "code"
    name_field: str = "name"
    parent_field: str | None = None  # default: the parent's code is the code's prefix
    level: int | None = None  # default: inferred from the code's length
    parent_by_location: bool = False  # parent = the grid one level up containing the feature
    fix_invalid: bool = False
    allow_gaps: bool = False  # gaps become warnings (importing part of a parent's children)
    actor: User | None = None  # recorded on the new versions
    progress: bool = False
