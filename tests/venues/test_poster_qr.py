"""The A4 poster as printed: its QR, read from the rendered page by a real decoder, opens this
venue's check-in page, and is at least 10 cm wide with its quiet zone, measured on the page."""

import io
from urllib.parse import urlsplit

import pytest
from django.urls import resolve, reverse
from PIL import Image

from checkins.models import CheckIn
from tests.factories import make_venue
from tests.qr import MM_PER_INCH, decode_qr, pdf_page_png, read_qr
from venues import codes

pytestmark = pytest.mark.django_db

PDF_DPI = 150  # what the PDF is rendered at; the PNG poster says its own (300)
QUIET_MODULES = 4  # ISO/IEC 18004: four modules of white on every side


def download(client, venue, fmt: str) -> bytes:
    client.force_login(venue.administrator)
    response = client.get(reverse("venues:poster", args=[fmt]))
    assert response.status_code == 200
    assert response["Content-Type"] == {"pdf": "application/pdf", "png": "image/png"}[fmt]
    return response.content


def rendered(client, venue, fmt: str) -> tuple[bytes, int]:
    """The poster as a page image, and its dots per inch."""
    body = download(client, venue, fmt)
    if fmt == "pdf":
        return pdf_page_png(body, dpi=PDF_DPI), PDF_DPI
    return body, round(Image.open(io.BytesIO(body)).info["dpi"][0])


def test_the_pdf_posters_qr_opens_this_venues_check_in_page(client, resident):
    venue = make_venue(full_name="文三路联华超市")
    other = make_venue(full_name="学院路书店")
    url = decode_qr(pdf_page_png(download(client, venue, "pdf"), dpi=PDF_DPI))
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.query) == ("http", "testserver", "")
    match = resolve(parts.path)
    assert match.view_name == "checkins:scan"
    assert codes.read(match.kwargs["code"]) == codes.VenueCode(
        public_id=venue.public_id, version=venue.poster_version
    )
    client.force_login(resident.user)
    page = client.get(parts.path)
    body = page.content.decode()
    assert page.status_code == 200 and venue.full_name in body and other.full_name not in body
    assert not CheckIn.objects.exists()  # a GET never records
    assert client.get("/venue/poster.exe").status_code == 404


@pytest.mark.parametrize("fmt", ["pdf", "png"])
def test_the_qr_is_at_least_10_cm_wide_with_its_quiet_zone(client, fmt):
    png, dpi = rendered(client, make_venue(), fmt)
    qr = read_qr(png)
    corners = [qr.position.top_left, qr.position.top_right]
    corners += [qr.position.bottom_right, qr.position.bottom_left]
    left, right = min(c.x for c in corners), max(c.x for c in corners)
    top, bottom = min(c.y for c in corners), max(c.y for c in corners)
    assert abs((right - left) - (bottom - top)) <= 3  # square and upright on the page
    module = (right - left) / (17 + 4 * int(qr.extra["Version"]))  # a version-v QR: 17+4v
    quiet = round(QUIET_MODULES * module)

    # Its quiet zone is on the page and blank: a ring four modules wide around the symbol
    # (leaving out the pixel next to it, which the renderer may blend).
    page = Image.open(io.BytesIO(png)).convert("L")
    outer = (left - quiet, top - quiet, right + quiet, bottom + quiet)
    assert outer[0] >= 0 and outer[1] >= 0 and outer[2] <= page.width and outer[3] <= page.height
    ring = page.crop(outer)
    ring.paste(255, (quiet - 2, quiet - 2, ring.width - quiet + 2, ring.height - quiet + 2))
    assert ring.getextrema()[0] > 200, "something is printed in the quiet zone"

    width_mm = (outer[2] - outer[0]) / dpi * MM_PER_INCH
    assert width_mm >= 100, f"the QR with its quiet zone is {width_mm:.1f} mm wide"
