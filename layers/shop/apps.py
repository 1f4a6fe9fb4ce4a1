from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopConfig(AppConfig):
    """The points shop (爱心积分超市): shops, operators, items, stock, redemptions."""

    name = "layers.shop"
    label = "shop"
    verbose_name = _("Points shop")
    default_auto_field = "django.db.models.BigAutoField"
