"""REST API of the appeals layer, mounted under /api/v1/ by geogrid.urls. The action endpoints
come from the action registry: one per action, nothing to add here for a new action."""

from django.urls import path

from layers.appeals.transitions import APPEAL_ACTIONS
from layers.appeals.views import (
    AppealActionView,
    AppealDetailView,
    AppealListView,
    LocateView,
    NotificationListView,
    NotificationReadView,
    StatsView,
)

urlpatterns = [
    path("appeals/", AppealListView.as_view(), name="appeal-list"),
    path("appeals/<str:tracking>/", AppealDetailView.as_view(), name="appeal-detail"),
    *APPEAL_ACTIONS.urls("appeals/<str:tracking>/actions/<action>/", AppealActionView,
                         name="appeal-action"),
    # The reporter's two actions also have a path of their own (kept for existing clients).
    path("appeals/<str:tracking>/feedback/",
         AppealActionView.for_action(APPEAL_ACTIONS, "rate", operation_id="appeal_feedback"),
         name="appeal-feedback"),
    path("appeals/<str:tracking>/support/",
         AppealActionView.for_action(APPEAL_ACTIONS, "support", operation_id="appeal_support"),
         name="appeal-support"),
    path("locate", LocateView.as_view(), name="locate"),
    path("stats/", StatsView.as_view(), name="stats"),
    path("notifications/", NotificationListView.as_view(), name="notification-list"),
    path("notifications/read/", NotificationReadView.as_view(), name="notification-read"),
]
