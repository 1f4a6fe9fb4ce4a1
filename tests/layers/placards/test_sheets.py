"""The printable sheets: an A4 PDF that opens, one page per placard, the Chinese font embedded,
and a QR code that decodes (rendered and read back, as a phone would) to the placard's URL."""

from __future__ import annotations

import io
import re

import pypdfium2 as pdfium
import pytest
import zxingcpp

from layers.placards import services, sheets
from layers.placards.models import Placard, PlacardEvent
from tests.layers.factories import A
from tests.layers.placards.factories import World, placard

pytestmark = pytest.mark.django_db
A4_POINTS = (595.2756, 841.8898)


def pages(pdf: bytes) -> list[pdfium.PdfPage]:
    document = pdfium.PdfDocument(io.BytesIO(pdf))
    return [document[i] for i in range(len(document))]


def decode(page: pdfium.PdfPage) -> list[str]:
    image = page.render(scale=2).to_pil()
    return [r.text for r in zxingcpp.read_barcodes(image)
            if r.format == zxingcpp.BarcodeFormat.QRCode]


def text(page: pdfium.PdfPage) -> str:
    return page.get_textpage().get_text_range()


def test_a_sheet_opens_and_its_code_reads_back_as_the_placard_url(world: World, settings):
    settings.GEOGRID = {**settings.GEOGRID, "PLACARDS": {
        **settings.GEOGRID["PLACARDS"], "BASE_URL": "https://grid.example.cn"}}
    p = placard(world)
    pdf = sheets.render([p])
    assert pdf.startswith(b"%PDF-")
    (page,) = pages(pdf)
    assert page.get_size() == pytest.approx(A4_POINTS, abs=0.5)
    assert decode(page) == [f"https://grid.example.cn/q/{p.token}"]
    words = text(page)
    for needed in ("民意二维码", "洋坊新村9幢1单元", "网格长", "片长", "楼栋长", "微单元长",
                   "单元长一", "13900000001", "楼长孙", "13900000003", "0598-1000000",
                   "片长赵", "第1版"):
        assert needed in words, needed
    # The font travels with the file (a subset of its TrueType outlines).
    assert b"/FontFile2" in pdf and re.search(rb"/BaseFont /[A-Z]{6}\+", pdf)


def test_the_url_follows_the_request_when_no_base_is_set(client, world: World):
    p = placard(world)
    client.force_login(world.users["gw_a"])
    r = client.get(f"/api/v1/placards/sheet.pdf?placard={p.pk}", HTTP_HOST="testserver")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert decode(pages(r.content)[0]) == [f"http://testserver/q/{p.token}"]
    assert PlacardEvent.objects.filter(placard=p, kind="printed").count() == 1


def test_a_grid_sheet_has_a_page_per_active_placard_in_scope(client, world: World):
    services.bulk_create(world.viewer("root"), grid=A)
    old = Placard.objects.filter(kind="stairwell").first()
    new = services.reprint(old.pk, world.viewer("root"))
    client.force_login(world.users["gw_a"])
    r = client.get(f"/api/v1/placards/sheet.pdf?grid={A}")
    assert r.status_code == 200
    urls = {decode(page)[0].rsplit("/", 1)[1] for page in pages(r.content)}
    assert urls == set(Placard.objects.filter(status="active").values_list("token", flat=True))
    assert new.token in urls and old.token not in urls and len(urls) == 3
    assert "第2版" in " ".join(text(page) for page in pages(r.content))


def test_sheets_are_scoped(client, world: World):
    services.bulk_create(world.viewer("root"), grid=A)
    one = Placard.objects.first()
    client.force_login(world.users["gw_b"])
    assert client.get(f"/api/v1/placards/sheet.pdf?grid={A}").status_code == 404
    assert client.get(f"/api/v1/placards/sheet.pdf?placard={one.pk}").status_code == 404
    b = world.buildings["a1"].pk
    assert client.get(f"/api/v1/placards/sheet.pdf?building={b}").status_code == 404
    client.logout()
    assert client.get(f"/api/v1/placards/sheet.pdf?grid={A}").status_code == 403
    assert not PlacardEvent.objects.filter(kind="printed").exists()


@pytest.mark.parametrize("query", ["", "?grid=1&placard=2", "?grid=x", "?placard=-1",
                                   "?placard=99999999999999999999999", "?building=a"])
def test_sheet_parameters_are_checked(client, world: World, query):
    client.force_login(world.users["root"])
    r = client.get(f"/api/v1/placards/sheet.pdf{query}")
    assert r.status_code == 400 and r.json()["code"] == "invalid"
