"""The admin's own chrome speaks Chinese: its header and title are the platform's, not
Django administration."""

import pytest

from healthcode.models import User

pytestmark = pytest.mark.django_db


def test_the_admin_header_and_title_are_chinese(client):
    admin = User.objects.create_superuser(phone="13800000001", password="Test-pass-2026!")
    client.force_login(admin)
    body = client.get("/admin/").content.decode()
    assert "健康码平台管理后台" in body and "<title>数据管理 | 健康码管理</title>" in body
    assert "Django administration" not in body and "Django 管理" not in body


def test_list_columns_and_channels_speak_chinese(client):
    from audit.services import audit_lookup
    from checkins.models import Method
    from checkins.services import checkin_record
    from tests.factories import make_resident, make_venue

    admin = User.objects.create_superuser(phone="13800000001", password="Test-pass-2026!")
    client.force_login(admin)
    person = make_resident(name="张三丰")
    venue = make_venue(full_name="西湖区文三路联华超市")
    checkin_record(resident=person, venue=venue, method=Method.SELF_SCAN)
    audit_lookup(actor=admin, subject=person, action="inspector_scan", venue_name=venue.full_name)
    pages = {
        "checkin": client.get("/admin/checkins/checkin/").content.decode(),
        "resident": client.get("/admin/healthcode/resident/").content.decode(),
        "lookup": client.get("/admin/audit/auditevent/").content.decode(),
    }
    for name, body in pages.items():
        for english in ("MASKED NAME", "Masked name", "Masked id number", ">Venue<", ">VENUE<"):
            assert english not in body, (name, english)
    assert "场所" in pages["checkin"] and "张*丰" in pages["checkin"]
    assert "姓名" in pages["resident"] and "证件号码" in pages["resident"]
    assert "场所检查人员反向扫码" in pages["lookup"]
    assert "张三丰" not in pages["checkin"] + pages["resident"]
