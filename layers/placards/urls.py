"""/api/v1/placards/…: staff (list, detail, create, bulk, actions, sheets, map layer) and the
public report through a placard."""

from django.urls import path

from layers.placards import views
from layers.placards.services import PLACARD_ACTIONS

app_name = "placards"

urlpatterns = [
    path("", views.PlacardListView.as_view(), name="list"),
    path("bulk/", views.PlacardBulkView.as_view(), name="bulk"),
    path("layer/", views.PlacardLayerView.as_view(), name="layer"),
    path("sheet.pdf", views.PlacardSheetView.as_view(), name="sheet"),
    path("<int:pk>/", views.PlacardDetailView.as_view(), name="detail"),
    *PLACARD_ACTIONS.urls("<int:pk>/actions/<action>/", views.PlacardActionView, name="action"),
    path("scan/<str:token>/appeal/", views.PlacardReportView.as_view(), name="report"),
]
