"""Printable placard sheets: an A4 PDF, one page per placard, ready to laminate and hang.

Each page has the QR code of the placard's address (/q/<token>, vector modules from segno, error
correction Q so a scratched or dirty code still reads), the full address, what the placard hangs
on, the grid it lies in now, and the 四长 board with names and duty phones as they are when the
sheet is made (a reprint refreshes it). The Chinese text is set in WenQuanYi Zen Hei, embedded
(subset) in the PDF: reportlab embeds TrueType outlines only, so the CFF-based Noto Sans CJK
the browsers use cannot serve here (geogrid/provision/system.sh installs fonts-wqy-zenhei).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import segno
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from reportlab.lib.colors import Color, black, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from geogrid.hierarchy import Level, code_lengths
from geogrid.models import Grid, Post
from layers.placards.board import Scene, scene_of
from layers.placards.models import Placard
from layers.placards.tokens import scan_url

FONT = "WQYZenHei"
FONT_FILES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),  # Debian fonts-wqy-zenhei
    Path("/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc"),  # Fedora
)
QR_SIZE = 120 * mm
QR_QUIET = 4  # modules of white around the code, as the standard asks
BLUE = Color(0.12, 0.31, 0.47)
KIND_TEXT = {Placard.Kind.BUILDING: "楼栋码", Placard.Kind.STAIRWELL: "单元楼道码",
             Placard.Kind.SHOP: "商铺码", Placard.Kind.PLACE: "场所码"}
POST_TEXT = {Post.GRID_LEADER: "网格长", Post.ZONE_LEADER: "片长",
             Post.BUILDING_LEADER: "楼栋长", Post.MICRO_UNIT_LEADER: "微单元长"}


@lru_cache(maxsize=1)
def font() -> str:
    """Register the CJK font once per process; an actionable error when it is missing."""
    for path in FONT_FILES:
        if path.exists():
            pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=0))
            return FONT
    raise ImproperlyConfigured(
        "placard sheets need a TrueType CJK font: install fonts-wqy-zenhei "
        "(bash geogrid/provision/system.sh) — looked in " + ", ".join(map(str, FONT_FILES)))


def _grid_names(code: str | None) -> str:
    if not code:
        return ""
    lengths = sorted(n for level, n in code_lengths().items()
                     if level >= Level.COMMUNITY and n <= len(code))
    names = dict(Grid.objects.current().filter(code__in=[code[:n] for n in lengths])
                 .values_list("code", "name"))
    return " › ".join(names[code[:n]] for n in lengths if code[:n] in names)


def _qr(c: Canvas, url: str, x: float, y: float, size: float) -> None:
    """The code as filled rectangles (one per run of dark modules in a row): sharp at any
    printer resolution."""
    qr = segno.make(url, error="q", micro=False, boost_error=False)
    matrix = qr.matrix
    n = len(matrix) + 2 * QR_QUIET
    module = size / n
    c.setFillColor(white)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColor(black)
    for r, row in enumerate(matrix):
        top = y + size - (r + QR_QUIET + 1) * module
        start = None
        for col, dark in enumerate([*row, 0]):
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                c.rect(x + (start + QR_QUIET) * module, top, (col - start) * module, module,
                       stroke=0, fill=1)
                start = None


def _page(c: Canvas, scene: Scene, url: str, printed: str) -> None:
    f = font()
    width, height = A4
    p = scene.placard
    c.setFillColor(BLUE)
    c.rect(0, height - 38 * mm, width, 38 * mm, stroke=0, fill=1)
    c.setFillColor(white)
    c.setFont(f, 30)
    c.drawCentredString(width / 2, height - 20 * mm, "民意二维码")
    c.setFont(f, 14)
    c.drawCentredString(width / 2, height - 31 * mm,
                        "扫一扫 反映问题 · 无需下载App · 无需登录 · 直达网格")
    _qr(c, url, (width - QR_SIZE) / 2, height - 44 * mm - QR_SIZE, QR_SIZE)
    y = height - 52 * mm - QR_SIZE
    c.setFillColor(black)
    c.setFont(f, 18)
    c.drawCentredString(width / 2, y, _fit(c, p.label, f, 18, width - 30 * mm))
    y -= 8 * mm
    c.setFont(f, 12)
    kind = KIND_TEXT.get(Placard.Kind(p.kind), p.kind)
    grid = _grid_names(scene.grid_code)
    c.drawCentredString(width / 2, y, _fit(c, f"{kind}  {grid}".strip(), f, 12, width - 30 * mm))
    y -= 12 * mm
    c.setFillColor(BLUE)
    c.setFont(f, 15)
    c.drawString(20 * mm, y, "四长联系牌")
    c.setLineWidth(0.8)
    c.setStrokeColor(BLUE)
    c.line(20 * mm, y - 2.5 * mm, width - 20 * mm, y - 2.5 * mm)
    y -= 10 * mm
    c.setFillColor(black)
    for post, name, phone, unit in _board_rows(scene):
        c.setFillColor(black)
        c.setFont(f, 13)
        c.drawString(22 * mm, y, post)
        c.drawString(52 * mm, y, _fit(c, name, f, 13, 45 * mm))
        c.drawRightString(width - 22 * mm, y, phone or "—")
        if unit:
            c.setFont(f, 10)
            c.setFillColor(Color(0.35, 0.35, 0.35))
            c.drawString(100 * mm, y, _fit(c, unit, f, 10, 50 * mm))
        y -= 8 * mm
        if y < 30 * mm:
            break
    c.setFont(f, 9)
    c.setFillColor(Color(0.35, 0.35, 0.35))
    c.drawCentredString(width / 2, 16 * mm, url)
    footer = f"第{p.print_version}版 · 打印于 {printed} · 请勿遮挡；码损坏请联系网格员重印"
    c.drawCentredString(width / 2, 11 * mm, footer)


def _board_rows(scene: Scene) -> list[tuple[str, str, str, str]]:
    """(post, name, phone, micro-unit) per leader; the grid and zone leader rows always."""
    rows = [(POST_TEXT.get(Post(x.post), x.post), x.name or "—", x.phone, x.unit)
            for x in scene.leaders]
    shown = {x.post for x in scene.leaders}
    missing = [(POST_TEXT[p], "—", "", "") for p in (Post.GRID_LEADER, Post.ZONE_LEADER)
               if p not in shown]
    return rows[:2] + missing + rows[2:] if missing else rows


def _fit(c: Canvas, text: str, f: str, size: float, width: float) -> str:
    """The text, shortened with an ellipsis to fit `width`."""
    if c.stringWidth(text, f, size) <= width:
        return text
    while text and c.stringWidth(text + "…", f, size) > width:
        text = text[:-1]
    return text + "…"


def render(placards: Iterable[Placard], *, base_url: str = "") -> bytes:
    """The PDF of these placards, one A4 page each, with the board as it is now."""
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, pageCompression=1)
    c.setTitle("民意二维码")
    c.setAuthor("GeoGrid")
    printed = timezone.localdate().isoformat()
    pages = 0
    for placard in placards:
        _page(c, scene_of(placard), scan_url(placard.token, base_url), printed)
        c.showPage()
        pages += 1
    if not pages:
        raise ValueError("a sheet needs at least one placard")
    c.save()
    return buffer.getvalue()
