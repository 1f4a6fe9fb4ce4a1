"""/api/v1/shop/…: shops and items, the volunteer's redemptions and card, the counter, stock and
the figures (docs/points.md)."""

from django.urls import path

from geogrid.dbrouting import replica_reads
from layers.shop import views

# The figures panels of the dashboard: read-only, replica-eligible (docs/replicas.md).
_replica = replica_reads(bind_default=True)

app_name = "shop"

urlpatterns = [
    path("shops/", views.ShopListView.as_view(), name="shop-list"),
    path("shops/<int:pk>/items/", views.ItemListView.as_view(), name="item-list"),
    path("redemptions/", views.RedemptionListView.as_view(), name="redemption-list"),
    path("redemptions/<int:pk>/cancel/", views.CancelView.as_view(), name="redemption-cancel"),
    path("card/", views.CardView.as_view(), name="card"),
    path("counter/redeem/", views.CounterRedeemView.as_view(), name="counter-redeem"),
    path("counter/<str:code>/", views.CounterLookupView.as_view(), name="counter-lookup"),
    path("counter/<str:code>/collect/", views.CounterCollectView.as_view(),
         name="counter-collect"),
    path("items/<int:pk>/restock/", views.RestockView.as_view(), name="item-restock"),
    path("items/<int:pk>/adjust/", views.AdjustStockView.as_view(), name="item-adjust"),
    path("items/<int:pk>/movements/", views.MovementListView.as_view(), name="item-movements"),
    path("figures/", _replica(views.FiguresView.as_view()), name="figures"),
]
