"""Micro-wishes (微心愿): a resident's small wish, reviewed, published on a wall, claimed by a
volunteer, a party member or a partner unit, delivered with photo evidence and confirmed by the
wisher (docs/wishes.md, ../shared/PEOPLE.md section c).

- `Wish`: who wishes (a person of the register and their household), who posted it (the
  resident, or a grid worker / micro-unit leader for an offline 点单), the household's
  micro-grid, what (category, title, a de-identified public title for the wall, description,
  estimated value), and where it is in its life (status, review, directing, publication).
- `Claim`: one claimant's attempt to fulfil a wish — a volunteer (volunteer or party member) or
  a partner unit (a member acts for it) — with its mode, participants (多对一), due date,
  delivery, confirmation and photo evidence.
- `WishEvent`: the wish's timeline (append-only, refused UPDATE/DELETE by a trigger).

What the database itself holds (tested there):
- one live claim per wish: a partial unique index on Claim(wish) for the statuses
  active/delivered/confirmed — two claims at once cannot both be live;
- a claim has exactly one claimant (volunteer XOR partner unit), its kind matches it;
- a wish's value is within 0..MAX_VALUE_YUAN (CHECK; the setting's default, 500, is the
  constraint: a deployment raising the setting migrates the CHECK too);
- a claim's timestamps follow its status (delivered → delivered_at, confirmed → confirmed_at…).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from geogrid.models import Grid
from layers.people.models import Household, Person
from layers.volunteering.models import PartnerUnit, Volunteer

MAX_VALUE_YUAN = 500  # the CHECK; settings.GEOGRID["WISHES"]["MAX_VALUE_YUAN"] narrows it
TITLE_MAX = 60
TEXT_MAX = 1000
NOTE_MAX = 500


class Category(models.TextChoices):
    MATERIAL = "material", _("material help (物资帮扶)")
    SERVICE = "service", _("convenience service (便民服务)")
    PUBLIC_GOOD = "public_good", _("public good (公益)")


class Wish(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        PUBLISHED = "published", _("published")
        REJECTED = "rejected", _("rejected")
        CLAIMED = "claimed", _("claimed")
        DELIVERED = "delivered", _("delivered")
        DISPUTED = "disputed", _("disputed")
        CONFIRMED = "confirmed", _("confirmed")
        EXPIRED = "expired", _("expired")
        WITHDRAWN = "withdrawn", _("withdrawn")
        CLOSED = "closed", pgettext_lazy("wish status", "closed")

    code = models.CharField(_("code"), max_length=20, unique=True)
    wisher = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="wishes",
                               verbose_name=_("wisher"))
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="wishes",
                                  verbose_name=_("household"))
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("posted by"))
    posted_role = models.CharField(_("posted as"), max_length=24)
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("micro-grid"),
                             help_text=_("the household's micro-grid when it was posted"))
    community = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("community"))
    category = models.CharField(_("category"), max_length=12, choices=Category.choices)
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    public_title = models.CharField(_("public title"), max_length=TITLE_MAX,
                                    help_text=_("shown on the wall: no name, no address"))
    description = models.CharField(_("description"), max_length=TEXT_MAX, blank=True)
    est_value = models.PositiveIntegerField(_("estimated value (yuan)"))
    points_reward = models.PositiveIntegerField(_("points for the volunteer"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.SUBMITTED)
    posted_at = models.DateTimeField(_("posted at"), default=timezone.now)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=NOTE_MAX, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    publish_until = models.DateTimeField(_("on the wall until"), null=True, blank=True)
    # 分类派单: staff direct a published wish to one volunteer, who accepts in time or it
    # goes back to the wall. While directed it is not on the wall.
    directed_to = models.ForeignKey(Volunteer, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("directed to"))
    direct_until = models.DateTimeField(_("accept by"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("micro-wish")
        verbose_name_plural = _("micro-wishes")
        ordering = ["-posted_at", "-id"]
        indexes = [
            models.Index(fields=["publish_until"], name="wish_wall",
                         condition=Q(status="published")),
            models.Index(fields=["grid", "status"], name="wish_grid_status"),
            models.Index(fields=["household"], name="wish_household"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(est_value__gte=0, est_value__lte=MAX_VALUE_YUAN),
                                   name="wish_value_within_limit",
                                   violation_error_message=_("the value is over the limit")),
            models.CheckConstraint(
                condition=Q(directed_to__isnull=True, direct_until__isnull=True)
                | Q(status="published", directed_to__isnull=False, direct_until__isnull=False),
                name="wish_directed_only_published"),
            models.CheckConstraint(
                condition=~Q(status__in=("published", "claimed", "delivered", "disputed",
                                         "confirmed")) | Q(published_at__isnull=False),
                name="wish_published_has_time"),
            models.CheckConstraint(condition=~Q(public_title=""), name="wish_public_title"),
        ]

    def __str__(self) -> str:
        return self.code


class Claim(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("claim status", "active")
        DELIVERED = "delivered", _("delivered")
        CONFIRMED = "confirmed", _("confirmed")
        CANCELLED = "cancelled", _("cancelled")
        TIMED_OUT = "timed_out", _("timed out")
        REVOKED = "revoked", _("revoked")

    class ClaimantKind(models.TextChoices):
        VOLUNTEER = "volunteer", _("volunteer")
        PARTY_MEMBER = "party_member", _("party member (在职党员)")
        PARTNER_ORG = "partner_org", _("partner unit")

    class Mode(models.TextChoices):
        ONE_TO_ONE = "one_to_one", _("one to one (一对一)")
        ONE_TO_MANY = "one_to_many", _("one to many (一对多)")
        MANY_TO_ONE = "many_to_one", _("many to one (多对一)")
        UNIT_PAIRING = "unit_pairing", _("partner unit pairing (包联单位结对)")

    LIVE = (Status.ACTIVE, Status.DELIVERED, Status.CONFIRMED)

    wish = models.ForeignKey(Wish, on_delete=models.PROTECT, related_name="claims")
    volunteer = models.ForeignKey(Volunteer, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="wish_claims", verbose_name=_("volunteer"))
    partner_unit = models.ForeignKey(PartnerUnit, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="wish_claims",
                                     verbose_name=_("partner unit"))
    claimant_kind = models.CharField(_("claimant kind"), max_length=12,
                                     choices=ClaimantKind.choices)
    mode = models.CharField(_("mode"), max_length=12, choices=Mode.choices,
                            default=Mode.ONE_TO_ONE)
    acted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("claimed by (user)"))
    claimed_at = models.DateTimeField(_("claimed at"), default=timezone.now)
    due_at = models.DateTimeField(_("due"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.ACTIVE)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    delivery_note = models.CharField(_("delivery note"), max_length=NOTE_MAX, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    confirmed_as = models.CharField(_("confirmed as"), max_length=24, blank=True)
    proxy_note = models.CharField(_("proxy note"), max_length=NOTE_MAX, blank=True,
                                  help_text=_("why a grid worker confirmed for the wisher"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_note = models.CharField(_("end note"), max_length=NOTE_MAX, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        ordering = ["-claimed_at", "-id"]
        indexes = [
            models.Index(fields=["due_at"], name="claim_active_due",
                         condition=Q(status="active")),
            models.Index(fields=["volunteer", "status"], name="claim_volunteer"),
            models.Index(fields=["partner_unit", "status"], name="claim_partner_unit"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["wish"], condition=Q(status__in=("active", "delivered", "confirmed")),
                name="claim_one_live_per_wish",
                violation_error_message=_("this wish has been claimed already")),
            models.CheckConstraint(
                condition=Q(volunteer__isnull=False, partner_unit__isnull=True)
                | Q(volunteer__isnull=True, partner_unit__isnull=False),
                name="claim_one_claimant"),
            models.CheckConstraint(
                condition=Q(partner_unit__isnull=False, claimant_kind="partner_org")
                | Q(volunteer__isnull=False, claimant_kind__in=("volunteer", "party_member")),
                name="claim_kind_matches_claimant"),
            models.CheckConstraint(
                condition=~Q(mode="unit_pairing") | Q(partner_unit__isnull=False),
                name="claim_pairing_is_a_unit"),
            models.CheckConstraint(
                condition=~Q(mode="many_to_one") | Q(volunteer__isnull=False),
                name="claim_many_led_by_a_volunteer"),
            models.CheckConstraint(condition=Q(due_at__gt=F("claimed_at")),
                                   name="claim_due_after_claim"),
            models.CheckConstraint(
                condition=Q(status="active", delivered_at__isnull=True)
                | Q(status__in=("delivered", "confirmed"), delivered_at__isnull=False)
                | Q(status__in=("cancelled", "timed_out", "revoked")),
                name="claim_delivered_has_time"),
            models.CheckConstraint(
                condition=Q(status="confirmed", confirmed_at__isnull=False,
                            confirmed_by__isnull=False)
                | (~Q(status="confirmed") & Q(confirmed_at__isnull=True)),
                name="claim_confirmed_iff_time"),
            models.CheckConstraint(
                condition=Q(status__in=("active", "delivered", "confirmed"),
                            ended_at__isnull=True)
                | (~Q(status__in=("active", "delivered", "confirmed"))
                   & Q(ended_at__isnull=False)),
                name="claim_ended_iff_released"),
        ]

    def __str__(self) -> str:
        return f"claim {self.pk} of {self.wish_id}"

    @property
    def claimant_name(self) -> str:
        """What wishers and the wall see of the claimant: a display name, never a login."""
        if self.partner_unit is not None:
            return self.partner_unit.name
        return self.volunteer.display_name if self.volunteer is not None else ""


class ClaimParticipant(models.Model):
    """多对一: the volunteers who fulfil a wish together with the claim's lead volunteer."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="participants")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("claim participant")
        constraints = [models.UniqueConstraint(fields=["claim", "volunteer"],
                                               name="claim_participant_once")]

    def __str__(self) -> str:
        return f"participant {self.volunteer_id} of claim {self.claim_id}"


