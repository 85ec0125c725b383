"""CSV of a trace's contacts for field teams: masked, formula-neutralised, Beijing time."""

import csv
import io

from django.utils import timezone

from checkins.export import BEIJING_HEADER, neutralise
from healthcode import masking

HEADER = [
    "类别",
    "姓名",
    "证件号码",
    "场所",
    f"重叠开始（{BEIJING_HEADER}）",
    f"重叠结束（{BEIJING_HEADER}）",
    "重叠分钟",
    "离开时间",
]


def contacts_csv(contacts) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for contact in contacts:
        writer.writerow(
            neutralise(cell)
            for cell in (
                contact.get_degree_display(),
                contact.resident.masked_name,
                masking.mask_id_number(contact.resident.id_number),
                contact.venue.full_name,
                f"{timezone.localtime(contact.window_from):%Y-%m-%d %H:%M:%S}",
                f"{timezone.localtime(contact.window_to):%Y-%m-%d %H:%M:%S}",
                contact.overlap_minutes,
                "明确" if contact.end_explicit else "推定",
            )
        )
    return "\ufeff" + buffer.getvalue()  # BOM: Excel in China opens UTF-8 correctly
