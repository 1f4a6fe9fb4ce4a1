"""People on the grid: dwellings, households, persons, residence over time, micro-units and the
change log behind the 四清 ledger (see docs/privacy.md and ../shared/PEOPLE.md section a).

Where a household is: its dwelling's building, whose point lies in a micro-grid
(layers.buildings); a boundary edit re-assigns the building and so moves its households, and
the micro-unit's grid is re-derived from its buildings (layers.people.reassign).

What the database itself holds (tested there, not only in code):
- one dwelling per (building, unit, room);
- one open residence per person, and one open head per household (partial unique indexes);
- the change log and its verifications are append-only (trigger, geogrid.dbtriggers);
- ID numbers are unique by their keyed hash; a person's identifiers are ciphertext only.

Nothing the work does not need is stored: no ethnicity, religion, diagnosis or income.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from geogrid.models import Grid
from layers.buildings.models import Building


class MicroUnit(models.Model):
    """微单元: 5–15 neighbouring households of one micro-grid, with a leader who knows them."""

    code = models.CharField(_("code"), max_length=21, unique=True,
                            help_text=_("the micro-grid's code and three digits"))
    name = models.CharField(_("name"), max_length=100)
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="micro_units",
                             verbose_name=_("micro-grid"),
                             help_text=_("derived from its buildings (current version)"))
    needs_review = models.BooleanField(
        _("needs review"), default=False,
        help_text=_("set when a boundary edit put its buildings in different micro-grids"))
    review_note = models.CharField(_("review note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("micro-unit")
        verbose_name_plural = _("micro-units")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[0-9]{21}$"),
                                   name="micro_unit_code_digits"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class LeaderTerm(models.Model):
    """A person's term as a leader; open while `until` is empty."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("user"))
    since = models.DateField(_("since"), default=timezone.localdate)
    until = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        abstract = True


class MicroUnitLeaderTerm(LeaderTerm):
    micro_unit = models.ForeignKey(MicroUnit, on_delete=models.CASCADE, related_name="leaders")
    party_member = models.BooleanField(_("party member"), default=False)
    retired_cadre = models.BooleanField(_("retired cadre"), default=False)

    class Meta:
        verbose_name = _("micro-unit leader term")
        constraints = [
            models.UniqueConstraint(fields=["micro_unit"], condition=Q(until__isnull=True),
                                    name="micro_unit_one_open_leader"),
            models.CheckConstraint(condition=Q(until__isnull=True) | Q(until__gte=F("since")),
                                   name="micro_unit_leader_term_ordered"),
        ]


class BuildingLeaderTerm(LeaderTerm):
    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="leaders")

    class Meta:
        verbose_name = _("building leader term")
        constraints = [
            models.UniqueConstraint(fields=["building", "user"], condition=Q(until__isnull=True),
                                    name="building_leader_one_open_term"),
            models.CheckConstraint(condition=Q(until__isnull=True) | Q(until__gte=F("since")),
                                   name="building_leader_term_ordered"),
        ]


class Dwelling(models.Model):
    """户室: one room of a building (unit 0 when the building has no units)."""

    class Usage(models.TextChoices):
        OWNER = "owner", _("owner-occupied")
        RENTED = "rented", _("rented")
        VACANT = "vacant", _("vacant")
        BUSINESS = "business", _("business")
        OTHER = "other", _("other")

    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="dwellings")
    unit_no = models.PositiveSmallIntegerField(_("unit"), default=0)
    floor = models.SmallIntegerField(_("floor"), null=True, blank=True)
    room_no = models.CharField(_("room"), max_length=10)
    usage = models.CharField(_("usage"), max_length=10, choices=Usage.choices,
                             default=Usage.OWNER)
    micro_unit = models.ForeignKey(MicroUnit, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="dwellings")
    occupancy_verified_at = models.DateTimeField(_("occupancy verified at"), null=True,
                                                 blank=True)
    occupancy_verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                              on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("dwelling")
        verbose_name_plural = _("dwellings")
        ordering = ["building_id", "unit_no", "room_no"]
        constraints = [
            models.UniqueConstraint(fields=["building", "unit_no", "room_no"],
                                    name="dwelling_unique_room",
                                    violation_error_message=_("this room already exists")),
            models.CheckConstraint(condition=~Q(room_no=""), name="dwelling_room_not_blank"),
        ]

    def __str__(self) -> str:
        unit = f"{self.unit_no}单元" if self.unit_no else ""
        return f"{self.building.address}{unit}{self.room_no}室"


