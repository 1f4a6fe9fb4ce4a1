"""The placards layer's pages (outside /api/): /q/<token>, the address printed in the QR codes.

The page itself is a screen of maps (the report page with the placard's board); this URLconf
only wires it at the short address the codes carry."""

from django.urls import path

from maps.views import placard_report

urlpatterns = [
    path("q/<str:token>", placard_report, name="placard-scan"),
]
