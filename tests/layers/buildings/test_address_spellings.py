"""The geocoder on ≥ 3,000 spellings of the small sample city's own standard addresses
(tests/layers/buildings/spellings.py): at least 95 % find their building, none finds a wrong
one, and the spellings that name no single building find nothing."""

from __future__ import annotations

from collections import Counter

from tests.layers.buildings.spellings import (
    NEGATIVE_KINDS,
    POSITIVE_KINDS,
    spellings,
    standards,
)

THRESHOLD = 85.0  # GEOGRID["GEOCODE_MIN_SCORE"]


def _verdicts(sample_register) -> tuple[dict[str, Counter], list[str]]:
    tally: dict[str, Counter] = {}
    wrong = []
    for s in sample_register.spellings:
        hit = sample_register.index.lookup(s.text, THRESHOLD)
        got = None if hit is None else sample_register.source_ids[hit.building_id]
        if got == s.expected:
            verdict = "right"
        elif got is None:
            verdict = "none"
        else:
            verdict = "wrong"
            wrong.append(f"{s.kind}: {s.text!r} → {got}, expected {s.expected}")
        tally.setdefault(s.kind, Counter())[verdict] += 1
    return tally, wrong


def test_the_spellings_cover_every_kind(sample_register):
    items = sample_register.spellings
    kinds = Counter(s.kind for s in items)
    assert set(kinds) == {*POSITIVE_KINDS, *NEGATIVE_KINDS}, kinds
    assert sum(1 for s in items if s.expected is not None) >= 3000
    # Every spelling of a building names a building of the sample.
    assert {s.expected for s in items} - {None} <= set(sample_register.ids)
    # One text, one expectation.
    expected: dict[str, str | None] = {}
    for s in items:
        assert expected.setdefault(s.text.replace(" ", ""), s.expected) == s.expected, s.text


def test_generation_is_repeatable():
    from tests.layers.buildings.spellings import Standard

    register = [Standard("1", "沙县区凤岗街道罗布社区洋坊新村9幢", "洋坊新村", "9", 2,
                         ("沙县区", "凤岗街道", "罗布社区")),
                Standard("2", "沙县区凤岗街道罗布社区峰湘路12号", "峰湘路", "12", 1,
                         ("沙县区", "凤岗街道", "罗布社区"))]
    assert spellings(register) == spellings(register)
    assert standards([("1", "沙县区凤岗街道罗布社区洋坊新村9幢", "洋坊新村", "9", 2)],
                     ["沙县区", "凤岗街道", "罗布社区"])[0].divisions == ("沙县区", "凤岗街道",
                                                                           "罗布社区")


def test_at_least_95_percent_right_and_none_wrong(sample_register):
    tally, wrong = _verdicts(sample_register)
    assert wrong == []
    positives = sum((tally[k] for k in POSITIVE_KINDS), Counter())
    share = positives["right"] / sum(positives.values())
    assert share >= 0.95, (share, tally)
    for kind in POSITIVE_KINDS:  # no kind may carry the others
        c = tally[kind]
        assert c["right"] / sum(c.values()) >= 0.9, (kind, c)
    for kind in NEGATIVE_KINDS:
        assert tally[kind]["right"] == sum(tally[kind].values()), (kind, tally[kind])


def test_unit_floor_and_room_are_read_where_written(sample_register):
    from layers.buildings.geocoding import AddressIndex

    index: AddressIndex = sample_register.index  # type: ignore[assignment]
    checked = mismatched = 0
    for s in sample_register.spellings:
        if s.expected is None or (s.unit, s.floor, s.room) == (None, None, None):
            continue
        parsed = index.lookup_detail(s.text, THRESHOLD)
        if sample_register.source_ids.get(parsed.building_id or -1) != s.expected:
            continue  # counted by the accuracy test
        checked += 1
        want = (s.unit, s.floor, s.room)
        got = (parsed.unit_no if s.unit is not None else None,
               parsed.floor if s.floor is not None else None,
               parsed.room_no if s.room is not None else None)
        mismatched += got != want
    assert checked >= 1000
    assert mismatched / checked <= 0.02, (mismatched, checked)


def test_the_hotline_importer_places_every_address_only_row(sample_register):
    # The sample's address-only appeals ('洋坊新村9幢20号') are geocoded on load; only the
    # appeals planted outside every grid stay unlocated.
    counts = sample_register.manifest["counts"]
    assert counts["appeals_unlocated"] >= 3
    assert sample_register.appeals_unlocated == counts["appeals_outside"]
