"""A care visit by a volunteer earns points (PEOPLE.md (d): the `care_visit` rule, 5 points,
at most 20 a day): only when the volunteer is an assigned visitor of the subject and the
visit's mode counts for the subject's colour, so a phone call to a red subject earns nothing.
The key is the visit's, so the award happens once whatever retries."""

from __future__ import annotations

from typing import Any

from layers.care.models import CareVisitor, Visit
from layers.volunteering.earning import award
from layers.volunteering.ledger import Source
from layers.volunteering.models import Volunteer


def award_visit(visit: Visit, user: Any) -> None:
    if not visit.counts:
        return
    volunteer = Volunteer.objects.filter(user=user, active=True).first()
    if volunteer is None or not CareVisitor.objects.filter(
            subject_id=visit.subject_id, user=user, role=CareVisitor.Role.VOLUNTEER,
            until__isnull=True).exists():
        return
    award(volunteer, "care_visit", source=Source("visit", visit.pk),
          key=f"care-visit:{visit.pk}", by=user)
