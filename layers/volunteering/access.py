"""Who sees and does what with volunteers and points (geogrid.capabilities):

- a volunteer: their own account, entries, service records and redemptions — nobody else's;
- POINTS_VERIFY (community and subdistrict staff): volunteers of their subtree with balances,
  registering volunteers and deciding applications, verifying and rejecting service records;
- POINTS_REVERSE (subdistrict staff): reading a volunteer's ledger (logged in the access log),
  reversing entries, proposing and approving adjustments (four eyes);
- POINTS_COUNTS (grid workers on their grids, staff, dispatchers, managers): figures only.

A volunteer's grid is the community they serve; a service record's is the grid it was given in.
Out of scope answers 404, like a record that does not exist.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db.models import Q

from geogrid.capabilities import Capability, GrantedViewer
from layers.volunteering.models import Volunteer

EVERYTHING = Q(pk__isnull=False)  # not Q(): an empty Q vanishes when OR-ed with another
VERIFY = Capability.POINTS_VERIFY
REVERSE = Capability.POINTS_REVERSE
COUNTS = Capability.POINTS_COUNTS


def under(roots: list[str], field: str) -> Q:
    """Rows whose grid code (`field`) lies in one of the subtrees `roots`; none when empty."""
    q = Q(pk__in=[])
    for root in roots:
        q |= Q(**{f"{field}__startswith": root})
    return q


class PointsViewer(GrantedViewer):
    @cached_property
    def volunteer(self) -> Volunteer | None:
        """The viewer's own volunteer record (active or not), or None."""
        if not getattr(self.user, "is_authenticated", False):
            return None
        return Volunteer.objects.filter(user=self.user).select_related("community").first()

    def scope(self, capability: Capability, field: str) -> Q:
        """A filter for rows in the subtrees where the viewer holds `capability`."""
        if self.is_super:
            return EVERYTHING
        return under(self.grants.codes(capability), field)

    def staff_scope(self, field: str) -> Q:
        """Rows that POINTS_VERIFY or POINTS_REVERSE reaches."""
        if self.is_super:
            return EVERYTHING
        return under(self.grants.codes(VERIFY) + self.grants.codes(REVERSE), field)

    def is_staff_for(self, code: str) -> bool:
        return self.may(VERIFY, code) or self.may(REVERSE, code)

    def owns(self, volunteer_id: Any) -> bool:
        return self.volunteer is not None and self.volunteer.pk == volunteer_id
