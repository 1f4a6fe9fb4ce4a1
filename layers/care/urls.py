"""/api/v1/care/…: subjects, their actions and visits, proposals, the overdue list, extra rounds,
visit photos and the figures (stats_urls)."""

from django.urls import path

from layers.care import photos, stats_urls, views
from layers.care.services import PROPOSAL_ACTIONS, SUBJECT_ACTIONS

app_name = "care"

urlpatterns = [
    path("subjects/", views.SubjectListView.as_view(), name="subject-list"),
    path("subjects/<int:pk>/", views.SubjectDetailView.as_view(), name="subject-detail"),
    path("subjects/<int:pk>/open/", views.OpenView.as_view(), name="subject-open"),
    path("subjects/<int:pk>/visits/", views.VisitListView.as_view(), name="subject-visits"),
    *SUBJECT_ACTIONS.urls("subjects/<int:pk>/actions/<action>/", views.SubjectActionView,
                          name="subject-action"),
    path("proposals/", views.ProposalListView.as_view(), name="proposal-list"),
    *PROPOSAL_ACTIONS.urls("proposals/<int:pk>/actions/<action>/", views.ProposalActionView,
                           name="proposal-action"),
    path("dues/", views.DueListView.as_view(), name="due-list"),
    path("rounds/", views.ExtraRoundView.as_view(), name="extra-round"),
    path("visits/<int:visit>/photos/<int:pk>/", photos.visit_photo, name="visit-photo"),
    path("visits/<int:visit>/photos/<int:pk>/thumbnail/", photos.visit_photo_thumbnail,
         name="visit-photo-thumbnail"),
    *stats_urls.urlpatterns,
]
