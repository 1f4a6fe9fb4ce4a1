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
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
    unit = models.CharField(_("unit"), max_length=16)  # hour, wish, visit …
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
