"""CSV export of a venue's check-ins, masked, safe to open in a spreadsheet."""

import csv
import io

from django.utils import timezone

from healthcode import masking

# Times are written in Beijing time (the zone the settings name), and the header says so.
BEIJING_HEADER = "北京时间 UTC+8"

# A cell starting with one of these is a formula to Excel/WPS (CSV injection); prefix a quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER = [
    f"登记时间（{BEIJING_HEADER}）",
    "姓名",
    "证件号码",
    "方式",
    "健康码",
    "结果",
    "说明",
    "体温",
]


def neutralise(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def checkins_csv(checkins) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for checkin in checkins:
        id_number = checkin.resident.id_number if checkin.resident else checkin.manual_id_number
        writer.writerow(
            neutralise(cell)
            for cell in (
                f"{timezone.localtime(checkin.checked_in_at):%Y-%m-%d %H:%M:%S}",
                checkin.masked_name,
                masking.mask_id_number(id_number),
                checkin.get_method_display(),
                checkin.get_colour_display() or "未注册",
                checkin.get_decision_display(),
                checkin.decision_text,
                checkin.get_temperature_band_display(),
            )
        )
    return "\ufeff" + buffer.getvalue()  # BOM: Excel in China opens UTF-8 correctly
