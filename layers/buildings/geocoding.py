"""Free-text Chinese addresses → buildings of the standard-address register, with the unit,
floor and room when the text has them.

Used by appeal intake and the hotline importer (`geocode`, `AddressIndex.lookup` →
`GeocodeHit`) and by the household-register importer, which places a person in a dwelling:

    parse_address(text: str, min_score: float | None = None) -> ParsedAddress
    AddressIndex.lookup_detail(text: str, min_score: float) -> ParsedAddress

    ParsedAddress(building_id: int | None,   # None: no answer, `reason` says why
                  unit_no: int | None,       # 2单元, 1-2-301 → 2
                  floor: int | None,         # 3楼 / 3层, else from a room number (502 → 5)
                  room_no: str | None,       # "301" (301室, 三零一, 20号 after the building)
                  place: str, building_no: str,   # as in the register
                  how: str, score: float,    # as in GeocodeHit
                  reason: str,               # "" or one of the REASON_* codes below
                  hit: GeocodeHit | None)

How a text is read (each step only when the one before found nothing):
1. exact: the normalised text (NFKC, no spaces, 栋/号楼/座/# → 幢) is a full address, an
   address without its division prefix, or an alias — or one of these followed by nothing
   but dwelling digits (洋坊新村9幢20号, …9幢2单元301室), the hotline's usual spelling.
2. estate: every estate/road name (or alias) written exactly in the text, found with an index
   of first character pairs (so the cost grows with the text, not the register). After the
   name, Chinese numerals are read as digits (一幢, 十二号楼, 第三栋, 两单元, 三零一) and the
   building number is taken from what follows: `9幢`, `9号楼`, `9#`, `9栋`, `9号` (road door),
   `9楼` straight after the name, `9` at the end or before `-` (1-2-301); then an optional unit
   (`2单元`, `2-301`), floor (`3楼`, `3层`) and room (`301室`, `301`, `20号`). Whatever comes
   before the name (福建省三明市沙县区…社区, 我家在) or after the numbers (门口, 附近, 旁边, 对面)
   is ignored.
3. fuzzy, one typo in the estate/road name: a homophone (桂坞佳园; every toneless reading
   of both characters, from `layers.buildings.pinyin`; score 95), a swapped or doubled
   character, or a dropped one in names of four or more characters where a name can start
   (`_dropped_ok`) (90), a near-homophone as southern speakers merge sounds, zh/z, n/l, h/f,
   -ng/-n (86). Windows of the text that overlap a name written exactly are not tried
   (西桥新村 is not a typo of 新桥新村). Of the readings followed by a building number, one
   inside a longer one is dropped (宏城城厝 is 宏城厝 with 城 typed twice, not 宏 + 盛城厝
   with a homophone); then the best tier decides.

Prefer no answer to a wrong one: when the readings of the deciding step name different
buildings (two places with the same number, the same estate name in two communities and
nothing in the text before it that tells which — the division words before the name are
compared with each candidate's address), when an exactly written name is followed by a number
that this estate does not have, or when a name is not followed by a building number, the
answer is None. `score` is the tier's (100 for exact/estate); below `min_score`
(GEOGRID["GEOCODE_MIN_SCORE"], 85) there is no answer either.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from django.conf import settings
from django.db import connection

from geogrid.hierarchy import Level
from layers.buildings import pinyin
from layers.buildings.numerals import arabic

REASON_EMPTY = "empty"  # nothing but spaces and punctuation
REASON_NO_PLACE = "no_place"  # no estate, road or alias of the register in the text
REASON_NO_NUMBER = "no_number"  # a place, but no building number after it
REASON_UNKNOWN_NUMBER = "unknown_number"  # the place has no building of that number
REASON_AMBIGUOUS = "ambiguous"  # equally good candidates name different buildings
REASON_LOW_SCORE = "low_score"  # the only match is a typo scoring below min_score

SCORE_EXACT = 100.0
SCORE_HOMOPHONE = 95.0
SCORE_EDIT = 90.0  # a swapped, dropped or extra character
SCORE_NEAR_HOMOPHONE = 86.0


_SPACES = re.compile(r"\s+")
_HASH = re.compile(r"(\d+)#楼?")
# Punctuation goes, but not a dash between digits: 府前路1-2号 is not 府前路12号.
_PUNCTUATION = re.compile(r"[,，。.、()（）—_/]|(?<!\d)-|-(?!\d)")
_DIGIT_SPACE = re.compile(r"(?<=\d)\s+(?=\d)")
_DASHES = re.compile(r"[－—–~～]")
_NUMBER = re.compile(r"\d+")


def normalise(text: str) -> str:
    """One spelling per address: '洋坊新村 ９号楼' and '洋坊新村9#' both become '洋坊新村9幢'."""
    t = unicodedata.normalize("NFKC", text or "")  # full-width digits, letters, '＃', spaces
    t = _SPACES.sub("", _DIGIT_SPACE.sub("-", t)).lower()
    t = t.replace("號樓", "幢").replace("号楼", "幢").replace("栋", "幢").replace("棟", "幢")
    t = t.replace("座", "幢")
    if "#" in t:
        t = _HASH.sub(r"\1幢", t)
    t = t.replace("幢楼", "幢")
    return _PUNCTUATION.sub("", t)


def _clean(text: str) -> str:
    """NFKC and lower case; spaces go, except between two digits ('9 301' → '9-301')."""
    t = unicodedata.normalize("NFKC", text or "").lower()
    if not t.isalnum():  # some space or punctuation to look at
        t = _SPACES.sub("", _DIGIT_SPACE.sub("-", t))
        t = _DASHES.sub("-", t)
    return t


def _digits(text: str) -> str:
    return _NUMBER.sub(lambda m: str(int(m.group())), text)  # 09 → 9


def _number_key(raw: str) -> str:
    """The register's building number as the text parser writes it: '09' → '9', '九' → '9',
    '12之1' → '12-1'."""
    if raw.isascii() and raw.isdigit():
        return str(int(raw))
    t = arabic(_clean(raw)).replace("之", "-")
    t = re.sub(r"(幢|栋|棟|号|號|楼|樓|#)$", "", t)
    return _digits(t)


@dataclass(frozen=True)
class GeocodeHit:
    building_id: int
    lon: float
    lat: float
    score: float
    how: str  # exact / estate / fuzzy


@dataclass(frozen=True)
class ParsedAddress:
    """A building of the register and the dwelling parts written after it; see the module
    docstring."""

    building_id: int | None
    unit_no: int | None = None
    floor: int | None = None
    room_no: str | None = None
    place: str = ""
    building_no: str = ""
    how: str = ""
    score: float = 0.0
    reason: str = ""
    hit: GeocodeHit | None = None


# --- the numbers after an estate or road name --------------------------------------------------

_MARK = r"号楼|幢楼|栋楼|号|幢|栋|座|#楼?|楼"  # after NFKC/arabic; 號/棟/樓 mapped below
_TRADITIONAL = str.maketrans({"號": "号", "棟": "栋", "樓": "楼", "層": "层", "單": "单",
                              "戶": "户", "內": "内", "區": "区"})
# Between the name and the number: 洋坊新村小区9幢, 洋坊新村里面的9号楼, 洋坊新村第9栋.
_FILLER = re.compile(r"(?:小区|里面|里边|里|内|的|[,、:])*第?")
# A building number: with a word after it (12-1号: a door of its own), or bare before '-',
# punctuation or the end (9-2-301: building 9, unit 2, room 301).
_BUILDING = re.compile(rf"(\d+(?:-\d{{1,2}})?)(?:{_MARK})|(\d+)(?=-|[,.;!?()。、;]|$)")
_SEP = re.compile(r"[,、:()]*")
_UNIT_ROOM = re.compile(r"-?(\d{1,2})-(\d{1,5})(?!\d)")  # 2-301 after the building
_UNIT = re.compile(r"-?(\d{1,2})(?:单元|门|梯)")
_FLOOR = re.compile(r"-?(\d{1,2})(?:楼|层|f)")
_ROOM = re.compile(r"-?(\d{1,5})(?:室|房|号|户)|-?(\d{3,5})(?!\d)")
_LONE = re.compile(r"-(\d{1,5})(?!\d)")
# On a normalised text: an address ending in its building number, then dwelling parts only.
_ADDRESS_THEN_DWELLING = re.compile(r"(\D.*?\d+[幢号])([\d\-单元门梯楼层室房号户f]+)$")


@dataclass
class _Numbers:
    building: str | None = None
    end: int = 0  # characters of the rest taken by the building token
    unit: int | None = None
    floor: int | None = None
    room: str | None = None
    rest: str = ""  # the text after the name, numerals in Arabic digits


def _skip(rest: str, pos: int) -> int:
    """Past separators between the parts of a dwelling (2单元、301)."""
    m = _SEP.match(rest, pos)
    return m.end() if m else pos


def _read_numbers(rest: str, need_building: bool) -> _Numbers | None:
    """The building token at the start of `rest` (after an estate/road name; numerals already
    Arabic) and the unit/floor/room after it. None when a building number is needed and there
    is none."""
    out = _Numbers(rest=rest)
    pos = 0
    if need_building:
        filler = _FILLER.match(rest)
        pos = filler.end() if filler else 0
        m = _BUILDING.match(rest, pos)
        if m is None:
            return None
        out.building = _digits(m.group(1) or m.group(2))
        pos = out.end = m.end()
    pos = _skip(rest, pos)
    m2 = _UNIT_ROOM.match(rest, pos)
    if m2:
        out.unit, out.room = int(m2.group(1)), m2.group(2)
    else:
        m3 = _UNIT.match(rest, pos)
        if m3:
            out.unit, pos = int(m3.group(1)), m3.end()
            pos = _skip(rest, pos)
        m4 = _FLOOR.match(rest, pos)
        if m4:
            out.floor, pos = int(m4.group(1)), m4.end()
            pos = _skip(rest, pos)
        m5 = _ROOM.match(rest, pos)
        if m5:
            out.room = m5.group(1) or m5.group(2)
        elif out.unit is None and out.floor is None:
            lone = _LONE.match(rest, pos)  # 9-301: a room; 9-2: a unit
            if lone:
                if len(lone.group(1)) >= 3:
                    out.room = lone.group(1)
                else:
                    out.unit = int(lone.group(1))
    if out.room is not None and out.floor is None and len(out.room) >= 3:
        out.floor = int(out.room[:-2])  # 502 is on the fifth floor
    return out


# --- the index ---------------------------------------------------------------------------------


@dataclass
class _Place:
    """An estate or road (numbers → buildings), or an alias (one building)."""

    name: str
    numbers: dict[str, list[int]] = field(default_factory=dict)
    alias_of: int | None = None


@dataclass
class _Candidate:
    place: _Place
    start: int
    end: int
    score: float
    how: str


@dataclass
class _Named:
    """A name found in the text, the numbers after it and the buildings they name (several:
    the same estate name and number in two communities)."""

    candidate: _Candidate
    numbers: _Numbers
    buildings: list[int]

    @property
    def start(self) -> int:
        return self.candidate.start

    @property
    def end(self) -> int:
        return self.candidate.end


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


_HAN_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff〇]+")


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or ch == "〇"


class AddressIndex:
    def __init__(self, rows: list[tuple], signature: tuple,
                 divisions: Iterable[str] = ()) -> None:
        """`rows`: (id, address, estate_or_road, building_no, aliases, lon, lat) per building;
        `divisions`: names of districts, subdistricts and communities (see _dropped_ok)."""
        self.signature = signature
        self.divisions = _division_words(divisions)
        self.division_lengths = sorted({len(d) for d in self.divisions}, reverse=True)
        self.points: dict[int, tuple[float, float]] = {}
        self.exact: dict[str, int | None] = {}  # None: two buildings share the spelling
        self.prefix: dict[int, str] = {}  # the division part of each address
        self.by_place: dict[str, _Place] = {}
        spelt: dict[str, tuple[str, str]] = {}  # place → (as searched, as normalised)
        for bid, address, place, number, aliases, lon, lat in rows:
            self.points[bid] = (lon, lat)
            if place not in spelt:
                spelt[place] = (_clean(place), normalise(place))
            place_n, place_key = spelt[place]
            full = normalise(address)
            self._exact(full, bid)
            at = full.find(place_key) if place_n else -1
            if at >= 0:
                self._exact(full[at:], bid)  # without the division prefix
            cleaned = _clean(address)
            self.prefix[bid] = cleaned[:max(cleaned.find(place_n), 0)] if place_n else ""
            for alias in filter(None, (aliases or "").splitlines()):
                self._exact(normalise(alias), bid)
                name = _clean(alias)
                if len(name) >= 2:
                    entry = self.by_place.setdefault("\0" + name, _Place(name, alias_of=bid))
                    if entry.alias_of != bid:
                        entry.alias_of = None  # one alias, two buildings: it names neither
            if len(place_n) >= 2 and number:
                entry = self.by_place.setdefault(place_n, _Place(place_n))
                entry.numbers.setdefault(_number_key(str(number)), []).append(bid)
        self._build_search()

    def _exact(self, key: str, bid: int) -> None:
        if key and self.exact.setdefault(key, bid) != bid:
            self.exact[key] = None

    def _build_search(self) -> None:
        # Exact names by their first two characters: one dict probe per text position.
        self.starts: dict[str, list[_Place]] = {}
        for entry in self.by_place.values():
            self.starts.setdefault(entry.name[:2], []).append(entry)
        for group in self.starts.values():
            group.sort(key=lambda e: -len(e.name))
        # Typo keys of estate/road names (aliases are matched exactly only).
        self.substituted: dict[str, list[tuple[_Place, int]]] = {}  # one character blanked
        self.edits: dict[str, list[_Place]] = {}  # swapped or dropped character
        self.names: dict[str, _Place] = {}
        self.lengths: set[int] = set()
        for key, entry in self.by_place.items():
            if key.startswith("\0") or not all(map(_is_han, entry.name)):
                continue
            name = entry.name
            self.names[name] = entry
            self.lengths.add(len(name))
            for i in range(len(name)):
                self.substituted.setdefault(name[:i] + "\0" + name[i + 1:], []).append(
                    (entry, i))
            for i in range(len(name) - 1):
                swapped = name[:i] + name[i + 1] + name[i] + name[i + 2:]
                if swapped != name:
                    _add(self.edits, swapped, entry)
            if len(name) >= 4:  # a three-character name less one is too common a word
                for i in range(len(name)):
                    _add(self.edits, name[:i] + name[i + 1:], entry)
        self.edit_lengths = sorted({len(k) for k in self.edits})

    # -- lookups -------------------------------------------------------------------------------

    def lookup(self, text: str, min_score: float) -> GeocodeHit | None:
        return self.lookup_detail(text, min_score).hit

    def lookup_detail(self, text: str, min_score: float) -> ParsedAddress:
        whole = normalise(text)
        if not whole:
            return ParsedAddress(None, reason=REASON_EMPTY)
        if whole in self.exact:  # the common case of the importers: a register spelling
            bid = self.exact[whole]
            if bid is not None:
                return self._answer(bid, _Numbers(), None, SCORE_EXACT, "exact")
        # The hotline's usual case: a register spelling and then only the dwelling (…9幢20号).
        head = _ADDRESS_THEN_DWELLING.match(whole)
        if head and self.exact.get(head.group(1)) is not None:
            numbers = _read_numbers(head.group(2), need_building=False)
            bid = self.exact[head.group(1)]
            if numbers is not None and bid is not None:
                return self._answer(bid, numbers, None, SCORE_EXACT, "exact")
        q = _clean(text)
        exact = self._exact_names(q)
        named = [r for c in exact if (r := self._resolve(q, c)) is not None]
        if named:
            return self._decide(q, named, min_score)
        if any(c.place.alias_of is None and self._numbers_after(q, c) is not None
               for c in exact):
            return ParsedAddress(None, reason=REASON_UNKNOWN_NUMBER)
        taken = [(c.start, c.end) for c in exact]
        typos = [c for c in self._typos(q) if not any(c.start < e and s < c.end for s, e in taken)]
        # Of the typo readings that name a building, the longest reading of a stretch of text
        # wins across tiers (宏城城厝 is 宏城厝 with 城 typed twice, not 宏 and then 盛城厝 with
        # a homophone); then the best tier.
        named = _outermost([r for c in typos if (r := self._resolve(q, c)) is not None])
        for score in (SCORE_HOMOPHONE, SCORE_EDIT, SCORE_NEAR_HOMOPHONE):
            tier = [r for r in named if r.candidate.score == score]
            if tier:
                return self._decide(q, tier, min_score)
        return ParsedAddress(None, reason=REASON_NO_NUMBER if exact or typos
                             else REASON_NO_PLACE)

    def _resolve(self, q: str, c: _Candidate) -> _Named | None:
        """The buildings a name found in the text names with the number after it, if any."""
        numbers = self._numbers_after(q, c)
        if numbers is None:
            return None
        if c.place.alias_of is not None:
            return _Named(c, numbers, [c.place.alias_of])
        bids = c.place.numbers.get(numbers.building or "", [])
        if len(bids) > 1:
            bids = self._by_division(q[:c.start], bids)
        return _Named(c, numbers, bids) if bids else None

    def _decide(self, q: str, named: list[_Named], min_score: float) -> ParsedAddress:
        """The one building that the names found name; no answer when they name several or
        score too low."""
        buildings = {bid: r for r in named for bid in r.buildings}
        if len(buildings) > 1:
            return ParsedAddress(None, reason=REASON_AMBIGUOUS)
        (bid, r), = buildings.items()
        c, numbers = r.candidate, r.numbers
        if c.score < min_score:
            return ParsedAddress(None, reason=REASON_LOW_SCORE)
        how = c.how
        if how == "estate":
            # The register's spelling, perhaps with the dwelling after it: 洋坊新村9幢20号.
            core = normalise(q[:c.end] + numbers.rest[:numbers.end])
            if c.place.alias_of is not None or self.exact.get(core) == bid:
                how = "exact"
        return self._answer(bid, numbers, c, c.score, how)

    def _numbers_after(self, q: str, c: _Candidate) -> _Numbers | None:
        rest = arabic(q[c.end:]).translate(_TRADITIONAL)
        return _read_numbers(rest, need_building=c.place.alias_of is None)

    def _by_division(self, before: str, bids: list[int]) -> list[int]:
        """Of buildings sharing estate name and number, the one whose division words (社区,
        街道 …) the text before the name shares most; all of them (no answer) when that does
        not decide."""
        words = _bigrams(before)
        scores = [len(words & _bigrams(self.prefix[b])) for b in bids]
        best = max(scores)
        winners = [b for b, s in zip(bids, scores, strict=True) if s == best]
        return winners if best > 0 and len(winners) == 1 else bids

    def _answer(self, bid: int, numbers: _Numbers, c: _Candidate | None, score: float,
                how: str) -> ParsedAddress:
        lon, lat = self.points[bid]
        hit = GeocodeHit(bid, lon, lat, score, how)
        place = "" if c is None or c.place.alias_of is not None else c.place.name
        return ParsedAddress(bid, numbers.unit, numbers.floor, numbers.room, place,
                             numbers.building or "", how, score, "", hit)

    # -- where names are written in the text ---------------------------------------------------

    def _exact_names(self, q: str) -> list[_Candidate]:
        found: list[_Candidate] = []
        for i in range(len(q) - 1):
            for entry in self.starts.get(q[i:i + 2], ()):
                if q.startswith(entry.name, i):
                    found.append(_Candidate(entry, i, i + len(entry.name), SCORE_EXACT,
                                            "estate"))
        return _outermost(found)

    def _typos(self, q: str) -> list[_Candidate]:
        """Every window of the text that is a name with one typo, scored by its tier."""
        runs = [(m.start(), m.end()) for m in _HAN_RUN.finditer(q)]
        found = self._edits(q, runs)
        for entry, i, j, written, meant in self._substitutions(q, runs):
            # Every reading on both sides: 乐 is lè and yuè, 长 cháng and zhǎng.
            heard, said = pinyin.readings(written), pinyin.readings(meant)
            if set(heard) & set(said):
                found.append(_Candidate(entry, i, j, SCORE_HOMOPHONE, "fuzzy"))
            elif {pinyin.fuzzy(r) for r in heard} & {pinyin.fuzzy(r) for r in said}:
                found.append(_Candidate(entry, i, j, SCORE_NEAR_HOMOPHONE, "fuzzy"))
        return found

    @staticmethod
    def _windows(runs: list[tuple[int, int]], lengths: Iterable[int],
                 ) -> Iterator[tuple[int, int]]:
        """Spans of `lengths` characters inside runs of Chinese characters."""
        for start, end in runs:
            for n in lengths:
                for i in range(start, end - n + 1):
                    yield i, i + n

    def _substitutions(self, q: str, runs: list[tuple[int, int]],
                       ) -> list[tuple[_Place, int, int, str, str]]:
        """(place, start, end, written, meant): windows of the text that are a name with one
        character written differently."""
        found = []
        for i, j in self._windows(runs, self.lengths):
            window = q[i:j]
            for k in range(len(window)):
                for entry, at in self.substituted.get(window[:k] + "\0" + window[k + 1:], ()):
                    found.append((entry, i, j, window[k], entry.name[at]))
        return found

    def _edits(self, q: str, runs: list[tuple[int, int]]) -> list[_Candidate]:
        found = []
        for i, j in self._windows(runs, self.edit_lengths):
            for entry in self.edits.get(q[i:j], ()):
                if j - i == len(entry.name) or self._dropped_ok(q, i):
                    found.append(_Candidate(entry, i, j, SCORE_EDIT, "fuzzy"))
        for i, j in self._windows(runs, [n + 1 for n in self.lengths]):
            window = q[i:j]
            for k in range(1, len(window) - 1):  # an extra character inside the name
                meant = self.names.get(window[:k] + window[k + 1:])
                if meant is not None:
                    found.append(_Candidate(meant, i, j, SCORE_EDIT, "fuzzy"))
        return found


    def _dropped_ok(self, q: str, start: int) -> bool:
        """Whether a name less one character may start here: where a name starts — at the
        start, after punctuation or a digit, after a division name (罗布社区, 罗布, 凤岗街道) or
        a word such as 在 — and not straight after other characters, which more likely belong
        to another name (大华小区 is not 华湾小区 less 湾)."""
        if start == 0 or not _is_han(q[start - 1]):
            return True
        before = q[:start]
        return before.endswith(_BEFORE_A_NAME) or any(
            before[-n:] in self.divisions for n in self.division_lengths if n <= len(before))


# Words after which an address starts (我家在…, 家住…, 位于…) and endings of division names.
_BEFORE_A_NAME = ("在", "住", "于", "近", "到", "是", "的", "和", "与", "省", "市", "区", "县",
                  "镇", "乡", "村", "街道")


def _division_words(names: Iterable[str]) -> set[str]:
    """Division names and their short forms: 罗布社区 → 罗布, 凤岗街道 → 凤岗, 沙县区 → 沙县."""
    out = set()
    for name in names:
        name = _clean(name)
        out.add(name)
        for suffix in ("街道", "社区", "居委会", "村委会", "区", "县", "市", "镇", "乡", "村"):
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                out.add(name[:-len(suffix)])
    return {n for n in out if len(n) >= 2}


_Span = TypeVar("_Span", _Candidate, _Named)


def _outermost(found: list[_Span]) -> list[_Span]:
    """Without the names found inside a longer one: 洋坊新村 in 洋坊新村二区 is not meant, nor
    宏坪花园 less 坪 in 城宏花园 (宏城花园 with two characters swapped)."""
    return [c for c in found if not any(
        o.start <= c.start and c.end <= o.end and o.end - o.start > c.end - c.start
        for o in found)]


def _add(index: dict[str, list[_Place]], key: str, entry: _Place) -> None:
    group = index.setdefault(key, [])
    if entry not in group:
        group.append(entry)


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
            rows = cursor.fetchall()
            # Division names tell where a name may start (_dropped_ok); a rename of a grid is
            # seen at the next change of the register.
            cursor.execute("SELECT DISTINCT name FROM geogrid_grid WHERE level <= %s"
                           " AND valid_to IS NULL", [Level.COMMUNITY])
            _index = AddressIndex(rows, signature, [name for (name,) in cursor.fetchall()])
        return _index


def _threshold(min_score: float | None) -> float:
    return settings.GEOGRID["GEOCODE_MIN_SCORE"] if min_score is None else min_score


def geocode(text: str, min_score: float | None = None) -> GeocodeHit | None:
    return address_index().lookup(text, _threshold(min_score))


def parse_address(text: str, min_score: float | None = None) -> ParsedAddress:
    """The building of `text` and the unit, floor and room written after it (see the module
    docstring); building_id None and a `reason` when there is no trustworthy answer."""
    return address_index().lookup_detail(text, _threshold(min_score))
