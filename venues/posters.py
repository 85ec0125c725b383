"""The A4 venue-code poster, as PDF (vector, for printing) and PNG (300 dpi).

Both draw the same layout: the venue's full name, region and address, the QR at 120 mm wide
with its four-module quiet zone, 请扫码登记 with short instructions, the venue number and
无智能手机请找工作人员登记 (for people without a smartphone: staff register them by that
number), the issue date and the poster version. Both use the Noto Sans SC subset shipped in
static/fonts (GB 2312), embedded in the PDF, so no viewer or printer substitutes a font; a
character outside the subset is drawn as 〓, visibly, never as a tofu box.
"""

import functools
import hashlib
import io
import logging
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import qrcode
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from fontTools import subset as font_subset
from fontTools.ttLib import TTFont
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_M

from healthcode.regions import region_name
from venues.models import Venue

FONT_FILE = (
    Path(__file__).resolve().parent.parent / "static" / "fonts" / "NotoSansSC-Bold-GB2312.otf"
)
BLUE = "#1769e0"
GREY = "#4b5563"
# Drawn for a character the font lacks (a venue name outside GB 2312): the geta mark is the
# conventional Chinese typesetting stand-in for a missing character, visibly not a tofu box.
MISSING = "〓"
QR_WIDTH_MM = 120
INSTRUCTIONS = [
    gettext_lazy("1. 打开手机相机、微信或支付宝“扫一扫”"),
    gettext_lazy("2. 扫描上方二维码，按提示完成登记"),
    gettext_lazy("3. 向工作人员出示登记结果页面"),
]
TITLE = gettext_lazy("场所码 · 请扫码登记")
FOOTER = gettext_lazy("数据仅用于疫情防控")
NO_PHONE = gettext_lazy("无智能手机请找工作人员登记")


@dataclass(frozen=True)
class PosterText:
    name: str
    number: str
    region: str
    address: str
    issued: str
    version: str


def poster_text(venue: Venue) -> PosterText:
    issued = timezone.localtime(venue.poster_issued_at).strftime("%Y-%m-%d")
    return PosterText(
        name=venue.full_name,
        number=_("场所编号 %(n)s") % {"n": venue.number},
        region=_("%(region)s · %(category)s")
        % {"region": region_name(venue.region_code), "category": venue.get_category_display()},
        address=venue.address,
        issued=_("签发日期 %(date)s") % {"date": issued},
        version=_("场所码 第 %(v)s 版 · 请勿涂改、遮挡或替换") % {"v": venue.poster_version},
    )


@functools.lru_cache(maxsize=1)
def font_characters() -> frozenset[str]:
    """Every character the shipped font draws."""
    return frozenset(map(chr, TTFont(str(FONT_FILE), lazy=True).getBestCmap()))


def printable(text: str) -> str:
    """``text`` with each character the font lacks replaced by MISSING (spaces kept)."""
    drawn = font_characters()
    return "".join(c if c in drawn or c.isspace() else MISSING for c in text)


