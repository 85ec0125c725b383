"""The A4 venue-code poster, as PDF (vector, for printing) and PNG (300 dpi).

Both draw the same layout: the venue's full name, region and address, the QR at 120 mm wide
with its four-module quiet zone, 请扫码登记 with short instructions, the issue date and the
poster version. Chinese text needs no system font: the PDF uses ReportLab's built-in CID font
STSong-Light (viewers supply it), the PNG the Noto Sans SC subset shipped in static/fonts.
"""

import io
from dataclasses import dataclass
from pathlib import Path

import qrcode
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.colors import HexColor, black, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from venues.models import Venue

FONT_FILE = (
    Path(__file__).resolve().parent.parent / "static" / "fonts" / "NotoSansSC-Bold-GB2312.otf"
)
CID_FONT = "STSong-Light"
BLUE = "#1769e0"
QR_WIDTH_MM = 120
INSTRUCTIONS = [
    gettext_lazy("1. 打开手机相机、微信或支付宝“扫一扫”"),
    gettext_lazy("2. 扫描上方二维码，按提示完成登记"),
    gettext_lazy("3. 向工作人员出示登记结果页面"),
]
TITLE = gettext_lazy("场所码 · 请扫码登记")
FOOTER = gettext_lazy("数据仅用于疫情防控")


@dataclass(frozen=True)
class PosterText:
    name: str
    region: str
    address: str
    issued: str
    version: str


def poster_text(venue: Venue) -> PosterText:
    issued = timezone.localtime(venue.poster_issued_at).strftime("%Y-%m-%d")
    return PosterText(
        name=venue.full_name,
        region=_("行政区划 %(code)s · %(category)s")
        % {"code": venue.region_code, "category": venue.get_category_display()},
        address=venue.address,
        issued=_("签发日期 %(date)s") % {"date": issued},
        version=_("场所码 第 %(v)s 版 · 请勿涂改、遮挡或替换") % {"v": venue.poster_version},
    )


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
def poster_pdf(venue: Venue, url: str) -> bytes:
    if CID_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    text = poster_text(venue)
    buffer = io.BytesIO()
    page_w, page_h = A4
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"场所码 {text.name}")
    pdf.setFillColor(HexColor(BLUE))
    pdf.rect(0, page_h - 40 * mm, page_w, 40 * mm, stroke=0, fill=1)
    pdf.setFillColor(white)
    pdf.setFont(CID_FONT, 40)
    pdf.drawCentredString(page_w / 2, page_h - 26 * mm, str(TITLE))
    pdf.setFillColor(black)
    y = page_h - 58 * mm
    for line in _wrap(text.name, page_w - 40 * mm, lambda s: pdf.stringWidth(s, CID_FONT, 30)):
        pdf.setFont(CID_FONT, 30)
        pdf.drawCentredString(page_w / 2, y, line)
        y -= 12 * mm
    pdf.setFont(CID_FONT, 14)
    pdf.drawCentredString(page_w / 2, y, text.region)
    for line in _wrap(text.address, page_w - 40 * mm, lambda s: pdf.stringWidth(s, CID_FONT, 14)):
        y -= 7 * mm
        pdf.drawCentredString(page_w / 2, y, line)
    _pdf_qr(pdf, qr_matrix(url), x=(page_w - QR_WIDTH_MM * mm) / 2, top=y - 6 * mm)
    y = y - 6 * mm - QR_WIDTH_MM * mm - 10 * mm
    pdf.setFont(CID_FONT, 15)
    for line in map(str, INSTRUCTIONS):
        pdf.drawString(45 * mm, y, line)
        y -= 8 * mm
    pdf.setFont(CID_FONT, 11)
    pdf.setFillColor(HexColor("#6b7280"))
    pdf.drawCentredString(page_w / 2, 18 * mm, f"{text.issued} · {text.version}")
    pdf.drawCentredString(page_w / 2, 12 * mm, str(FOOTER))
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _pdf_qr(pdf, matrix, *, x: float, top: float) -> None:
    module = QR_WIDTH_MM * mm / len(matrix)
    pdf.setFillColor(black)
    for row, cells in enumerate(matrix):
        y = top - (row + 1) * module
        col = 0
        while col < len(cells):  # one rectangle per run of dark modules
            if not cells[col]:
                col += 1
                continue
            start = col
            while col < len(cells) and cells[col]:
                col += 1
            pdf.rect(x + start * module, y, (col - start) * module, module, stroke=0, fill=1)


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
    for line in _wrap(text.name, width - _px(40), lambda s: draw.textlength(s, font=title)):
        draw.text((width / 2, y), line, font=title, fill="black", anchor="mt")
        y += _px(12)
    small = font(14)
    draw.text((width / 2, y), text.region, font=small, fill="black", anchor="mt")
    for line in _wrap(text.address, width - _px(40), lambda s: draw.textlength(s, font=small)):
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
    foot = font(11)
    draw.text(
        (width / 2, A4_PX[1] - _px(18)),
        f"{text.issued} · {text.version}",
        font=foot,
        fill="#6b7280",
        anchor="mm",
    )
    draw.text(
        (width / 2, A4_PX[1] - _px(12)),
        str(FOOTER),
        font=foot,
        fill="#6b7280",
        anchor="mm",
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(DPI, DPI), optimize=False)
    return buffer.getvalue()
