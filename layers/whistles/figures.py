"""Whistle figures (docs/whistles.md, "Figures"), for one district over a period of blowing.

Per department — over the units it was called in as (a refused-and-replaced unit counts: the
department was called and did not come):
    called       units
    reported     units that reported in; report_rate = reported / called
    on_time      reported in by the limit; on_time_rate = on_time / called
    mean_response_min   mean minutes from notice to report-in (reported units)
    done         units whose part is done; completion_rate = done / (called − released)
    rated, satisfied, basically; satisfaction_rate = parts rated satisfied or basically
                 satisfied the first time / rated (a part an unsatisfied rating sent back
                 counts against the department, even once it is redone and rated again)
    refused

Per subdistrict — whistles blown per 100 appeals reported there in the period (吹哨率), and a
flag when the rate is far from the district's median: below median / F or above median × F
(F = GEOGRID["WHISTLES"]["RATE_FLAG_FACTOR"]). A subdistrict that blows far less than its
peers may be sitting on problems it cannot solve; one that blows far more may be passing up
what it should settle itself. Subdistricts without appeals have no rate and are not flagged.

Each table is one aggregate query (GROUP BY in PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import statistics

from django.conf import settings
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import Substr

from geogrid.hierarchy import Level, code_lengths
from geogrid.models import Grid
from layers.appeals.models import Appeal
from layers.whistles.models import Rating, Whistle, WhistleUnit

U = WhistleUnit.Status


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def departments(district: str, start: dt.datetime, end: dt.datetime) -> list[dict]:
    rows = (WhistleUnit.objects
            .filter(whistle__district_code=district, notified_at__gte=start,
                    notified_at__lt=end)
            .values("department__code", "department__name_zh")
            .annotate(
                called=Count("id"),
                reported=Count("id", filter=Q(reported_at__isnull=False)),
                on_time=Count("id", filter=Q(reported_at__lte=F("report_due_at"))),
                response=Avg(ExpressionWrapper(F("reported_at") - F("notified_at"),
                                               output_field=DurationField())),
                done=Count("id", filter=Q(status=U.DONE)),
                released=Count("id", filter=Q(status=U.RELEASED)),
                refused=Count("id", filter=Q(refused_reason__gt="")),
                rated=Count("id", filter=~Q(rating="")),
                satisfied=Count("id", filter=Q(rating=Rating.SATISFIED)),
                basically=Count("id", filter=Q(rating=Rating.BASICALLY)),
                first_time=Count("id", filter=Q(rating__in=(Rating.SATISFIED,
                                                            Rating.BASICALLY), sent_back=0)))
            .order_by("department__code"))
    out = []
    for r in rows:
        response = r["response"]
        out.append({
            "department": r["department__code"], "name": r["department__name_zh"],
            "called": r["called"], "reported": r["reported"], "on_time": r["on_time"],
            "done": r["done"], "released": r["released"], "refused": r["refused"],
            "rated": r["rated"], "satisfied": r["satisfied"], "basically": r["basically"],
            "report_rate": _rate(r["reported"], r["called"]),
            "on_time_rate": _rate(r["on_time"], r["called"]),
            "completion_rate": _rate(r["done"], r["called"] - r["released"]),
            "satisfaction_rate": _rate(r["first_time"], r["rated"]),
            "mean_response_min": (round(response.total_seconds() / 60, 1)
                                  if response is not None else None),
        })
    return out


def subdistricts(district: str, start: dt.datetime, end: dt.datetime) -> list[dict]:
    factor = float(settings.GEOGRID["WHISTLES"]["RATE_FLAG_FACTOR"])
    names = dict(Grid.objects.current().filter(level=Level.SUBDISTRICT,
                                               code__startswith=district)
                 .values_list("code", "name"))
    appeals = dict(Appeal.objects.filter(
        district_code=district, reported_at__gte=start, reported_at__lt=end,
        grid__isnull=False).annotate(sub=Substr("grid__code", 1, code_lengths()[Level.SUBDISTRICT]))
        .values("sub").annotate(n=Count("id")).values_list("sub", "n"))
    whistles = dict(Whistle.objects.filter(
        district_code=district, blown_at__gte=start, blown_at__lt=end)
        .values("subdistrict__code").annotate(n=Count("id"))
        .values_list("subdistrict__code", "n"))
    rows = []
    for code in sorted(names):
        n_app, n_wh = appeals.get(code, 0), whistles.get(code, 0)
        rows.append({"subdistrict": code, "name": names[code], "appeals": n_app,
                     "whistles": n_wh,
                     "per_100_appeals": round(100 * n_wh / n_app, 2) if n_app else None})
    rates = [r["per_100_appeals"] for r in rows if r["per_100_appeals"] is not None]
    median = statistics.median(rates) if rates else None
    for r in rows:
        rate = r["per_100_appeals"]
        r["flag"] = None
        if rate is not None and median:
            if rate < median / factor:
                r["flag"] = "low"
            elif rate > median * factor:
                r["flag"] = "high"
    return rows


def figures(district: str, start: dt.datetime, end: dt.datetime) -> dict:
    subs = subdistricts(district, start, end)
    rates = [r["per_100_appeals"] for r in subs if r["per_100_appeals"] is not None]
    whistles = Whistle.objects.filter(district_code=district, blown_at__gte=start,
                                      blown_at__lt=end)
    return {
        "district": district, "start": start.isoformat(), "end": end.isoformat(),
        "whistles": whistles.count(),
        "by_reason": dict(whistles.values("reason").annotate(n=Count("id"))
                          .values_list("reason", "n")),
        "median_per_100_appeals": statistics.median(rates) if rates else None,
        "departments": departments(district, start, end),
        "subdistricts": subs,
    }