class ClaimPhoto(models.Model):
    """Evidence of the delivery (the goods, the work done — not the wisher), metadata stripped,
    served only through the wishes API to the claimant, the wisher and staff in scope."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(upload_to="wishes/%Y/%m/")
    thumbnail = models.FileField(upload_to="wishes/%Y/%m/")
    content_type = models.CharField(max_length=20)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("delivery photo")
        verbose_name_plural = _("delivery photos")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"photo {self.pk} of claim {self.claim_id}"


class WishEvent(models.Model):
    """The wish's timeline. Append-only (a trigger refuses UPDATE and DELETE); `data` holds ids,
    statuses and notes — never a name or a phone."""

    class Kind(models.TextChoices):
        POSTED = "posted", _("posted")
        PUBLISHED = "published", _("published")
        REJECTED = "rejected", _("rejected")
        WITHDRAWN = "withdrawn", _("withdrawn")
        DIRECTED = "directed", _("directed to a volunteer")
        DECLINED = "declined", _("declined by the volunteer")
        DIRECT_LAPSED = "direct_lapsed", _("not accepted in time")
        CLAIMED = "claimed", _("claimed")
        CANCELLED = "cancelled", _("claim cancelled")
        REVOKED = "revoked", _("claim revoked")
        TIMED_OUT = "timed_out", _("claim timed out")
        DELIVERED = "delivered", _("delivered")
        CONFIRMED = "confirmed", _("confirmed")
        DISPUTED = "disputed", _("disputed")
        SETTLED = "settled", _("dispute settled")
        EXPIRED = "expired", _("expired")

    wish = models.ForeignKey(Wish, on_delete=models.PROTECT, related_name="events")
    claim = models.ForeignKey(Claim, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=24, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("wish event")
        verbose_name_plural = _("wish events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["wish", "at"], name="wish_event_wish")]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"