def qr_matrix(url: str) -> list[list[bool]]:
    """QR modules, quiet zone included (four modules on every side)."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    qr.add_data(url)
    qr.make(fit=True)
    return qr.get_matrix()


def _wrap(text: str, width: float, measure) -> list[str]:
    lines, line = [], ""
    for char in text:
        if measure(line + char) > width and line:
            lines.append(line)
            line = char
        else:
            line += char
    return [*lines, line] if line else lines


# --- PDF ------------------------------------------------------------------------------------
PDF_FONT = "noto-sans-sc"
A4_MM = (210, 297)


def poster_pdf(venue: Venue, url: str) -> bytes:
    """The poster as a vector PDF with the Noto Sans SC subset embedded, cut down to the
    characters this poster draws (``pdf_add_font``): it prints the same on every viewer and
    printer. ReportLab cannot embed this OpenType (CFF) font, so the page is drawn with fpdf2,
    as the paper codes are."""
    text = poster_text(venue)
    name, address = printable(text.name), printable(text.address)
    footer = f"{text.issued} · {text.version}"
    fixed = [TITLE, FOOTER, NO_PHONE, *INSTRUCTIONS]
    page_w, page_h = A4_MM
    pdf = FPDF(unit="mm", format=A4_MM)
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_title(printable(f"场所码 {text.name}"))
    pdf.set_creator("healthcode-platform")
    pdf_add_font(pdf, [*map(str, fixed), name, address, text.number, text.region, footer])
    pdf.add_page()
    pdf.set_fill_color(*_rgb(BLUE))
    pdf.rect(0, 0, page_w, 40, style="F")
    pdf.set_text_color(255, 255, 255)
    _pdf_centred(pdf, str(TITLE), y=20, size=40)
    pdf.set_text_color(0, 0, 0)
    y = 52.0
    pdf.set_font(PDF_FONT, size=30)
    for line in _wrap(name, page_w - 40, pdf.get_string_width):
        _pdf_centred(pdf, line, y=y + 5, size=30)
        y += 12
    _pdf_centred(pdf, text.number, y=y + 3, size=16)
    y += 8
    _pdf_centred(pdf, text.region, y=y + 3, size=14)
    pdf.set_font(PDF_FONT, size=14)
    for line in _wrap(address, page_w - 40, pdf.get_string_width):
        y += 7
        _pdf_centred(pdf, line, y=y + 3, size=14)
    y += 10
    pdf_qr(pdf, qr_matrix(url), x=(page_w - QR_WIDTH_MM) / 2, y=y, width_mm=QR_WIDTH_MM)
    y += QR_WIDTH_MM + 6
    pdf.set_font(PDF_FONT, size=15)
    for line in map(str, INSTRUCTIONS):
        pdf.set_xy(45, y)
        pdf.cell(h=7, text=printable(line))
        y += 8
    _pdf_centred(pdf, str(NO_PHONE), y=y + 5, size=18)
    pdf.set_text_color(*_rgb(GREY))
    _pdf_centred(pdf, footer, y=page_h - 18, size=11)
    _pdf_centred(pdf, str(FOOTER), y=page_h - 12, size=11)
    return bytes(pdf.output())


# --- The font, cut down once per character set ---------------------------------------------
# fpdf2 parses the whole 3.6 MB font in add_font and subsets it again with fontTools on every
# output (about 200 ms a poster, issue 11). Cutting it down to the characters a document draws
# leaves fpdf2 a font of ~100 glyphs to parse and subset (a few ms). The cut-down fonts are kept
# per character set, so a poster downloaded again, or its reissue, costs no fontTools work; a
# font holds glyphs only, never text, and its key is the exact set, so no document can draw
# with glyphs chosen for another. fpdf2 reads fonts from files: each lives in this process's
# temporary directory and is deleted when it leaves the cache.
FONT_CACHE_SIZE = 256
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)  # it logs every glyph at INFO
_font_lock = threading.Lock()
_font_files: OrderedDict[frozenset[str], Path] = OrderedDict()
_font_dir = tempfile.TemporaryDirectory(prefix="poster-fonts-")  # removed at exit


def pdf_add_font(pdf: FPDF, texts: Iterable[str]) -> None:
    """Register the shipped font on ``pdf`` as ``PDF_FONT``, cut down to the characters of
    ``texts`` — every line the document will draw (after ``printable``)."""
    chars = frozenset("".join(texts)) | {MISSING, " "}
    pdf.add_font(PDF_FONT, fname=str(_font_file(chars)))
    # fpdf2 subsets the font again on output and by default recomputes its bounding box by
    # drawing every glyph, twice (half its output time); the cut font's box already encloses
    # every glyph it keeps, which is all a PDF viewer needs of it.
    pdf.fonts[PDF_FONT].ttfont.recalcBBoxes = False


def _font_file(chars: frozenset[str]) -> Path:
    with _font_lock:
        if (path := _font_files.get(chars)) is not None:
            _font_files.move_to_end(chars)
            return path
    path = _cut_font(chars)
    with _font_lock:
        _font_files[chars] = path
        while len(_font_files) > FONT_CACHE_SIZE:
            _chars, evicted = _font_files.popitem(last=False)
            evicted.unlink(missing_ok=True)
    return path


def _cut_font(chars: frozenset[str]) -> Path:
    """The shipped font subset to ``chars``, written to a file named by the set."""
    # Without subroutines and hints each glyph is one short program: fpdf2 runs every glyph's
    # on each output (to subset it again and to recompute the bounding box), and a print at
    # 300 dpi or more does not need hints.
    options = font_subset.Options(
        notdef_outline=True, recommended_glyphs=True, desubroutinize=True, hinting=False
    )
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "vhea", "vmtx", "VORG"]
    subsetter = font_subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(chars)))
    font = TTFont(str(FONT_FILE), lazy=True, recalcTimestamp=False)
    subsetter.subset(font)
    digest = hashlib.sha256("".join(sorted(chars)).encode()).hexdigest()[:32]
    path = Path(_font_dir.name) / f"{digest}.otf"
    font.save(str(path))
    return path


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _pdf_centred(pdf: FPDF, line: str, *, y: float, size: int) -> None:
    """One line centred on the page, its middle at ``y`` mm from the top."""
    pdf.set_font(PDF_FONT, size=size)
    height = size * 0.45
    pdf.set_xy(0, y - height / 2)
    pdf.cell(w=A4_MM[0], h=height, text=printable(line), align="C")


def pdf_qr(pdf: FPDF, matrix: list[list[bool]], *, x: float, y: float, width_mm: float) -> None:
    """Black modules on the white page, ``width_mm`` wide; the matrix's four-module border is
    the quiet zone. Shared by the posters and the paper health codes."""
    module = width_mm / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for row, cells in enumerate(matrix):
        col = 0
        while col < len(cells):  # one rectangle per run of dark modules
            if not cells[col]:
                col += 1
                continue
            start = col
            while col < len(cells) and cells[col]:
                col += 1
            pdf.rect(
                x + start * module, y + row * module, (col - start) * module, module, style="F"
            )


# --- PNG ------------------------------------------------------------------------------------
DPI = 300
A4_PX = (2480, 3508)  # 210 × 297 mm at 300 dpi


def _px(millimetres: float) -> int:
    return round(millimetres / 25.4 * DPI)


def poster_png(venue: Venue, url: str) -> bytes:
    text = poster_text(venue)
    image = Image.new("RGB", A4_PX, "white")
    draw = ImageDraw.Draw(image)

    def font(points: int) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(FONT_FILE), size=round(points / 72 * DPI))

    width = A4_PX[0]
    draw.rectangle([0, 0, width, _px(40)], fill=BLUE)
    draw.text((width / 2, _px(20)), str(TITLE), font=font(40), fill="white", anchor="mm")
    y = _px(52)
    title = font(30)
    name = printable(text.name)
    for line in _wrap(name, width - _px(40), lambda s: draw.textlength(s, font=title)):
        draw.text((width / 2, y), line, font=title, fill="black", anchor="mt")
        y += _px(12)
    draw.text((width / 2, y), printable(text.number), font=font(16), fill="black", anchor="mt")
    y += _px(8)
    small = font(14)
    draw.text((width / 2, y), printable(text.region), font=small, fill="black", anchor="mt")
    address = printable(text.address)
    for line in _wrap(address, width - _px(40), lambda s: draw.textlength(s, font=small)):
        y += _px(7)
        draw.text((width / 2, y), line, font=small, fill="black", anchor="mt")
    y += _px(12)
    matrix = qr_matrix(url)
    module = _px(QR_WIDTH_MM) // len(matrix)
    qr_size = module * len(matrix)
    qr = Image.new("1", (len(matrix), len(matrix)), 1)
    qr.putdata([0 if cell else 1 for row in matrix for cell in row])
    image.paste(qr.resize((qr_size, qr_size), Image.NEAREST), ((width - qr_size) // 2, y))
    y += qr_size + _px(8)
    body = font(15)
    for line in map(str, INSTRUCTIONS):
        draw.text((_px(45), y), line, font=body, fill="black")
        y += _px(8)
    no_phone = font(18)
    draw.text((width / 2, y + _px(2)), str(NO_PHONE), font=no_phone, fill="black", anchor="mt")
    foot = font(11)
    draw.text(
        (width / 2, A4_PX[1] - _px(18)),
        f"{text.issued} · {text.version}",
        font=foot,
        fill=GREY,
        anchor="mm",
    )
    draw.text(
        (width / 2, A4_PX[1] - _px(12)),
        str(FOOTER),
        font=foot,
        fill=GREY,
        anchor="mm",
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(DPI, DPI), optimize=False)
    return buffer.getvalue()
