"""What the Open311 layer stores: the updates department systems post (servicerequestupdates).

An update is recorded once per (client, the client's update_id): a replay answers the stored
update without acting again, and a concurrent replay waits on the unique index and then finds
the first one (layers/open311/updates.py). The workflow change itself lives in the appeal's
timeline; this row says which client update caused which timeline row.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from geogrid.models import ApiClient
from layers.appeals.models import Appeal, AppealEvent

UPDATE_ID_MAX_CHARS = 64
STATUS_MAX_CHARS = 32


class Open311Update(models.Model):
    """One update a client posted, and the timeline row it wrote (the last, when several)."""

    client = models.ForeignKey(ApiClient, verbose_name=_("API client"), on_delete=models.PROTECT,
                               related_name="open311_updates")
    update_id = models.CharField(_("client's update id"), max_length=UPDATE_ID_MAX_CHARS)
    # Both references are kept by triggers: appeals and timeline are partitioned.
    appeal = models.ForeignKey(Appeal, verbose_name=_("appeal"), on_delete=models.CASCADE,
                               related_name="open311_updates", db_constraint=False)
    status = models.CharField(_("Open311 status"), max_length=STATUS_MAX_CHARS)
    actions = models.JSONField(_("workflow actions"), default=list)
    event = models.ForeignKey(AppealEvent, verbose_name=_("timeline row"), null=True,
                              db_constraint=False, on_delete=models.SET_NULL, related_name="+")
    description = models.TextField(_("description"), blank=True)
    client_datetime = models.DateTimeField(_("updated at (client's clock)"), null=True,
                                           blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 update")
        verbose_name_plural = _("Open311 updates")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["client", "update_id"],
                                    name="open311_update_once_per_client"),
        ]

    def __str__(self) -> str:
        return f"{self.client} {self.update_id} → {self.status}"
