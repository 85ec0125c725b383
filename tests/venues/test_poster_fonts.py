"""The A4 poster PDF looks the same on every viewer and printer: every font it uses is embedded
(poppler's pdffonts says so), its text is the venue's (pdftotext reads back the name, the venue
number and 无智能手机请找工作人员登记), and its QR still opens the venue's page. A name with a
character outside the shipped GB 2312 subset shows 〓 for it, never a tofu box."""

import os
import shutil
import subprocess
import tempfile
from urllib.parse import urlsplit

import pytest
from django.urls import resolve, reverse

from tests.factories import make_venue
from tests.qr import decode_qr, pdf_page_png
from venues import codes, posters

pytestmark = pytest.mark.django_db


def poppler(tool: str, pdf: bytes, *args: str) -> str:
    """Run a poppler tool on ``pdf`` (from a file: pdffonts needs to seek)."""
    if shutil.which(tool) is None:
        reason = f"{tool} not found: install poppler-utils"
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"REQUIRE_BROWSER is set but {reason}.")
        pytest.skip(reason)
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        outputs = ["-"] if tool == "pdftotext" else []
        command = [tool, *args, file.name, *outputs]
        return subprocess.run(command, capture_output=True, check=True).stdout.decode()


def download_pdf(client, venue) -> bytes:
    client.force_login(venue.administrator)
    response = client.get(reverse("venues:poster", args=["pdf"]))
    assert response.status_code == 200
    return response.content


def font_rows(pdf: bytes) -> list[list[str]]:
    """pdffonts' table: name, type, encoding, emb, sub, uni, object, ID."""
    lines = poppler("pdffonts", pdf).splitlines()
    assert lines[1].startswith("---"), lines
    return [line.split() for line in lines[2:] if line.strip()]


def text_lines(pdf: bytes) -> list[str]:
    return [line.strip() for line in poppler("pdftotext", pdf, "-layout").splitlines()]


def test_every_font_in_the_poster_is_embedded_and_none_is_the_cid_font(client):
    pdf = download_pdf(client, make_venue(full_name="文三路联华超市"))
    rows = font_rows(pdf)
    assert rows, "the poster uses no font at all"
    for row in rows:
        name, emb = row[0], row[-5]
        assert emb == "yes", f"{name} is not embedded"
        assert "STSong" not in name
    assert any("NotoSans" in row[0] for row in rows)  # the shipped Noto Sans SC subset


def test_the_text_read_back_from_the_pdf_is_the_venues(client):
    venue = make_venue(full_name="文三路联华超市", address="文三路 100 号")
    pdf = download_pdf(client, venue)
    lines = text_lines(pdf)
    assert "文三路联华超市" in lines  # the name, on its own line, every character right
    assert f"场所编号 {venue.number}" in lines
    assert len(venue.number) == 6 and venue.number.isdigit()
    assert "无智能手机请找工作人员登记" in lines
    assert any("浙江省杭州市西湖区" in line for line in lines)  # the region by name
    assert not any("330106" in line for line in lines)
    assert "〓" not in "".join(lines)  # nothing fell back


def test_the_qr_of_the_pdf_still_opens_this_venue(client):
    venue = make_venue(full_name="文三路联华超市")
    url = decode_qr(pdf_page_png(download_pdf(client, venue), dpi=150))
    match = resolve(urlsplit(url).path)
    assert match.view_name == "checkins:scan"
    assert codes.read(match.kwargs["code"]).public_id == venue.public_id


def test_a_name_outside_the_font_shows_a_visible_stand_in_not_tofu(client):
    assert "堃" not in posters.font_characters()  # outside GB 2312: the premise of the test
    assert "文" in posters.font_characters()
    venue = make_venue(full_name="堃元便利店")
    lines = text_lines(download_pdf(client, venue))
    assert "〓元便利店" in lines
    assert not any("堃" in line for line in lines)


def test_every_fixed_text_the_poster_can_print_is_in_the_font():
    """Titles, instructions, the footer and every category name: all drawn by the font."""
    from venues.models import Category

    fixed = [posters.TITLE, posters.FOOTER, posters.NO_PHONE, *posters.INSTRUCTIONS]
    fixed += [label for _value, label in Category.choices]
    fixed += [
        "场所编号 0123456789",
        "签发日期 2022-12-31",
        "场所码 第 12 版 · 请勿涂改、遮挡或替换",
    ]
    for text in map(str, fixed):
        assert posters.printable(text) == text, text
