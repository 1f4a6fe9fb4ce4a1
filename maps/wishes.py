"""/m/wishes/ — the micro-wish phone page (微心愿): the wall (no login needed), a volunteer's
claims (the wisher's contact while the claim is live, delivery with a photo, cancel), and a
resident's own wishes (post one, confirm or dispute a delivery). Everything it shows comes from
the wishes API (layers/wishes), so the same levels and the same access log apply: the page
itself holds no personal data. Routed in maps/urls.py."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from layers.wishes.access import WishViewer
from layers.wishes.conf import wish_setting
from layers.wishes.models import Category, Claim
from layers.wishes.services import WISH_ACTIONS
from maps.views import page


def wishes_page(request: HttpRequest) -> HttpResponse:
    viewer = WishViewer(request.user)
    strings = {
        "empty": _("No wishes on the wall right now."),
        "noClaims": _("You have no claims."), "noWishes": _("You have posted no wishes."),
        "claim": _("Claim"), "claimed": _("Claimed: the contact is under My claims."),
        "taken": _("Someone else claimed this wish first."),
        "points": _("%s points"), "yuan": _("%s yuan"), "due": _("deliver by %s"),
        "contact": _("Show the contact"), "deliver": _("Delivered (with a photo)"),
        "cancel": _("Cancel my claim"), "confirm": _("Confirm: received"),
        "dispute": _("Not as promised"), "disputeNote": _("What is wrong?"),
        "saved": _("Saved."), "failed": _("Not saved."),
        "posted": _("Your wish was sent for review."),
        "offline": _("The server cannot be reached; please try again."),
        "loginToClaim": _("Log in as a volunteer to claim."),
        "notVolunteer": _("Register as a volunteer with your community to claim wishes."),
        "accept": pgettext("wish action", "Accept"), "decline": _("Decline"),
        "offered": _("Directed to you"),
        "claimant": _("Claimed by %s"),
    }
    return page(request, "maps/m/wishes.html", {
        "signed_in": viewer.signed_in,
        "may_claim": viewer.may_claim,
        "may_post": viewer.own_household_id is not None,
        "page_data": {
            "signedIn": viewer.signed_in, "mayClaim": viewer.may_claim,
            "strings": strings, "categories": [[v, str(lbl)] for v, lbl in Category.choices],
            "statuses": {s.value: str(s.label) for s in Claim.Status},
            "actions": WISH_ACTIONS.labels(),
            "maxValue": wish_setting("MAX_VALUE_YUAN"),
        },
    })
