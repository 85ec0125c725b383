"""A grid worker in a real headless Chromium: the count of unacknowledged alerts, alerts
grouped by person with region names, and acknowledging all of one person's at once."""

import os

import pytest

from checkins.models import Alert, GridWorker
from checkins.services import checkin_record
from healthcode.models import User
from tests.factories import PASSWORD, add_flag, make_resident, make_venue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_grid_worker_acknowledges_one_persons_alerts(site, phone_page, artifacts_dir):
    page = phone_page
    zhang = make_resident(name="张三丰", region_code="330106")
    li = make_resident(name="李四光", region_code="330105")
    for person in (zhang, li):
        add_flag(person, "fever_clinic")
    for venue_name in ("文三路联华超市", "西溪印象城"):
        venue = make_venue(full_name=venue_name)
        checkin_record(resident=zhang, venue=venue, method="self_scan")
    checkin_record(resident=li, venue=make_venue(full_name="武林广场"), method="self_scan")
    user = User.objects.create_user(phone="13533330001", password=PASSWORD)
    GridWorker.objects.create(user=user, region_codes=["330100"])

    page.goto(f"{site}/login/?next=/alerts/")
    page.fill("#id_username", user.phone)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{site}/alerts/")
    assert "未处理预警 3 条" in page.inner_text("#unacknowledged-count")
    zhang_card = page.locator(".person-alerts", has_text="张*丰")
    assert "浙江省杭州市西湖区" in zhang_card.inner_text()
    assert zhang_card.locator(".alert-row").count() == 2
    assert "张三丰" not in page.content()
    page.screenshot(path=os.path.join(artifacts_dir, "grid-worker-alerts.png"), full_page=True)

    zhang_card.locator("form.ack-person button").click()
    page.wait_for_selector("text=已将 2 条预警标记为已处理")
    assert "未处理预警 1 条" in page.inner_text("#unacknowledged-count")
    assert Alert.objects.filter(resident=li, acknowledged_at=None).count() == 1
    assert Alert.objects.filter(resident=zhang, acknowledged_at=None).count() == 0
    page.screenshot(
        path=os.path.join(artifacts_dir, "grid-worker-alerts-after.png"), full_page=True
    )
