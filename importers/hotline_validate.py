"""Vectorised validation of a hotline export: importers.appeals.validate's rules and messages,
at column speed.

Each check runs in the reference's order. A check whose column is clean — the common case —
costs one vectorised pass (hash-based factorize for the few distinct categories, channels and
statuses; numpy string lengths; pandas' C ISO 8601 parser for times; one to_numeric per
coordinate column). Where a column has a problem, the rejections are the reference's: either
built the same way for the bad rows only, or by calling the reference check itself (duplicates,
over-long text, times that are not plain ISO 8601, coordinates that need a rejection), so the
report is the same row for row, message for message, in the same order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.utils import timezone
from django.utils.translation import gettext as _
from numpy.dtypes import StringDType

from geogrid import coords
from importers.hotline_reference import _times as reference_times
from importers.hotline_rows import (
    REQUIRED,
    STATUS_MAP,
    AppealImportParams,
    AppealImportReport,
    AppealRows,
    length_limits,
)
from importers.tables import (
    Table,
    check_filled,
    check_lengths,
    check_unique,
    coordinates_to_wgs84,
)
from layers.appeals.intake import allowed_channels
from layers.appeals.models import Category, Channel, Status


def column(table: Table, key: str, default: str = "") -> np.ndarray:
    """Our column `key` as an object array of str (`default` where the file lacks it)."""
    if table.has(key):
        return table.frame[table.mapping[key]].to_numpy(dtype=object)
    return np.full(len(table), default, dtype=object)


def validate(table: Table, params: AppealImportParams, report: AppealImportReport
             ) -> AppealRows:
    """The reference's validate, vectorised: the same rejections and the same AppealRows."""
    rows = table.rows
    check_filled(table, REQUIRED, report)
    _check_unique(table, report)
    _check_lengths(table, length_limits(), report)

    category_ids = dict(Category.objects.values_list("code", "id"))
    category = column(table, "category")
    cat_codes, cat_words = pd.factorize(category)
    cat_id = np.array([category_ids.get(w, -1) for w in cat_words] + [-1], dtype=np.int64)
    category_id = cat_id[cat_codes]
    unknown = (category_id < 0) & (category != "")
    report.reject_rows(rows[unknown], [_("unknown category %(code)r") % {"code": c}
                                       for c in category[unknown]], table.name("category"))

    channel = column(table, "channel")
    channel = np.where(channel == "", str(params.channel), channel).astype(object)
    ch_codes, ch_words = pd.factorize(channel)
    allowed = set(Channel.values) if params.actor is None else allowed_channels(params.actor)
    known = np.array([w in Channel.values for w in ch_words] + [False])[ch_codes]
    permitted = np.array([w in allowed for w in ch_words] + [False])[ch_codes]
    for bad, message in ((~known, _("unknown channel %(channel)r")),
                         (known & ~permitted,
                          _("you may not import appeals on the channel %(channel)r"))):
        report.reject_rows(rows[bad], [message % {"channel": c} for c in channel[bad]],
                           table.name("channel"))

    words = {**{s: s for s in Status.values}, **STATUS_MAP}
    st_codes, st_words = pd.factorize(column(table, "status"))
    lowered = np.array([w.lower() for w in st_words] + [""], dtype=object)
    mapped = np.array([None if words.get(w) is None else str(words[w]) for w in lowered[:-1]]
                      + [None], dtype=object)
    status_text, status = lowered[st_codes], mapped[st_codes]
    unmapped = np.array([m is None for m in mapped], dtype=bool)[st_codes]
    report.reject_rows(rows[unmapped], [_("unknown status %(status)r") % {"status": s}
                                        for s in status_text[unmapped]], table.name("status"))

    when_text = column(table, "reported_at")
    reported = _times(when_text)
    not_time = reported.isna() & (when_text != "")
    report.reject_rows(rows[not_time], [_("%(column)s %(value)r is not a date and time")
                                        % {"column": table.name("reported_at"), "value": v}
                                        for v in when_text[not_time]],
                       table.name("reported_at"))

    x_text, y_text = column(table, "x"), column(table, "y")
    has_xy = (x_text != "") | (y_text != "")
    crs = column(table, "crs")
    crs = np.where(crs == "", params.crs, crs).astype(object)
    x, y = to_float(x_text), to_float(y_text)
    found = _wgs84(x, y, crs, has_xy)
    if found is None:  # a row to reject: the reference words it
        lon, lat = coordinates_to_wgs84(table, report, params.crs, where=has_xy)
    else:
        lon, lat = found
    return AppealRows(
        row=rows,
        source_ref=column(table, "source_ref"),
        category_id=category_id,
        channel=channel,
        status=np.where(unmapped, "", status).astype(object),
        reported_at=reported,
        raw_x=np.where(has_xy, x, np.nan),
        raw_y=np.where(has_xy, y, np.nan),
        raw_crs=np.where(has_xy, crs, "").astype(object),
        lon=lon,
        lat=lat,
        address=column(table, "address"),
        description=column(table, "description"),
        contact_phone=column(table, "contact_phone"),
    )


