"""/api/v1/wishes/…: the wall, own wishes and claims, the staff list and posting, one wish, the
wisher's contact, the actions, delivery photos and the figures."""

from django.urls import path

from geogrid.dbrouting import replica_reads
from layers.wishes import photos, stats_views, views
from layers.wishes.services import WISH_ACTIONS

# The figures panels of the dashboard: read-only, replica-eligible (docs/replicas.md).
_replica = replica_reads(bind_default=True)

app_name = "wishes"

urlpatterns = [
    path("", views.WishListView.as_view(), name="wish-list"),
    path("wall/", views.WallView.as_view(), name="wall"),
    path("mine/", views.MineView.as_view(), name="mine"),
    path("claims/", views.MyClaimsView.as_view(), name="my-claims"),
    path("figures/", _replica(stats_views.FiguresView.as_view()), name="figures"),
    path("figures/layer/", _replica(stats_views.FiguresLayerView.as_view()), name="figures-layer"),
    path("<int:pk>/", views.WishDetailView.as_view(), name="wish-detail"),
    path("<int:pk>/contact/", views.ContactView.as_view(), name="wish-contact"),
    *WISH_ACTIONS.urls("<int:pk>/actions/<action>/", views.WishActionView, name="wish-action"),
    path("claims/<int:claim>/photos/<int:pk>/", photos.claim_photo, name="claim-photo"),
    path("claims/<int:claim>/photos/<int:pk>/thumbnail/", photos.claim_photo_thumbnail,
         name="claim-photo-thumbnail"),
]
