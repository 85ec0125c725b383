"""The printable A5 paper health code, as PDF, for people without a smartphone.

It carries a QR of the signed paper token (``healthcode.tokens.issue_paper``), the masked name
and ID, when it was printed and until when it is valid, and 此码仅用于核验，颜色以扫码结果为准:
no colour is ever printed as a status, because a colour on paper would go stale the moment
it changed. Black on white only, so any office printer reproduces it.

The text uses the posters' Noto Sans SC subset (``venues.posters.FONT_FILE``), embedded and
subset into the PDF: a PDF that names a font the printer lacks prints tofu boxes. ReportLab
cannot embed this OpenType (CFF) font, so the page is drawn with fpdf2, which can.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from fpdf import FPDF

from venues.posters import FONT_FILE, PDF_FONT, pdf_qr, qr_matrix

A5_MM = (148, 210)
# 95 mm for about 50 modules (quiet zone included): nearly 2 mm a module, read at arm's length
# by phone cameras and door scanners even from a worn print.
QR_WIDTH_MM = 95
NOTICE = gettext_lazy("此码仅用于核验，颜色以扫码结果为准")
TITLE = gettext_lazy("纸质健康码")
GREY = (90, 90, 90)


@dataclass(frozen=True)
class PaperText:
    name: str
    id_number: str
    printed: str
    valid_until: str


def paper_text(*, masked_name: str, masked_id_number: str, issued_at, expires_at) -> PaperText:
    def local(moment: dt.datetime) -> str:
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")

    return PaperText(
        name=masked_name,
        id_number=masked_id_number,
        printed=_("打印时间：%(t)s") % {"t": local(issued_at)},
        valid_until=_("有效期至：%(t)s") % {"t": local(expires_at)},
    )


def paper_pdf(*, token: str, text: PaperText) -> bytes:
    pdf = FPDF(unit="mm", format=A5_MM)
    pdf.set_auto_page_break(False)
    pdf.set_margins(10, 10, 10)
    pdf.set_title(str(TITLE))
    pdf.set_creator("healthcode-platform")
    pdf.add_font(PDF_FONT, fname=str(FONT_FILE))  # subset and embedded on output
    pdf.add_page()
    width = A5_MM[0]
    _centred(pdf, str(TITLE), y=12, size=24)
    _centred(pdf, text.name, y=26, size=18)
    _centred(pdf, text.id_number, y=35, size=14)
    pdf_qr(pdf, qr_matrix(token), x=(width - QR_WIDTH_MM) / 2, y=45, width_mm=QR_WIDTH_MM)
    y = 45 + QR_WIDTH_MM + 4
    _centred(pdf, str(NOTICE), y=y, size=14)
    _centred(pdf, text.printed, y=y + 11, size=12)
    _centred(pdf, text.valid_until, y=y + 18, size=12)
    pdf.set_text_color(*GREY)
    _centred(pdf, _("过期或遗失请登录“我的健康码”重新打印，或作废全部纸质码"), y=190, size=9)
    _centred(pdf, _("数据仅用于疫情防控"), y=196, size=9)
    return bytes(pdf.output())


def _centred(pdf: FPDF, line: str, *, y: float, size: int) -> None:
    pdf.set_font(PDF_FONT, size=size)
    pdf.set_xy(0, y)
    pdf.cell(w=A5_MM[0], h=size * 0.45, text=line, align="C")
