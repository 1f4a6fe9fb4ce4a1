"""Map screens. The home page gives an overview of the hierarchy and where to go next."""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from geogrid.hierarchy import Level
from geogrid.models import Grid


def home(request: HttpRequest) -> HttpResponse:
    counts = dict(
        Grid.objects.current()
        .values_list("level")
        .annotate(n=Count("id"))
        .values_list("level", "n")
    )
    levels = [(level.label, counts.get(level.value, 0)) for level in Level]
    return render(request, "maps/home.html", {"levels": levels})
