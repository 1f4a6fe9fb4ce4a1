"""The layer apps' own Chinese catalogues (layers/<app>/locale/zh_Hans/LC_MESSAGES/django.po)
are complete: every msgid has a msgstr, nothing is fuzzy, no msgid is there twice, and a
python-format entry keeps the placeholders of its msgid.

The .po files are read with a small parser of their own (no database, no new dependency)."""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = sorted(ROOT.glob("layers/*/locale/zh_Hans/LC_MESSAGES/django.po"))

# A printf-style conversion as Python's % operator reads it; "%%" is a literal percent sign.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +\-]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa%]")


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def msgid(self) -> str:
        return self.fields.get("msgid", "")

    def msgstrs(self) -> list[str]:
        return [v for k, v in self.fields.items() if k.startswith("msgstr")]


def parse(path: Path) -> list[Entry]:
    entries: list[Entry] = []
    entry: Entry | None = None
    key = ""
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            entry, key = None, ""
            continue
        if line.startswith("#~"):  # an obsolete entry: not looked up
            continue
        if entry is None:
            entry = Entry(number)
            entries.append(entry)
        if line.startswith("#,"):
            entry.flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            assert key, f"{path}:{number}: a string continues no keyword"
            entry.fields[key] += ast.literal_eval(line)
        else:
            key, _, text = line.partition(" ")
            assert key in {"msgctxt", "msgid", "msgid_plural"} or key.startswith("msgstr"), (
                f"{path}:{number}: unknown keyword {key!r}")
            entry.fields[key] = ast.literal_eval(text.strip())
    return [e for e in entries if "msgid" in e.fields]


def placeholders(text: str) -> Counter[str]:
    return Counter(p for p in PLACEHOLDER.findall(text) if p != "%%")


def test_the_layer_catalogues_are_found():
    apps = {path.parts[-5] for path in CATALOGUES}
    assert {"placards", "wishes", "volunteering", "shop"} <= apps, apps


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parts[-5])
def test_every_message_is_translated(path: Path):
    entries = parse(path)
    header = [e for e in entries if e.msgid == "" and "msgctxt" not in e.fields]
    assert len(header) == 1, f"{path}: one header entry expected"
    problems = []
    for e in entries:
        where = f"{path.relative_to(ROOT)}:{e.line} {e.msgid!r}"
        if "fuzzy" in e.flags:
            problems.append(f"{where}: fuzzy")
        if e is not header[0] and not all(s.strip() for s in e.msgstrs() or [""]):
            problems.append(f"{where}: no translation")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parts[-5])
def test_no_message_twice(path: Path):
    keys = Counter((e.fields.get("msgctxt"), e.msgid) for e in parse(path))
    twice = [key for key, n in keys.items() if n > 1]
    assert not twice, f"{path}: msgids more than once: {twice}"


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parts[-5])
def test_python_format_placeholders_are_kept(path: Path):
    problems = []
    for e in parse(path):
        if "python-format" not in e.flags:
            continue
        wanted = placeholders(e.msgid)
        for msgstr in e.msgstrs():
            got = placeholders(msgstr)
            if sum(got.values()) != sum(wanted.values()) or got != wanted:
                problems.append(f"{path.relative_to(ROOT)}:{e.line} {e.msgid!r}: "
                                f"{sorted(wanted.elements())} but {sorted(got.elements())}")
    assert not problems, "\n".join(problems)


def test_the_parser_sees_a_bad_entry(tmp_path: Path):
    po = tmp_path / "django.po"
    po.write_text('msgid ""\nmsgstr "Language: zh_Hans\\n"\n\n'
                  '#, fuzzy, python-format\nmsgid "at most %(n)d "\n"yuan"\nmsgstr ""\n',
                  encoding="utf-8")
    _header, entry = parse(po)
    assert entry.msgid == "at most %(n)d yuan" and entry.msgstrs() == [""]
    assert entry.flags == {"fuzzy", "python-format"}
    assert placeholders(entry.msgid) == Counter({"%(n)d": 1})
    assert placeholders("100%% %s") == Counter({"%s": 1})
