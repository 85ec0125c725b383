import csv
import io

import pytest
from django.urls import reverse

from checkins.export import neutralise
from checkins.services import checkin_manual, checkin_record
from tests.factories import make_venue

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ["=1+1", "+86", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(value):
    assert neutralise(value) == "'" + value


def test_ordinary_cells_are_left_alone():
    assert neutralise("张*三") == "张*三" and neutralise(None) == ""


def test_export_is_masked_and_safe(client, resident):
    venue = make_venue()
    checkin_record(resident=resident, venue=venue, method="self_scan")
    checkin_manual(
        venue=venue,
        scanned_by=venue.administrator,
        name="=HYPERLINK",
        id_type="passport",
        id_number="E12345678",
    )
    client.force_login(venue.administrator)
    response = client.get(reverse("venues:checkins-csv"))
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["登记时间（北京时间 UTC+8）", "姓名", "证件号码"]
    assert resident.id_number not in text and resident.name not in text
    assert resident.masked_id_number in text
    names = [row[1] for row in rows[1:]]
    assert resident.masked_name in names
    assert all(not name.startswith("=") for name in names)


def test_export_is_for_the_administrator_only(client, resident):
    make_venue()
    client.force_login(resident.user)
    assert client.get(reverse("venues:checkins-csv")).status_code == 404


def _csv_times(client, venue) -> list[str]:
    client.force_login(venue.administrator)
    response = client.get(reverse("venues:checkins-csv"))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    return [row[0] for row in rows[1:]]


def test_a_check_in_at_2330_beijing_time_is_on_its_beijing_day(client, resident):
    """23:30 Beijing time is 15:30 UTC the same day; 00:30 the next day is 16:30 UTC of the
    SAME UTC day. The export of a Beijing day has the first and not the second, and writes
    the Beijing wall-clock time (an export in UTC would put both on one day, 8 hours off)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    import time_machine

    from checkins.models import CheckIn

    beijing = ZoneInfo("Asia/Shanghai")
    late = dt.datetime(2026, 3, 14, 23, 30, tzinfo=beijing)
    after_midnight = dt.datetime(2026, 3, 15, 0, 30, tzinfo=beijing)
    assert late.astimezone(dt.UTC).date() == after_midnight.astimezone(dt.UTC).date()
    venue = make_venue()
    for moment in (late, after_midnight):
        with time_machine.travel(moment, tick=False):
            checkin, _created = checkin_record(resident=resident, venue=venue, method="self_scan")
        CheckIn.objects.filter(pk=checkin.pk).update(checked_in_at=moment)  # to the second

    with time_machine.travel(dt.datetime(2026, 3, 14, 23, 59, 59, tzinfo=beijing), tick=False):
        assert _csv_times(client, venue) == ["2026-03-14 23:30:00"]
    with time_machine.travel(dt.datetime(2026, 3, 15, 0, 0, 0, tzinfo=beijing), tick=False):
        assert _csv_times(client, venue) == ["2026-03-15 00:30:00"]
