"""The care follow-up (issue 14 item 5): a care visit whose findings need help — an urgent
finding, or a concern — may raise a micro-wish for the subject's household, posted by the
visitor (a grid worker on their grid) like any offline 点单 and reviewed like any wish.

`wish_from_visit` is what layers.care calls inside record_visit's transaction (the hook is the
care layer's to add); the wish names the visit in its timeline (`posted` event, data.visit), so
the wall and the notifications never say that the household is a care subject.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from layers.care.models import Finding, Visit
from layers.people.models import Residence
from layers.wishes.access import WishViewer
from layers.wishes.models import Wish
from layers.wishes.services import post_wish


def needs_help(visit: Visit) -> bool:
    return any(v in (Finding.URGENT, Finding.CONCERN) for v in visit.findings().values())


def wish_from_visit(visit: Visit, user: Any, *, category: str, title: str, est_value: int,
                    public_title: str = "", description: str = "") -> Wish:
    """A wish for the visited subject's household, the subject as the wisher; only after a
    visit with an urgent or concern finding (400 otherwise)."""
    if not needs_help(visit):
        raise ValidationError({"wish_title": _("only a visit with a concern or an urgent "
                                               "finding raises a wish")})
    home = (Residence.objects.filter(person_id=visit.subject.person_id, valid_to__isnull=True)
            .values_list("household_id", flat=True).first())
    if home is None:
        raise ValidationError({"wish_title": _("the subject's household is not known")})
    return post_wish(WishViewer(user), household=home, wisher=visit.subject.person_id,
                     category=category, title=title, public_title=public_title,
                     description=description, est_value=est_value, origin={"visit": visit.pk})