class Household(models.Model):
    """户: the people living together in a dwelling; its head is the open residence whose
    relation is `head`."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", _("registered (户籍户)")
        FLOATING = "floating", _("non-registered (流动)")
        COLLECTIVE = "collective", _("collective (集体户)")

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        MOVED_OUT = "moved_out", _("moved out")
        DISSOLVED = "dissolved", _("dissolved")

    dwelling = models.ForeignKey(Dwelling, on_delete=models.PROTECT, related_name="households")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices,
                            default=Kind.REGISTERED)
    tags = ArrayField(models.CharField(max_length=8), default=list, blank=True,
                      verbose_name=_("tags"), help_text=_("e.g. 独居, 空巢, 高龄 (settings)"))
    contact_phone_cipher = models.BinaryField(null=True, editable=False)
    contact_phone_masked = models.CharField(_("contact phone"), max_length=20, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.ACTIVE)
    profile_verified_at = models.DateTimeField(_("profile verified at"), null=True, blank=True)
    profile_verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                            on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["dwelling"], name="household_active_dwelling",
                         condition=Q(status="active")),
            GinIndex(fields=["tags"], name="household_tags"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="active", ended_on__isnull=True)
                | (~Q(status="active") & Q(ended_on__isnull=False)),
                name="household_ended_iff_not_active"),
        ]

    def __str__(self) -> str:
        return f"household {self.pk}"


class Person(models.Model):
    """实有人口. Identifiers are ciphertext plus a masked form; the ID number also has a keyed
    hash (unique) for exact search and de-duplication (geogrid.pii)."""

    class IdType(models.TextChoices):
        RESIDENT_ID = "resident_id", _("resident identity card")
        PASSPORT = "passport", _("passport")
        HMT = "hmt", _("Hong Kong/Macao/Taiwan permit")
        NONE = "none", _("none yet (e.g. a newborn)")

    class Gender(models.TextChoices):
        MALE = "M", _("male")
        FEMALE = "F", _("female")

    class PopulationKind(models.TextChoices):
        REGISTERED = "registered", _("registered (户籍人口)")
        FLOATING = "floating", _("floating (流动人口)")
        FOREIGN = "foreign", _("foreign (境外人员)")

    name = models.CharField(_("name"), max_length=50)
    id_type = models.CharField(_("ID type"), max_length=12, choices=IdType.choices,
                               default=IdType.RESIDENT_ID)
    id_cipher = models.BinaryField(null=True, editable=False)
    id_hash = models.BinaryField(null=True, editable=False, unique=True)
    id_masked = models.CharField(_("ID number"), max_length=32, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    phone_cipher = models.BinaryField(null=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True)
    population_kind = models.CharField(_("population kind"), max_length=12,
                                       choices=PopulationKind.choices,
                                       default=PopulationKind.REGISTERED)
    hukou_division_code = models.CharField(_("hukou division"), max_length=12, blank=True)
    party_member = models.BooleanField(_("party member"), default=False)
    died_on = models.DateField(_("died on"), null=True, blank=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="person",
                                help_text=_("the resident's own login, if they have one"))
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(id_type="none", id_cipher__isnull=True, id_hash__isnull=True)
                | (~Q(id_type="none") & Q(id_cipher__isnull=False, id_hash__isnull=False)),
                name="person_id_number_iff_type"),
        ]

    def __str__(self) -> str:
        return f"person {self.pk}"


class Residence(models.Model):
    """A person's membership of a household over time; open while `valid_to` is empty."""

    class Relation(models.TextChoices):
        HEAD = "head", _("head (户主)")
        SPOUSE = "spouse", _("spouse")
        CHILD = "child", _("child")
        PARENT = "parent", _("parent")
        GRANDCHILD = "grandchild", _("grandchild")
        GRANDPARENT = "grandparent", _("grandparent")
        SIBLING = "sibling", _("sibling")
        TENANT = "tenant", _("tenant")
        OTHER = "other", _("other")

    class Presence(models.TextChoices):
        BOTH = "both", _("lives here, registered here (人户一致)")
        ABSENT = "absent", _("registered here, lives elsewhere (户在人不在)")
        UNREGISTERED = "unregistered", _("lives here, registered elsewhere (人在户不在)")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="residences")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="residences")
    relation = models.CharField(_("relation to head"), max_length=12, choices=Relation.choices)
    presence = models.CharField(_("presence"), max_length=12, choices=Presence.choices,
                                default=Presence.BOTH)
    valid_from = models.DateField(_("from"))
    valid_to = models.DateField(_("to"), null=True, blank=True)

    class Meta:
        verbose_name = _("residence")
        verbose_name_plural = _("residences")
        ordering = ["household_id", "valid_from", "id"]
        indexes = [models.Index(fields=["household"], name="residence_open_household",
                                condition=Q(valid_to__isnull=True))]
        constraints = [
            models.UniqueConstraint(fields=["person"], condition=Q(valid_to__isnull=True),
                                    name="residence_one_open_per_person",
                                    violation_error_message=_(
                                        "this person already lives in another household")),
            models.UniqueConstraint(fields=["household"],
                                    condition=Q(valid_to__isnull=True, relation="head"),
                                    name="residence_one_open_head",
                                    violation_error_message=_("the household already has a head")),
            models.CheckConstraint(condition=Q(valid_to__isnull=True)
                                   | Q(valid_to__gte=F("valid_from")),
                                   name="residence_period_ordered"),
        ]


