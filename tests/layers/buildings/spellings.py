"""Spellings of the sample city's standard addresses, as residents and hotline operators write
them, each with the building it means (or None when no one could tell which).

Deterministic: the same buildings and seed give the same list. Used by the geocoding tests (the
small sample) and by bench/bench_geocode.py (the county sample). It does not use the matcher's
code or tables: the homophones below are written by hand for the characters the sample's name
generator (fixtures/city/naming.py) uses, so a typo the matcher misses counts as missed.

Kinds (about 26 spellings per building):
  register     the full address, the short one (estate/road + number), another building word
  format       full-width digits, spaces, 09, 9# / 號
  numerals     一幢, 第九栋, 十号楼, 五号十二楼, 两单元, 三〇一 / 三零一
  suffix       2单元301室, 3楼, 502, 9-2-301, 2-301, 20号, 3层
  prefix       福建省三明市沙县区…社区, 三明市沙县区, 沙县凤岗街道, 罗布社区, 罗布, 福建三明…
  surrounding  我家在…门口, …附近, …旁边, …对面, …楼下垃圾没人清理, 小区/里面的 before the
               number
  typo         one character of the estate/road name: a homophone (also with a numeral:
               桂坞佳园一幢), dropped (names of four or more characters), swapped with its
               neighbour, typed twice. A typo that another name with the same number is one
               typo away from, or that holds another name, is not used: no one could tell.
  combined     prefix + numerals + suffix + surrounding words, prefix + typo + suffix
and, expecting no answer:
  unknown_number  a number the estate/road does not have (12幢 where there are 10)
  no_number       the estate/road named without a building (…门口)
  unknown_place   places that are not in the register (人民公园东门, 火车站3号)
  ambiguous       equally good for two buildings: a typo that fits two names with the same
                  number, an estate name shared by two communities written without the
                  community
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# The sample district (沙县区) is in 三明市, 福建省; neither level is a grid of the sample.
PROVINCE, CITY = "福建省", "三明市"

POSITIVE_KINDS = ("register", "format", "numerals", "suffix", "prefix", "surrounding", "typo",
                  "combined")
NEGATIVE_KINDS = ("unknown_number", "no_number", "unknown_place", "ambiguous")

# Same toneless pinyin, for every character of fixtures/city/naming.py's name pools, estate and
# road suffixes (first listed = most common confusion).
HOMOPHONES = {
    "东": "冬", "西": "希夕", "南": "男楠", "北": "贝备", "金": "今津", "银": "音引印",
    "玉": "育宇雨", "翠": "脆崔", "青": "清轻", "红": "洪鸿", "凤": "风枫", "龙": "笼聋",
    "梅": "美煤眉", "兰": "蓝栏岚", "竹": "珠朱", "松": "宋送", "柏": "白百", "桃": "涛陶",
    "杏": "幸性", "荷": "河合", "桂": "贵归", "莲": "连联廉", "新": "心欣鑫", "和": "河合",
    "安": "按岸", "康": "抗糠", "福": "付附", "富": "付复", "华": "化画", "兴": "幸性",
    "隆": "笼聋", "祥": "详翔", "瑞": "锐睿", "泰": "太态", "丰": "封枫", "永": "勇涌",
    "长": "常场", "文": "闻温", "德": "得", "仁": "人任", "明": "名鸣", "光": "广逛",
    "春": "纯淳", "秋": "球求", "阳": "杨扬", "星": "幸性", "云": "运芸", "山": "衫珊",
    "水": "税睡", "江": "将姜", "溪": "希夕", "湖": "胡互", "岭": "领玲", "峰": "锋蜂",
    "石": "时实", "沙": "纱莎", "城": "成程", "府": "付腐", "坊": "方芳", "洋": "杨扬",
    "碧": "必壁", "锦": "紧仅", "绿": "律虑", "紫": "子字", "盛": "圣剩", "宏": "洪鸿",
    "建": "健件", "胜": "圣剩", "利": "立力", "民": "敏闽", "乐": "勒", "湾": "弯玩",
    "园": "圆元", "林": "临琳", "景": "井警", "庭": "停廷", "泉": "全权", "桥": "乔侨",
    "亭": "停廷", "田": "甜填", "岩": "言颜", "坪": "平评", "洲": "州舟", "塘": "堂唐",
    "口": "扣寇", "门": "们", "岗": "刚钢", "港": "刚钢", "坂": "板版", "垅": "拢陇",
    "源": "圆元", "川": "穿传", "谷": "古鼓", "坡": "泼颇", "坞": "雾务", "苑": "院愿",
    "湘": "香乡", "小": "晓", "区": "曲驱", "花": "哗", "家": "佳加", "公": "工功",
    "寓": "遇预", "雅": "亚哑", "居": "局菊", "村": "存邨", "里": "理李", "厝": "错措",
    "路": "露鹿", "街": "接阶", "大": "达", "道": "到导", "巷": "向项",
}
CN_DIGITS = "〇一二三四五六七八九"
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
# Places a text may name that are not in any register of the sample.
UNKNOWN_PLACES = ("人民公园东门", "火车站广场", "县医院住院部", "第一中学操场", "汽车站",
                  "农贸市场", "体育馆", "新华书店", "工业园区", "滨江公园")


@dataclass(frozen=True)
class Standard:
    """One building of the register as the generator needs it."""

    key: str  # the building's source id
    address: str
    place: str  # estate or road
    number: str
    units: int
    divisions: tuple[str, ...]  # district, subdistrict, community names in the address

    @property
    def road(self) -> bool:
        return self.word == "号"

    @property
    def word(self) -> str:
        return self.address[len(self.address.rstrip("幢栋号")):] or "号"

    @property
    def short(self) -> str:
        return f"{self.place}{self.number}{self.word}"


@dataclass(frozen=True)
class Spelling:
    text: str
    kind: str
    expected: str | None  # the building's source id; None: no answer is the right answer
    unit: int | None = None  # the dwelling parts written in the text, when the kind has them
    floor: int | None = None
    room: str | None = None


def standards(rows: Iterable[tuple[str, str, str, str, int]],
              division_names: Iterable[str]) -> list[Standard]:
    """Standards from (source id, address, estate_or_road, building_no, units) rows and the
    names of the sample's district, subdistricts and communities."""
    names = sorted(set(division_names), key=len, reverse=True)
    out = []
    for key, address, place, number, units in rows:
        prefix = address[:address.find(place)] if place in address else ""
        parts: list[str] = []
        while prefix:
            name = next((n for n in names if prefix.startswith(n)), prefix)
            parts.append(name)
            prefix = prefix[len(name):]
        out.append(Standard(key, address, place, str(number), int(units or 1), tuple(parts)))
    return sorted(out, key=lambda s: s.key)


