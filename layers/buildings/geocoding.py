"""Free-text Chinese addresses → buildings of the standard-address register.

normalise (full-width → ASCII, spaces, 栋/号楼/座/# → 幢) → exact match on full addresses,
short addresses (estate/road + number) and aliases → else the estate or road named in the text
(substring, or fuzzy with a rapidfuzz score) plus the building number. Below the threshold
there is no answer: the appeal stays unlocated and is listed for a dispatcher to pin.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from rapidfuzz import fuzz, process

_TRAILING = re.compile(r"(\d+(室|户|号|单元|层|楼)|[a-z]\d*)$")
_BUILDING_NO = re.compile(r"(\d+)(幢|号)")


def normalise(text: str) -> str:
    """One spelling per address: '洋坊新村 ９号楼' and '洋坊新村9#' both become '洋坊新村9幢'."""
    t = unicodedata.normalize("NFKC", text or "")  # full-width digits, letters, '＃', spaces
    t = re.sub(r"\s+", "", t).lower()
    t = t.replace("号楼", "幢").replace("栋", "幢").replace("座", "幢")
    t = re.sub(r"(\d+)#楼?", r"\1幢", t)
    t = t.replace("幢楼", "幢")
    return re.sub(r"[,，。.、()（）\-—_/]", "", t)


@dataclass(frozen=True)
class GeocodeHit:
    building_id: int
    lon: float
    lat: float
    score: float
    how: str  # exact / estate / fuzzy


class AddressIndex:
    def __init__(self, rows: list[tuple], signature: tuple) -> None:
        self.signature = signature
        self.points: dict[int, tuple[float, float]] = {}
        self.exact: dict[str, int] = {}
        self.by_place: dict[str, dict[str, int]] = {}
        for bid, address, place, number, aliases, lon, lat in rows:
            self.points[bid] = (lon, lat)
            full = normalise(address)
            place_n = normalise(place)
            self.exact.setdefault(full, bid)
            at = full.find(place_n) if place_n else -1
            if at >= 0:
                self.exact.setdefault(full[at:], bid)  # without the division prefix
            for alias in filter(None, (aliases or "").splitlines()):
                self.exact.setdefault(normalise(alias), bid)
            if place_n and number:
                self.by_place.setdefault(place_n, {}).setdefault(normalise(str(number)), bid)
        # Longest names first, so '洋坊新村二区' wins over '洋坊新村'.
        self.places = sorted(self.by_place, key=len, reverse=True)

    def lookup(self, text: str, min_score: float) -> GeocodeHit | None:
        q = normalise(text)
        if not q:
            return None
        stripped = q
        for _ in range(3):
            bid = self.exact.get(stripped)
            if bid is not None:
                return self._hit(bid, 100.0, "exact")
            shorter = _TRAILING.sub("", stripped)
            if shorter == stripped:
                break
            stripped = shorter
        place = next((p for p in self.places if p in q), None)
        score, how = 100.0, "estate"
        if place is None and self.places:
            match = process.extractOne(q, self.places, scorer=fuzz.partial_ratio,
                                       score_cutoff=min_score)
            if match is None:
                return None
            place, score, how = match[0], float(match[1]), "fuzzy"
        if place is None:
            return None
        rest = q[q.find(place) + len(place):] if place in q else q
        numbers = _BUILDING_NO.findall(rest) or [(n, "") for n in re.findall(r"\d+", rest)]
        for number, _word in numbers:
            bid = self.by_place[place].get(number)
            if bid is not None:
                return self._hit(bid, score, how)
        return None

    def _hit(self, bid: int, score: float, how: str) -> GeocodeHit:
        lon, lat = self.points[bid]
        return GeocodeHit(bid, lon, lat, score, how)


_lock = threading.Lock()
_index: AddressIndex | None = None


def _signature(cursor) -> tuple:
    cursor.execute("SELECT count(*), max(id), sum(length(aliases)) FROM layers_building")
    return tuple(cursor.fetchone())


def address_index() -> AddressIndex:
    """The process's register index, rebuilt when buildings were added, removed or re-aliased."""
    global _index
    with _lock, connection.cursor() as cursor:
        signature = _signature(cursor)
        if _index is None or _index.signature != signature:
            cursor.execute(
                "SELECT id, address, estate_or_road, building_no, aliases,"
                " ST_X(location), ST_Y(location) FROM layers_building ORDER BY id"
            )
            _index = AddressIndex(cursor.fetchall(), signature)
        return _index


def geocode(text: str, min_score: float | None = None) -> GeocodeHit | None:
    threshold = settings.GEOGRID["GEOCODE_MIN_SCORE"] if min_score is None else min_score
    return address_index().lookup(text, threshold)
