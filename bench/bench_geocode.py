"""Address matching: accuracy and throughput of the geocoder against the matcher it replaced.

    .venv/bin/python bench/bench_geocode.py [--dir var/sample/county-1] [--repeat 3]

Both matchers are built from the same rows the database query of
`layers.buildings.geocoding.address_index` yields, read here from the sample's buildings.gpkg
(no database needed), and asked the same spellings of the sample's own standard addresses
(`tests/layers/buildings/spellings.py`, seed 12). The baseline is the module as it was at
BASELINE_COMMIT, loaded with `git show`. Prints, per matcher and kind of spelling: right, wrong
(a building other than the expected one, or any building where none is right) and no answer;
then index build time and lookups per second, best of --repeat passes over: every k-th
spelling (--timed of them), the register spellings alone, and the sample's address-only
hotline rows (appeals.csv rows without coordinates, which the hotline importer geocodes).
Last, two probes the spellings do not judge (they come from the same hands as the matcher):
names of 3,000 buildings with one character replaced by a random common character, and 3,000
made-up names of two random common characters and an estate/road suffix, each followed by a
building number — counting how often each matcher answers a building, and which. Without --dir
the county sample is generated into a temporary directory (python -m fixtures.city).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
import types
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geogrid.settings")

import django  # noqa: E402

django.setup()

import pyogrio  # noqa: E402
from django.conf import settings  # noqa: E402

from layers.buildings import geocoding  # noqa: E402
from tests.layers.buildings.spellings import (  # noqa: E402
    NEGATIVE_KINDS,
    POSITIVE_KINDS,
    Spelling,
    same_text_same_answer,
    spellings,
    standards,
)

# Common characters for the probes (frequency list order, no estate/road suffixes).
COMMON = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能"
          "下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加"
          "量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与"
          "关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者"
          "最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流级少图"
          "山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光即"
          "保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更")


def probes(rows: list[tuple], seed: int = 5) -> dict[str, list[tuple[str, int]]]:
    """(text, the building it was made from) per probe; see the module docstring."""
    rng = random.Random(seed)
    picked = rng.sample(rows, min(3000, len(rows)))
    names = {r[2] for r in rows}
    replaced, made_up = [], []
    for bid, address, place, number, *_ in picked:
        word = address[len(address.rstrip("幢栋号")):] or "号"
        k = rng.randrange(len(place))
        text = place[:k] + rng.choice(COMMON) + place[k + 1:]
        if text not in names:
            replaced.append((f"{text}{number}{word}", bid))
        text = rng.choice(COMMON) + rng.choice(COMMON) + rng.choice(
            ["小区", "花园", "新村", "家园", "路", "街"])
        if text not in names:
            made_up.append((f"{text}{number}{word}", -1))
    return {"one character replaced at random": replaced, "made-up names": made_up}


def run_probes(results: list[dict], builders: list[Callable[[], object]],
               rows: list[tuple]) -> None:
    threshold = settings.GEOGRID["GEOCODE_MIN_SCORE"]
    address = {r[0]: r[2] for r in rows}
    print()
    for label, items in probes(rows).items():
        for r, build in zip(results, builders, strict=True):
            index: Any = build()
            hits = [(text, made_from, index.lookup(text, threshold)) for text, made_from in items]
            found = [(t, m, h) for t, m, h in hits if h is not None]
            same = sum(1 for _t, m, h in found if h.building_id == m)
            others = [f"{t} → {address[h.building_id]}" for t, m, h in found
                      if h.building_id != m]
            made = f" ({same} the one the name was made from)" if items[0][1] >= 0 else ""
            print(f"probe '{label}' ({len(items):,}), {r['name']}: a building for {len(found)}"
                  + made + (f"; e.g. {', '.join(others[:4])}" if others else ""))


# The last commit of the rapidfuzz matcher (before the numeral/typo-aware one).
BASELINE_COMMIT = "eba607ea57293e697ab76a58ec1ecfe2ea8780d8"


def baseline_module() -> types.ModuleType:
    source = subprocess.run(
        ["git", "show", f"{BASELINE_COMMIT}:layers/buildings/geocoding.py"], cwd=ROOT,
        check=True, capture_output=True, text=True).stdout
    module = types.ModuleType("geocoding_baseline")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, "geocoding_baseline.py", "exec"), module.__dict__)
    return module


def sample_dir(given: Path | None) -> Path:
    if given is not None:
        return given
    default = ROOT / "var" / "sample" / "county-1"
    if (default / "buildings.gpkg").exists():
        return default
    out = Path(tempfile.mkdtemp(prefix="county-"))
    subprocess.run([sys.executable, "-m", "fixtures.city", "--scale", "county", "--seed", "1",
                    "--out", str(out)], cwd=ROOT, check=True, capture_output=True)
    return out


def hotline_rows(directory: Path) -> list[str]:
    with (directory / "appeals.csv").open(encoding="utf-8", newline="") as f:
        return [row["address"] for row in csv.DictReader(f)
                if row["address"] and not row["lon"]]


def load(directory: Path) -> tuple[list[tuple], list[str], dict[int, str], list[Spelling]]:
    """Index rows (id, address, estate_or_road, building_no, aliases, lon, lat), division
    names, id → source id, and the spellings."""
    frame = pyogrio.read_dataframe(directory / "buildings.gpkg", layer="buildings")
    rows, keys = [], {}
    for i, b in enumerate(frame.itertuples(), start=1):
        rows.append((i, b.address, b.estate_or_road, str(b.building_no), "", b.geometry.x,
                     b.geometry.y))
        keys[i] = b.building_id
    names = [n for layer in ("district", "subdistrict", "community")
             for n in pyogrio.read_dataframe(directory / "grids.gpkg", layer=layer).name]
    register = standards(((b.building_id, b.address, b.estate_or_road, str(b.building_no),
                           b.units) for b in frame.itertuples()), names)
    return rows, names, keys, same_text_same_answer(spellings(register))


def measure(name: str, build: Callable[[], object], keys: dict[int, str],
            items: list[Spelling], batches: dict[str, list[str]], repeat: int) -> dict:
    threshold = settings.GEOGRID["GEOCODE_MIN_SCORE"]
    started = time.perf_counter()
    index: Any = build()
    build = time.perf_counter() - started
    tally: dict[str, Counter] = {}
    for s in items:
        hit = index.lookup(s.text, threshold)
        got = None if hit is None else keys[hit.building_id]
        verdict = ("none" if got is None and s.expected is not None
                   else "right" if got == s.expected else "wrong")
        tally.setdefault(s.kind, Counter())[verdict] += 1
    speed = {}
    for label, batch in batches.items():
        best = float("inf")
        for _ in range(repeat):
            started = time.perf_counter()
            for text in batch:
                index.lookup(text, threshold)
            best = min(best, time.perf_counter() - started)
        speed[label] = len(batch) / best
    return {"name": name, "build": build, "tally": tally, "speed": speed}


def report(results: list[dict], items: list[Spelling], buildings: int) -> None:
    positives = [s for s in items if s.expected is not None]
    print(f"{buildings:,} buildings, {len(items):,} spellings ({len(positives):,} of a "
          f"building, {len(items) - len(positives):,} that must find nothing)\n")
    header = "| kind | n | " + " | ".join(
        f"{r['name']} right / wrong / none" for r in results) + " |"
    print(header)
    print("|" + "---|" * (2 + len(results)))
    for kind in (*POSITIVE_KINDS, *NEGATIVE_KINDS):
        n = sum(results[0]["tally"].get(kind, Counter()).values())
        if n:
            cells = []
            for r in results:
                c = r["tally"].get(kind, Counter())
                cells.append(f"{c['right']} / {c['wrong']} / {c['none']}")
            print(f"| {kind} | {n} | " + " | ".join(cells) + " |")
    print()
    for r in results:
        pos = sum((r["tally"].get(k, Counter()) for k in POSITIVE_KINDS), Counter())
        neg = sum((r["tally"].get(k, Counter()) for k in NEGATIVE_KINDS), Counter())
        n_pos = sum(pos.values())
        print(f"{r['name']}: of {n_pos:,} spellings of a building {pos['right'] / n_pos:.2%} "
              f"right, {pos['wrong']} wrong, {pos['none'] / n_pos:.2%} no answer; "
              f"{neg['wrong']} of {sum(neg.values())} that must find nothing found a building; "
              f"index built in {r['build'] * 1000:.0f} ms; lookups/s: "
              + ", ".join(f"{label} {v:,.0f}" for label, v in r["speed"].items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=None, help="a generated sample city")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timed", type=int, default=20_000,
                        help="spellings in the timed mix (every k-th of all)")
    args = parser.parse_args()
    directory = sample_dir(args.dir)
    rows, names, keys, items = load(directory)
    step = max(1, len(items) // args.timed)
    register = [s.text for s in items if s.kind == "register"]
    batches = {
        f"mix of {len(items[::step]):,} spellings": [s.text for s in items[::step]],
        f"{len(register[::step]):,} register spellings": register[::step],
        f"{len(hotline_rows(directory))} hotline rows": hotline_rows(directory),
    }
    baseline = baseline_module()
    builders: list[Callable[[], object]] = [
        lambda: baseline.AddressIndex(rows, ()),
        lambda: geocoding.AddressIndex(rows, (), names),
    ]
    results = [measure(name, build, keys, items, batches, args.repeat)
               for name, build in zip(("baseline (rapidfuzz)", "new"), builders, strict=True)]
    print(f"sample: {directory}")
    report(results, items, len(rows))
    run_probes(results, builders, rows)


if __name__ == "__main__":
    main()
