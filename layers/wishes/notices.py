"""Who is told what about a wish, through the app's notifications (layers.appeals.notifications:
rows in the app, then the configured backend after commit).

A notification names the wish by its code and its state only — never the wisher's name,
address or phone, nor the claimant's — because a backend may send it as an SMS or e-mail.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from geogrid.capabilities import POST_CAPABILITIES, Capability
from geogrid.models import StaffAssignment
from layers.appeals.notifications import notify, register_kind
from layers.wishes.models import Claim, Wish

REVIEW_POSTS = tuple(p for p, caps in POST_CAPABILITIES.items() if Capability.WISH_REVIEW in caps)


def reviewers_of(code: str) -> list[int]:
    """Community and subdistrict staff on grid `code` or above it."""
    return sorted(set(StaffAssignment.objects.current().filter(
        grid__code__in=[code[:n] for n in range(1, len(code) + 1)],
        post__in=list(REVIEW_POSTS), user__is_active=True).values_list("user_id", flat=True)))


def wisher_users(wish: Wish) -> list[int]:
    """The wisher's own login (if they have one) and whoever posted the wish for them."""
    return sorted({u for u in (wish.wisher.user_id, wish.posted_by_id) if u})


def claimant_users(claim: Claim) -> list[int]:
    if claim.partner_unit is not None:
        return sorted(claim.partner_unit.members.filter(is_active=True)
                      .values_list("id", flat=True))
    users = {claim.volunteer.user_id} if claim.volunteer is not None else set()
    users.update(claim.participants.values_list("volunteer__user_id", flat=True))
    return sorted(users)


def tell(users: Iterable[int], kind: str, wish: Wish, **data: str) -> int:
    return notify(users, None, kind, wish=wish.code, **data)


_TEXTS = {
    "wish_submitted": N_("Micro-wish %(wish)s waits for review."),
    "wish_published": N_("Your micro-wish %(wish)s is on the wall."),
    "wish_rejected": N_("Your micro-wish %(wish)s was not published: %(note)s"),
    "wish_directed": N_("Micro-wish %(wish)s was directed to you: accept or decline it."),
    "wish_claimed": N_("Micro-wish %(wish)s was claimed by %(claimant)s."),
    "wish_released": N_("Micro-wish %(wish)s is back on the wall (the claim ended: %(how)s)."),
    "claim_ended": N_("Your claim of micro-wish %(wish)s ended: %(how)s."),
    "wish_delivered": N_("Micro-wish %(wish)s was delivered: please confirm it."),
    "wish_confirmed": N_("Micro-wish %(wish)s was confirmed. Thank you!"),
    "wish_disputed": N_("Micro-wish %(wish)s is disputed and waits for the community."),
    "wish_settled": N_("The dispute on micro-wish %(wish)s was settled: %(how)s."),
    "wish_expired": N_("Micro-wish %(wish)s left the wall unclaimed."),
    "direct_lapsed": N_("Micro-wish %(wish)s was not accepted in time and is back on the wall."),
}


def _texts() -> None:
    def render(template: str):
        def text(data: dict) -> str:
            values = {"wish": data.get("wish", "?"), "note": data.get("note", ""),
                      "claimant": data.get("claimant", ""), "how": data.get("how", "")}
            return _(template) % values
        return text

    for kind, template in _TEXTS.items():
        register_kind(kind, render(template))


_texts()
