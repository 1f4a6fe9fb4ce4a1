"""REST API of the appeals layer, mounted under /api/v1/ by geogrid.urls. The action endpoints
come from the action registry: one per action, nothing to add here for a new action."""

from django.urls import path

from geogrid.dbrouting import replica_reads
from layers.appeals import photo_views, views
from layers.appeals.transitions import APPEAL_ACTIONS

urlpatterns = [
    path("appeals/", views.AppealListView.as_view(), name="appeal-list"),
    path("appeals/<str:tracking>/", views.AppealDetailView.as_view(), name="appeal-detail"),
    # Photos only to those who may read the appeal (the reporter, staff in scope).
    path("appeals/<str:tracking>/photos/<int:photo_id>/", photo_views.appeal_photo,
         name="appeal-photo"),
    path("appeals/<str:tracking>/photos/<int:photo_id>/thumbnail/",
         photo_views.appeal_photo_thumbnail, name="appeal-photo-thumbnail"),
    *APPEAL_ACTIONS.urls("appeals/<str:tracking>/actions/<action>/", views.AppealActionView,
                         name="appeal-action"),
    # The reporter's two actions also have a path of their own (kept for existing clients).
    path("appeals/<str:tracking>/feedback/", views.AppealActionView.for_action(
        APPEAL_ACTIONS, "rate", operation_id="appeal_feedback"), name="appeal-feedback"),
    path("appeals/<str:tracking>/support/", views.AppealActionView.for_action(
        APPEAL_ACTIONS, "support", operation_id="appeal_support"), name="appeal-support"),
    path("locate", views.LocateView.as_view(), name="locate"),
    path("stats/", replica_reads(views.StatsView.as_view()), name="stats"),
    path("notifications/", views.NotificationListView.as_view(), name="notification-list"),
    path("notifications/read/", views.NotificationReadView.as_view(), name="notification-read"),
]