class ChangeEvent(models.Model):
    """变化: one reported change of a household, person or dwelling. Append-only (a trigger
    refuses UPDATE and DELETE); verification is its own append-only row. `diff` never holds
    identifiers in the clear (only their masked form)."""

    class Kind(models.TextChoices):
        MOVE_IN = "move_in", _("moved in")
        MOVE_OUT = "move_out", _("moved out")
        BIRTH = "birth", _("birth")
        DEATH = "death", _("death")
        MEMBER_ADDED = "member_added", _("member added")
        MEMBER_LEFT = "member_left", _("member left")
        HEAD_CHANGED = "head_changed", _("head changed")
        CONTACT_CHANGED = "contact_changed", _("contact changed")
        USAGE_CHANGED = "usage_changed", _("usage changed")
        TAGS_CHANGED = "tags_changed", _("tags changed")
        OCCUPANCY_CHECKED = "occupancy_checked", _("occupancy checked")
        PROFILE_CHECKED = "profile_checked", _("profile checked")
        GRID_CHANGED = "grid_changed", _("micro-grid changed by a boundary edit")

    class Source(models.TextChoices):
        DOOR = "door", _("door-to-door (敲门)")
        GRID_WORKER = "grid_worker", _("grid worker")
        SELF = "self", _("self-report")
        IMPORT = "import", _("register import")
        SYSTEM = "system", _("system")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="changes")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="changes")
    dwelling = models.ForeignKey(Dwelling, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="changes")
    micro_unit = models.ForeignKey(MicroUnit, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="changes")
    effective_date = models.DateField(_("effective date"))
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)
    diff = models.JSONField(_("what changed"), default=dict, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("change log")
        ordering = ["-reported_at", "-id"]
        indexes = [models.Index(fields=["household", "reported_at"], name="change_household")]
        constraints = [
            models.CheckConstraint(
                condition=Q(household__isnull=False) | Q(dwelling__isnull=False)
                | Q(micro_unit__isnull=False),
                name="change_has_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.effective_date}"


class ChangeVerification(models.Model):
    """A grid worker's (or staff's) check of a reported change: at most one per change (a
    unique key), append-only like the change itself."""

    class Outcome(models.TextChoices):
        CONFIRMED = "confirmed", _("confirmed")
        REJECTED = "rejected", _("rejected")

    change = models.OneToOneField(ChangeEvent, on_delete=models.PROTECT,
                                  related_name="verification")
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField(_("verified at"), default=timezone.now)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("change verification")


class HouseholdIssue(models.Model):
    """问题: something a leader found at a household; it becomes an appeal in one step."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        REFERRED = "referred", _("referred (an appeal)")
        RESOLVED = "resolved", _("resolved")

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="issues")
    text = models.CharField(_("text"), max_length=500)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.OPEN)
    appeal = models.ForeignKey("appeals.Appeal", null=True, blank=True, db_constraint=False,
                               on_delete=models.SET_NULL, related_name="+")  # trigger-kept
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("household issue")
        verbose_name_plural = _("household issues")
        ordering = ["-raised_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(status="referred") | Q(appeal__isnull=False),
                                   name="issue_referred_has_appeal"),
        ]
