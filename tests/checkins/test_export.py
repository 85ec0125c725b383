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
