"""The care groups a deployment starts with (嵩阳街道's four); more are data (the admin).

The migration adds them; `ensure_default_groups` puts back any that are missing — the sample
loader calls it, since a test database flushed between tests loses migration data."""

from __future__ import annotations

DEFAULT_GROUPS = (
    ("subsistence", "subsistence allowance", "低保人员"),
    ("hardship", "hardship and special needs", "困难特殊人群"),
    ("disabled", "persons with disabilities", "残疾人员"),
    ("severe_mental", "severe mental disorder", "严重精神障碍患者"),
)


def ensure_default_groups() -> int:
    """Insert the default groups that are not there; returns how many were inserted."""
    from layers.care.models import CareGroup

    have = set(CareGroup.objects.values_list("code", flat=True))
    missing = [CareGroup(code=c, name=n, name_zh=z) for c, n, z in DEFAULT_GROUPS
               if c not in have]
    CareGroup.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)
