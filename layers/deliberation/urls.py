"""/api/v1/deliberation/…: proposals, their meetings and actions, offers, the three lists
(needs, offers, projects) and the figures."""

from django.urls import path

from layers.deliberation import views
from layers.deliberation.services import PROPOSAL_ACTIONS

app_name = "deliberation"

urlpatterns = [
    path("proposals/", views.ProposalListView.as_view(), name="proposal-list"),
    path("proposals/<int:pk>/", views.ProposalDetailView.as_view(), name="proposal-detail"),
    path("proposals/<int:pk>/meetings/", views.MeetingsView.as_view(), name="meetings"),
    *PROPOSAL_ACTIONS.urls("proposals/<int:pk>/actions/<action>/", views.ProposalActionView,
                           name="proposal-action"),
    path("needs/", views.NeedsView.as_view(), name="needs"),
    path("offers/", views.OffersView.as_view(), name="offers"),
    path("projects/", views.ProjectsView.as_view(), name="projects"),
    path("figures/", views.FiguresView.as_view(), name="figures"),
]