def short_name(division: str) -> str:
    """沙县区 → 沙县, 凤岗街道 → 凤岗, 罗布社区 → 罗布: how people shorten division names."""
    for suffix in ("街道", "社区", "区", "镇", "乡"):
        if division.endswith(suffix) and len(division) - len(suffix) >= 2:
            return division[:-len(suffix)]
    return division


def counting(n: int) -> str:
    """12 → 十二, 23 → 二十三, 105 → 一百零五 (how numbers are said)."""
    if n < 10:
        return CN_DIGITS[n]
    if n < 20:
        return "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return CN_DIGITS[n // 10] + "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    rest = n % 100
    tail = "" if rest == 0 else ("零" + CN_DIGITS[rest] if rest < 10 else
                                 CN_DIGITS[rest // 10] + "十" + (CN_DIGITS[rest % 10]
                                                                if rest % 10 else ""))
    return CN_DIGITS[n // 100] + "百" + tail


def digit_by_digit(n: int, zero: str = "零") -> str:
    """301 → 三零一 (or 三〇一): how room numbers are said."""
    return "".join(zero if d == "0" else CN_DIGITS[int(d)] for d in str(n))


def _one_typo_apart(a: str, b: str) -> bool:
    """a and b differ by one substituted, dropped, added or swapped character."""
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    if abs(len(a) - len(b)) == 1:
        long, short = (a, b) if len(a) > len(b) else (b, a)
        return any(long[:i] + long[i + 1:] == short for i in range(len(long)))
    return False


class _Generator:
    def __init__(self, buildings: Sequence[Standard], seed: int) -> None:
        self.rng = random.Random(seed)
        self.buildings = buildings
        self.places = sorted({b.place for b in buildings})
        self.numbers: dict[str, set[str]] = {}
        self.same: dict[tuple[str, str], list[Standard]] = {}
        for b in buildings:
            self.numbers.setdefault(b.place, set()).add(b.number)
            self.same.setdefault((b.place, b.number), []).append(b)
        # Keys that find the places one typo away from a string without trying them all.
        self.place_set = set(self.places)
        self.wildcards: dict[str, list[str]] = {}
        self.shortened: dict[str, list[str]] = {}
        for p in self.places:
            for i in range(len(p)):
                self.wildcards.setdefault(p[:i] + "?" + p[i + 1:], []).append(p)
                self.shortened.setdefault(p[:i] + p[i + 1:], []).append(p)
        self._near: dict[str, set[str]] = {}

    # -- expectations ---------------------------------------------------------------------------

    def _tells(self, b: Standard, divisions: Sequence[str]) -> bool:
        """Whether the divisions written tell `b` from the other buildings of the same estate
        name and number."""
        others = [o for o in self.same[(b.place, b.number)] if o is not b]
        return all(not all(d in o.divisions for d in divisions) for o in others)

    def _neighbours(self, text: str) -> set[str]:
        """The places one typo away from `text`, and those written inside it."""
        if text not in self._near:
            found = {text[i:j] for i in range(len(text)) for j in range(i + 2, len(text) + 1)
                     } & self.place_set
            found.update(self.shortened.get(text, ()))
            for i in range(len(text)):
                found.update(self.wildcards.get(text[:i] + "?" + text[i + 1:], ()))
                if text[:i] + text[i + 1:] in self.place_set:
                    found.add(text[:i] + text[i + 1:])
                swapped = text[:i] + text[i + 1:i + 2] + text[i:i + 1] + text[i + 2:]
                if swapped in self.place_set:
                    found.add(swapped)
            self._near[text] = found
        return self._near[text]

    def _clean_typo(self, typo: str, b: Standard) -> bool:
        """A typo that still means `b`'s place only: not another register name, not holding
        one, and not one typo away from another place with the same number."""
        return typo != b.place and not any(
            p in typo or (p != b.place and _one_typo_apart(typo, p)
                          and b.number in self.numbers[p])
            for p in self._neighbours(typo))

    def typos(self, b: Standard) -> list[tuple[str, str]]:
        """(typo, how) of b's place: one homophone, one dropped and one swapped character
        where the name allows them and the result is unambiguous."""
        name, out = b.place, []
        positions = list(range(len(name)))
        self.rng.shuffle(positions)
        for i in positions:  # homophone
            options = HOMOPHONES.get(name[i], "")
            if options:
                typo = name[:i] + self.rng.choice(options) + name[i + 1:]
                if self._clean_typo(typo, b):
                    out.append((typo, "homophone"))
                    break
        if len(name) >= 4:  # dropped
            for i in positions:
                typo = name[:i] + name[i + 1:]
                if self._clean_typo(typo, b):
                    out.append((typo, "dropped"))
                    break
        for i in positions:  # swapped
            if i + 1 < len(name) and name[i] != name[i + 1]:
                typo = name[:i] + name[i + 1] + name[i] + name[i + 2:]
                if self._clean_typo(typo, b):
                    out.append((typo, "swapped"))
                    break
        for i in positions:  # a character typed twice
            if 0 < i < len(name):
                typo = name[:i] + name[i] + name[i:]
                if self._clean_typo(typo, b):
                    out.append((typo, "extra"))
                    break
        if len(name) < 4:  # a second homophone at another place of a short name
            for i in reversed(positions):
                options = HOMOPHONES.get(name[i], "")
                typo = name[:i] + options[-1] + name[i + 1:] if options else name
                if options and self._clean_typo(typo, b) and typo not in dict(out):
                    out.append((typo, "homophone"))
                    break
        return out

    # -- pieces ---------------------------------------------------------------------------------

    def dwelling(self, b: Standard) -> tuple[int, int, int]:
        """A unit of the building, a floor and a room on it."""
        unit = self.rng.randint(1, max(b.units, 1))
        floor = self.rng.randint(1, 6 if b.road else 18)
        return unit, floor, floor * 100 + self.rng.randint(1, 4)

    def prefix(self, b: Standard, style: int) -> tuple[str, tuple[str, ...]]:
        """A division prefix of one of nine styles and the divisions it names."""
        d = dict(zip(("district", "subdistrict", "community"), b.divisions, strict=False))
        district, sub, comm = (d.get(k, "") for k in ("district", "subdistrict", "community"))
        styles = [
            (PROVINCE + CITY + district + sub + comm, (district, sub, comm)),
            (CITY + district, (district,)),
            (short_name(district) + sub, (district, sub)),
            (comm, (comm,)),
            (PROVINCE[:-1] + CITY[:-1] + district + short_name(sub) + comm,
             (district, sub, comm)),
            (sub + comm, (sub, comm)),
            (PROVINCE + CITY + district + sub, (district, sub)),
            (short_name(comm), (comm,)),
            (short_name(district) + comm, (district, comm)),
        ]
        text, named = styles[style % len(styles)]
        return text, tuple(n for n in named if n)

    # -- spellings ------------------------------------------------------------------------------

    def building(self, b: Standard) -> list[Spelling]:
        rng, n = self.rng, int(b.number)
        short, place, word = b.short, b.place, b.word
        out: list[Spelling] = []

        def add(kind: str, text: str, divisions: Sequence[str] = (), unit: int | None = None,
                floor: int | None = None, room: int | None = None) -> None:
            expected = b.key if self._tells(b, divisions) else None
            out.append(Spelling(text, kind if expected else "ambiguous", expected, unit,
                                floor, None if room is None else str(room)))

        add("register", b.address, b.divisions)
        add("register", short)
        add("register", f"{place}{n}号" if b.road else
            f"{place}{n}{rng.choice(['号楼', '栋' if word == '幢' else '幢', '#楼'])}")

        add("format", f"{place}{str(n).translate(FULL_WIDTH)}{word}")
        add("format", rng.choice([f"{place} {n} {word}", f" {place}{n}{word} ",
                                  f"{place}0{n}{word}",
                                  f"{place}{n}號" if b.road else f"{place}{n}#"]))

        unit, floor, room = self.dwelling(b)
        zero = rng.choice("零〇")
        if b.road:
            add("numerals", f"{place}{counting(n)}号")
            add("numerals", f"{place}{counting(n)}号{counting(floor)}楼", floor=floor)
            add("numerals", f"{place}{counting(n)}号{digit_by_digit(room, zero)}室",
                floor=room // 100, room=room)
        else:
            add("numerals", f"{place}{counting(n)}{word}")
            add("numerals", f"{place}第{counting(n)}{rng.choice(['栋', '幢'])}")
            unit_cn = "两" if unit == 2 and rng.random() < 0.5 else counting(unit)
            add("numerals", f"{place}{counting(n)}号楼{unit_cn}单元{digit_by_digit(room, zero)}",
                unit=unit, floor=room // 100, room=room)

        unit, floor, room = self.dwelling(b)
        add("suffix", f"{short}{floor}楼", floor=floor)
        add("suffix", f"{short}{room}", floor=room // 100, room=room)
        if b.road:
            add("suffix", f"{short}{room}室", floor=room // 100, room=room)
            add("suffix", f"{short}{floor}层", floor=floor)
        else:
            add("suffix", f"{short}{unit}单元{room}{rng.choice(['室', '', '房'])}", unit=unit,
                floor=room // 100, room=room)
            style = rng.randrange(3)
            if style == 0:
                add("suffix", f"{place}{n}-{unit}-{room}", unit=unit, floor=room // 100,
                    room=room)
            elif style == 1:
                add("suffix", f"{short}{unit}-{room}", unit=unit, floor=room // 100, room=room)
            else:
                add("suffix", f"{short}{unit}单元{floor}层", unit=unit, floor=floor)
            r = rng.randint(1, 30)
            add("suffix", f"{short}{r}号", room=r)

        for style in rng.sample(range(9), 3):
            text, named = self.prefix(b, style)
            add("prefix", text + short, named)

        around = ["我家在{}门口", "{}附近", "{}旁边", "{}对面", "{}楼下垃圾很多没人清理",
                  "反映：{}路灯坏了", "在{}东侧的空地上", "住{}，楼道灯不亮"]
        for pattern in rng.sample(around, 3):
            add("surrounding", pattern.format(short))
        if b.road:
            add("surrounding", rng.choice([f"{short}的店面", f"{short}，门口有人占道"]))
        else:  # words between the name and the number
            add("surrounding", rng.choice([f"{place}小区{n}{word}", f"{place}里面的{n}号楼门口"]))

        for typo, how in self.typos(b):
            add("typo", f"{typo}{n}{word}")
            if how == "homophone" and not b.road:
                add("typo", f"{typo}{counting(n)}{word}")  # 桂坞佳园一幢

        text, named = self.prefix(b, rng.randrange(9))
        unit, floor, room = self.dwelling(b)
        if b.road:
            add("combined", f"我家在{text}{place}{counting(n)}号{counting(floor)}楼旁边", named,
                floor=floor)
        else:
            add("combined", f"{text}{place}第{counting(n)}栋{counting(unit)}单元"
                f"{digit_by_digit(room)}门口", named, unit=unit, floor=room // 100, room=room)
        typos = self.typos(b)
        if typos:
            text, named = self.prefix(b, rng.randrange(9))
            typo = typos[rng.randrange(len(typos))][0]
            add("combined", f"{text}{typo}{n}{word}{room}室附近", named, floor=room // 100,
                room=room)
        return out

    def negatives(self) -> list[Spelling]:
        out: list[Spelling] = []
        rng = self.rng
        for place in self.places:
            numbers = sorted(int(x) for x in self.numbers[place] if x.isdigit())
            word = next(b.word for b in self.buildings if b.place == place)
            missing = max(numbers) + rng.randint(1, 5)
            out.append(Spelling(f"{place}{missing}{word}", "unknown_number", None))
            out.append(Spelling(f"{place}{counting(missing + 2)}{word}", "unknown_number",
                                None))
            out.append(Spelling(rng.choice([f"{place}门口", f"{place}附近的垃圾站",
                                            f"{place}路口"]), "no_number", None))
        for i, name in enumerate(UNKNOWN_PLACES):
            out.append(Spelling(name if i % 2 else f"{name}{i + 1}号", "unknown_place", None))
        # Two names one character apart, both with the same number: a spelling that drops
        # or blurs the character telling them apart fits both.
        for a, b in ((a, b) for a in self.places for b in self.places if a < b):
            common = sorted(self.numbers[a] & self.numbers[b])
            if len(a) != len(b) or not common:
                continue
            diff = [i for i in range(len(a)) if a[i] != b[i]]
            if len(diff) != 1:
                continue
            i, number = diff[0], common[0]
            word = next(s.word for s in self.buildings if s.place == a)
            if len(a) >= 4:
                out.append(Spelling(f"{a[:i]}{a[i + 1:]}{number}{word}", "ambiguous", None))
            out.append(Spelling(f"{a[:i]}某{a[i + 1:]}{number}{word}", "ambiguous", None))
        return out


def spellings(buildings: Sequence[Standard], seed: int = 12) -> list[Spelling]:
    """Every building's spellings, then the ones that must find nothing."""
    generator = _Generator(buildings, seed)
    out = [s for b in buildings for s in generator.building(b)]
    return out + generator.negatives()


def same_text_same_answer(items: Iterable[Spelling]) -> list[Spelling]:
    """One spelling per text (two buildings' templates can meet); a text two different
    expectations share is dropped."""
    seen: dict[str, Spelling | None] = {}
    for s in items:
        key = re.sub(r"\s+", "", s.text)
        if key not in seen:
            seen[key] = s
        elif (first := seen[key]) is not None and first.expected != s.expected:
            seen[key] = None
    return [s for s in seen.values() if s is not None]
