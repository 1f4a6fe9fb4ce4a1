from django.contrib.auth import views as auth_views
from django.urls import path

from geogrid.dbrouting import replica_reads
from maps import care, points, proposals, shop, unit, views, whistles, wishes
from maps.reports.views import map_report_download

urlpatterns = [
    path("", views.home, name="home"),
    path("m/", views.report, name="report"),
    path("m/follow/<str:tracking>/", views.follow, name="follow"),
    path("m/unit/", unit.unit_page, name="unit"),
    path("m/care/", care.care_page, name="care-visits"),
    path("m/wishes/", wishes.wishes_page, name="wishes-page"),
    path("m/points/", points.points_page, name="points-page"),
    path("m/whistles/", whistles.whistles_page, name="whistles-page"),
    path("m/proposals/", proposals.proposals_page, name="proposals-page"),
    path("m/points/qr/<str:code>.svg", points.pickup_qr, name="points-pickup-qr"),
    path("m/shop/", shop.counter_page, name="shop-counter-page"),
    # The address printed in the placards' QR codes (layers.placards): short on purpose.
    path("q/<str:token>", views.placard_report, name="placard-scan"),
    path("maps/grids/", views.grid_editor, name="grid-editor"),
    path("maps/dispatch/", views.dispatch, name="dispatch"),
    path("maps/report.html", replica_reads(map_report_download, bind_default=True),
         name="map-report"),
    path("maps/grids/<str:code>/summary", views.GridSummaryView.as_view(), name="grid-summary"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="/"), name="logout"),
]
