"""Chinese numerals in addresses → Arabic digits: 十二号楼 → 12号楼, 二单元三零一 → 2单元301.

Two spellings are in use and both occur in one address: counting numbers (十二, 二十三, 一百零五,
两) for buildings, units and floors, and digit by digit (三零一, 一二〇一, 幺) for rooms. A run
holding 十/百/千 is read as a counting number, any other run digit by digit. Financial numerals
(壹, 贰, 陆 …) are left alone: 陆 and 伍 are also surnames, and registers do not use them.
Only convert the part of an address after the estate or road name: place names hold numerals
of their own (五里桥, 三明).
"""

from __future__ import annotations

import re

DIGITS = {"〇": 0, "零": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4,
          "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_POWERS = {"十": 10, "百": 100, "千": 1000}
_RUN = re.compile("[" + "".join(DIGITS) + "".join(_POWERS) + "]+")


def counting_number(run: str) -> int | None:
    """十二 → 12, 二十三 → 23, 一百零五 → 105, 三百一 → 310 (the spoken short form); None for a
    run that is not a well-formed counting number (十十)."""
    total, digit, last_power = 0, None, 10_000
    for ch in run:
        if ch in DIGITS:
            if digit is not None and DIGITS[ch] != 0:
                return None  # two digits in a row inside a counting number
            digit = DIGITS[ch] if DIGITS[ch] != 0 else None
        else:
            power = _POWERS[ch]
            if power >= last_power:
                return None
            total += (1 if digit is None else digit) * power
            digit, last_power = None, power
    if digit is not None:
        # 三百一 is 310 and 一千二 is 1200; after 十, or with a 零 before it, a digit is units.
        zero_before = len(run) >= 2 and DIGITS.get(run[-2]) == 0
        total += digit * (last_power // 10 if last_power > 10 and not zero_before else 1)
    return total


def to_arabic(run: str) -> str:
    """One run of numeral characters as Arabic digits; the run unchanged if it is malformed."""
    if any(ch in _POWERS for ch in run):
        value = counting_number(run)
        return run if value is None else str(value)
    return "".join(str(DIGITS[ch]) for ch in run)


def arabic(text: str) -> str:
    """`text` with every run of Chinese numerals written in Arabic digits."""
    return _RUN.sub(lambda m: to_arabic(m.group()), text)
