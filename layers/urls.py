"""REST API of the point layers (appeals, buildings), mounted under /api/v1/ by geogrid.urls."""

from django.urls import path

from layers.views import (
    AppealActionView,
    AppealDetailView,
    AppealFeedbackView,
    AppealListView,
    AppealSupportView,
    LocateView,
    NotificationListView,
    NotificationReadView,
    StatsView,
)

urlpatterns = [
    path("appeals/", AppealListView.as_view(), name="appeal-list"),
    path("appeals/<str:tracking>/", AppealDetailView.as_view(), name="appeal-detail"),
    path("appeals/<str:tracking>/actions/<str:action>/", AppealActionView.as_view(),
         name="appeal-action"),
    path("appeals/<str:tracking>/feedback/", AppealFeedbackView.as_view(),
         name="appeal-feedback"),
    path("appeals/<str:tracking>/support/", AppealSupportView.as_view(), name="appeal-support"),
    path("locate", LocateView.as_view(), name="locate"),
    path("stats/", StatsView.as_view(), name="stats"),
    path("notifications/", NotificationListView.as_view(), name="notification-list"),
    path("notifications/read/", NotificationReadView.as_view(), name="notification-read"),
]
