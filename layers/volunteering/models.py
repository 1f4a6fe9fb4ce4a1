"""Volunteers, partner units and the points ledger (PEOPLE.md (d), docs/participation.md).

- `Volunteer`: a user who serves a community — a registered volunteer, or a party member
  reporting to the community where they live (在职党员双报到); optionally a person of the
  register, optionally sent by a partner unit.
- `PartnerUnit`: a 共建单位, 爱心企业 or social organisation paired with a community. It claims
  micro-wishes as a unit (its members act for it) and donates stock to the points shop.
- `PointsRule`: how much a kind of service earns, as data (1 point per hour, at most 2 hours
  per activity; a confirmed wish 10; a care visit 5; a daily cap).
- `PointsAccount` + `PointsEntry`: the ledger. Entries are append-only (a trigger refuses
  UPDATE and DELETE), signed in a chain per account, each with a unique idempotency key and the
  balance after it; a correction is a reversal entry, at most one per entry. The account's
  cached balance is updated in the same transaction and may never go below zero (CHECK).
- `VolunteerApplication`: a resident asks to serve a community; community staff approve (the
  approval creates the Volunteer) or reject — never the applicant themselves.
- `ServiceRecord` 志愿服务记录: an activity, its community grid, date and hours (0 < h ≤ 24);
  submitted by the volunteer or staff, verified or rejected by POINTS_VERIFY staff, never by the
  volunteer (a trigger checks it). Verification earns points by the `service_hour` rule once.
- `PointsAdjustment`: points added or taken outside the rules (a lost paper record, a data-entry
  error). Proposed by one POINTS_REVERSE holder and approved by another (four eyes, a CHECK).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from geogrid.models import Grid


class PartnerUnit(models.Model):
    class Kind(models.TextChoices):
        UNIT = "unit", _("co-building unit (共建单位)")
        BUSINESS = "business", _("caring business (爱心企业)")
        ORGANISATION = "organisation", _("social organisation (社会组织)")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    community = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="partner_units",
                                  verbose_name=_("paired community"))
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+",
                                     verbose_name=_("members who act for it"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("partner unit")
        constraints = [models.UniqueConstraint(fields=["community", "name"],
                                               name="partner_unit_name_per_community")]

    def __str__(self) -> str:
        return self.name


class Volunteer(models.Model):
    class Kind(models.TextChoices):
        VOLUNTEER = "volunteer", _("volunteer")
        PARTY_MEMBER = "party_member", _("party member reporting in (在职党员)")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="volunteer", verbose_name=_("user"))
    person = models.OneToOneField("people.Person", null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="volunteer",
                                  verbose_name=_("person in the register"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices,
                            default=Kind.VOLUNTEER)
    # What wishers and shop operators see: never the login name or the register's name.
    display_name = models.CharField(_("display name"), max_length=40)
    community = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="volunteers",
                                  verbose_name=_("community served"))
    partner_unit = models.ForeignKey(PartnerUnit, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="volunteers",
                                     verbose_name=_("sent by"))
    active = models.BooleanField(_("active"), default=True)
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)

    class Meta:
        verbose_name = _("volunteer")

    def __str__(self) -> str:
        return self.display_name


class PointsRule(models.Model):
    """An earning rule. `award` (layers.volunteering.earning) applies it: units capped per
    activity, points rounded down, then capped per volunteer and day."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    points_per_unit = models.DecimalField(_("points per unit"), max_digits=6, decimal_places=2)
    # hour, wish, visit …
    unit = models.CharField(pgettext_lazy("points rule", "unit"), max_length=16)
    max_units_per_activity = models.DecimalField(_("units counted per activity at most"),
                                                 max_digits=6, decimal_places=2, null=True,
                                                 blank=True)
    daily_cap = models.PositiveIntegerField(_("points per volunteer and day at most"),
                                            null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("points rule")
        constraints = [models.CheckConstraint(condition=Q(points_per_unit__gt=0),
                                              name="points_rule_positive")]

    def __str__(self) -> str:
        return self.name


class PointsAccount(models.Model):
    volunteer = models.OneToOneField(Volunteer, on_delete=models.PROTECT, related_name="account",
                                     verbose_name=_("volunteer"))
    balance = models.IntegerField(_("balance"), default=0)  # Σ entries, kept in step
    head = models.CharField(_("signature of the last entry"), max_length=64, blank=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("points account")
        constraints = [models.CheckConstraint(condition=Q(balance__gte=0),
                                              name="points_balance_not_negative")]

    def __str__(self) -> str:
        return f"{self.volunteer} ({self.balance})"


class EntryKind(models.TextChoices):
    EARN = "earn", _("earned")
    REDEEM = "redeem", _("redeemed")
    REVERSAL = "reversal", _("reversal")
    EXPIRE = "expire", _("expired")
    ADJUST = "adjust", _("adjustment")


class PointsEntry(models.Model):
    account = models.ForeignKey(PointsAccount, on_delete=models.PROTECT, related_name="entries",
                                verbose_name=_("account"))
    amount = models.IntegerField(_("points"))
    kind = models.CharField(_("kind"), max_length=8, choices=EntryKind.choices)
    rule = models.CharField(_("rule"), max_length=32, blank=True)  # PointsRule.code of an earn
    # What the entry is for, by name: a service record, a wish claim, a care visit, a
    # redemption. Not a foreign key: the ledger outlives (and is read without) those layers.
    source_type = models.CharField(_("source"), max_length=32, blank=True)
    source_id = models.BigIntegerField(_("source id"), null=True, blank=True)
    # Where the points were earned or spent (a community), for the per-grid figures.
    grid = models.ForeignKey(Grid, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("grid"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=120, unique=True)
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="reversal", verbose_name=_("reverses"))
    balance_after = models.IntegerField(_("balance after"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    signature = models.CharField(_("signature"), max_length=64)

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        indexes = [models.Index(fields=["account", "id"], name="points_entry_account"),
                   models.Index(fields=["source_type", "source_id"], name="points_entry_source"),
                   models.Index(fields=["grid", "kind", "created_at"], name="points_entry_grid")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="points_entry_not_zero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0),
                                   name="points_entry_balance_not_negative"),
            models.CheckConstraint(
                condition=(Q(kind=EntryKind.EARN, amount__gt=0)
                           | Q(kind__in=(EntryKind.REDEEM, EntryKind.EXPIRE), amount__lt=0)
                           | Q(kind__in=(EntryKind.REVERSAL, EntryKind.ADJUST))),
                name="points_entry_sign_by_kind"),
            models.CheckConstraint(
                condition=Q(kind=EntryKind.REVERSAL, reverses__isnull=False)
                | (~Q(kind=EntryKind.REVERSAL) & Q(reverses__isnull=True)),
                name="points_entry_reversal_names_its_entry"),
            models.CheckConstraint(condition=~Q(reverses=F("id")),
                                   name="points_entry_not_self_reversal"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+d} → {self.balance_after}"


NOTE_MAX = 200


class VolunteerApplication(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        WITHDRAWN = "withdrawn", _("withdrawn")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("applicant"))
    community = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("community"))
    kind = models.CharField(_("kind"), max_length=16, choices=Volunteer.Kind.choices,
                            default=Volunteer.Kind.VOLUNTEER)
    display_name = models.CharField(_("display name"), max_length=40)
    note = models.CharField(_("note"), max_length=NOTE_MAX, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    applied_at = models.DateTimeField(_("applied at"), default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=NOTE_MAX, blank=True)
    volunteer = models.OneToOneField(Volunteer, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="application", verbose_name=_("volunteer"))

    class Meta:
        verbose_name = _("volunteer application")
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(status="pending"),
                                    name="volunteer_application_one_pending"),
            models.CheckConstraint(condition=~Q(decided_by=F("user")),
                                   name="volunteer_application_four_eyes"),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
                name="volunteer_application_decided"),
            models.CheckConstraint(condition=~Q(status="approved") | Q(volunteer__isnull=False),
                                   name="volunteer_application_approved_volunteer"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.status})"


class ServiceRecord(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        VERIFIED = "verified", _("verified")
        REJECTED = "rejected", _("rejected")

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT,
                                  related_name="service_records", verbose_name=_("volunteer"))
    activity = models.CharField(_("activity"), max_length=100)
    # Where the service was given: the community or a grid below it (the figures' grid).
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("grid"))
    served_on = models.DateField(_("served on"))
    hours = models.DecimalField(_("hours"), max_digits=4, decimal_places=1)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.SUBMITTED)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("submitted by"))
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("verified by"))
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    rejected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("rejected by"))
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    reject_reason = models.CharField(_("reason for rejecting"), max_length=NOTE_MAX, blank=True)
    # The earn entry of its verification (none when the rule's caps left nothing to earn) and
    # the reversal of it when a verified record is rejected.
    entry = models.OneToOneField(PointsEntry, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("points entry"))
    reversal = models.OneToOneField(PointsEntry, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("reversal entry"))
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("service record")
        indexes = [models.Index(fields=["volunteer", "served_on"], name="service_record_vol"),
                   models.Index(fields=["status", "grid"], name="service_record_status")]
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0, hours__lte=24),
                                   name="service_record_hours"),
            models.CheckConstraint(
                condition=~Q(status="verified")
                | Q(verified_by__isnull=False, verified_at__isnull=False),
                name="service_record_verified_by"),
            models.CheckConstraint(
                condition=~Q(status="rejected")
                | Q(rejected_by__isnull=False, rejected_at__isnull=False),
                name="service_record_rejected_by"),
            models.CheckConstraint(condition=Q(reversal__isnull=True) | Q(entry__isnull=False),
                                   name="service_record_reversal_of_entry"),
        ]

    def __str__(self) -> str:
        return f"{self.activity} {self.served_on} {self.hours} h"


class PointsAdjustment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    account = models.ForeignKey(PointsAccount, on_delete=models.PROTECT,
                                related_name="adjustments", verbose_name=_("account"))
    amount = models.IntegerField(_("points"))
    reason = models.CharField(_("reason"), max_length=NOTE_MAX)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("proposed by"))
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    entry = models.OneToOneField(PointsEntry, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("points entry"))

    class Meta:
        verbose_name = _("points adjustment")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="points_adjustment_not_zero"),
            models.CheckConstraint(condition=~Q(decided_by=F("proposed_by")),
                                   name="points_adjustment_four_eyes"),
            models.CheckConstraint(condition=~Q(status="approved") | Q(entry__isnull=False),
                                   name="points_adjustment_approved_entry"),
            models.UniqueConstraint(fields=["account"], condition=Q(status="pending"),
                                    name="points_adjustment_one_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} ({self.status})"