def _check_unique(table: Table, report: AppealImportReport) -> None:
    values = column(table, "source_ref")
    if (pd.Series(values).duplicated(keep="first").to_numpy() & (values != "")).any():
        check_unique(table, "source_ref", report)


def _check_lengths(table: Table, limits: dict[str, int | None],
                   report: AppealImportReport) -> None:
    for key, limit in limits.items():
        if limit is None or not table.has(key):
            continue
        lengths = np.strings.str_len(column(table, key).astype(StringDType()))
        if (lengths > limit).any():
            check_lengths(table, {key: limit}, report)


def to_float(text: np.ndarray) -> np.ndarray:
    """importers.tables.to_float of an object array ('' and non-numbers → NaN). Its '，' → ','
    rewrite changes no answer: to_numeric reads neither as part of a number."""
    return pd.to_numeric(pd.Series(text, dtype=object), errors="coerce").to_numpy(dtype=float)


def _wgs84(x: np.ndarray, y: np.ndarray, crs: np.ndarray, where: np.ndarray,
           ) -> tuple[np.ndarray, np.ndarray] | None:
    """coordinates_to_wgs84's answer when it would reject nothing, else None."""
    n = len(x)
    lon, lat = np.full(n, np.nan), np.full(n, np.nan)
    if not (np.isfinite(x[where]).all() and np.isfinite(y[where]).all()):
        return None
    codes, names = pd.factorize(crs[where])
    chosen_rows = np.flatnonzero(where)
    for i, name in enumerate(names):
        try:
            system = coords.parse_crs(name)
        except coords.CoordinateError:
            return None
        chosen = chosen_rows[codes == i]
        lon[chosen], lat[chosen] = coords.to_wgs84(x[chosen], y[chosen], system)
    a_lon, a_lat = lon[where], lat[where]
    if not (np.isfinite(a_lon).all() and np.isfinite(a_lat).all()):
        return None
    if ((np.abs(a_lat) > 90) | (np.abs(a_lon) > 180)).any():
        return None
    return lon, lat


def _times(text: np.ndarray) -> pd.DatetimeIndex:
    """importers.appeals._times. pandas reads every string its ISO 8601 parser accepts the same
    way with format="mixed" (it tries that parser first), so a column that parses whole as ISO
    8601 with one kind of offset is the reference's answer; anything else goes to it."""
    if not (text != "").all():
        return reference_times(pd.Series(text, dtype=object))
    try:
        parsed = pd.DatetimeIndex(pd.to_datetime(pd.Series(text, dtype=object),
                                                 format="ISO8601"))
    except (ValueError, TypeError, OverflowError):
        return reference_times(pd.Series(text, dtype=object))
    zone = timezone.get_default_timezone()
    if parsed.tz is None:
        return parsed.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    return parsed.tz_convert(zone)
