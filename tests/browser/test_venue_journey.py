"""Venue journeys in a real headless Chromium: declare a venue and download its poster, bind
an inspector, scan the poster as a green and as a red resident."""

import datetime as dt
import os

import pytest
from django.utils import timezone

from checkins.models import CheckIn
from healthcode.models import User
from nucleic.services import policy_create
from tests.factories import PASSWORD, add_flag, make_officer, make_resident, post_result
from tests.qr import decode_qr, pdf_page_png
from venues.models import Venue, VenueInspector

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, site, phone, next_url=""):
    page.goto(f"{site}/login/{'?next=' + next_url if next_url else ''}")
    page.fill("#id_username", phone)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")


def test_declare_download_bind_and_scan(site, phone_page, artifacts_dir):
    page = phone_page
    policy_create(
        group="general", window_hours=72, effective_from=timezone.now() - dt.timedelta(days=30)
    )
    User.objects.create_user(phone="13511110000", password=PASSWORD)
    log_in(page, site, "13511110000", "/venue/")
    page.wait_for_url(f"{site}/venue/")
    page.fill("#id_full_name", "西湖区文三路联华超市")
    code = "330106"  # picked province → city → district (static/js/region-picker.js)
    page.select_option("#id_region_code_province", code[:2])
    page.select_option("#id_region_code_city", code[:4])
    page.select_option("#id_region_code_county", code)
    page.fill("#id_address", "文三路 100 号")
    page.select_option("#id_category", "supermarket")
    page.fill("#id_credit_code", "91330106MA28XY0A1X")  # one character wrong
    page.click("main button[type=submit]")
    page.wait_for_selector("text=校验位不正确")
    page.fill("#id_credit_code", "91330106MA28XY0A1T")
    page.click("main button[type=submit]")
    # Pending: no poster, no declaration code, until an officer of 330106 approves it.
    page.wait_for_selector("#venue-status")
    assert "待审核" in page.inner_text("#venue-status")
    assert page.query_selector("#declaration-code") is None
    page.screenshot(path=os.path.join(artifacts_dir, "venue-pending.png"), full_page=True)
    page.click("text=退出")

    # A health officer of the district approves it on the queue page.
    officer = make_officer(region_codes=["330100"], phone="13511110009")
    log_in(page, site, officer.user.phone, "/officer/venues/")
    page.wait_for_url(f"{site}/officer/venues/")
    card = page.locator(".venue-pending", has_text="西湖区文三路联华超市")
    assert "91330106MA28XY0A1T" in card.inner_text() and "校验位正确" in card.inner_text()
    assert "135****0000" in card.inner_text() and "13511110000" not in page.content()
    page.screenshot(path=os.path.join(artifacts_dir, "officer-venues.png"), full_page=True)
    card.locator("button.approve").click()
    page.wait_for_selector("#queue-empty")
    assert Venue.objects.get().status == "approved"
    page.click("text=退出")

    log_in(page, site, "13511110000", "/venue/")
    page.wait_for_selector("#declaration-code")
    page.screenshot(path=os.path.join(artifacts_dir, "venue-home.png"), full_page=True)
    declaration_code = page.inner_text("#declaration-code").strip()
    with page.expect_download() as download:
        page.click("text=下载海报图片")
    url = decode_qr(open(download.value.path(), "rb").read())
    with page.expect_download() as download:
        page.click("text=下载 A4 场所码海报")
    # The PDF, rendered as printed, carries the same check-in address as the picture.
    assert decode_qr(pdf_page_png(open(download.value.path(), "rb").read())) == url
    page.click("text=退出")

    # An inspector binds the venue with the declaration code.
    User.objects.create_user(phone="13511110001", password=PASSWORD)
    log_in(page, site, "13511110001", "/inspect/bind/")
    page.wait_for_url(f"{site}/inspect/bind/")
    page.fill("#id_declaration_code", declaration_code)
    page.click("main button[type=submit]")
    page.wait_for_selector("text=已绑定场所")
    assert VenueInspector.objects.filter(user__phone="13511110001").exists()
    page.click("text=退出")

    # A green resident with a recent test scans the poster: 可以通行.
    green = make_resident(name="钱多多")
    now = timezone.now()
    post_result(
        id_number=green.id_number,
        name="钱多多",
        sampled=now - dt.timedelta(hours=8),
        reported=now - dt.timedelta(hours=2),
    )
    path = url.split("/", 3)[3]
    log_in(page, site, green.user.phone, "/" + path)
    page.wait_for_selector("#decision")
    assert "可以通行" in page.inner_text("#decision")
    page.screenshot(path=os.path.join(artifacts_dir, "checkin-green.png"), full_page=True)
    page.click("text=退出")

    # A red resident: the whole page is red, with the specific type.
    red = make_resident(name="孙红")
    add_flag(red, "close_contact")
    log_in(page, site, red.user.phone, "/" + path)
    page.wait_for_selector("#decision")
    assert "禁止通行" in page.inner_text("#decision")
    assert "隔离医学观察的密切接触者" in page.content()
    assert "result-red" in page.get_attribute("body", "class")
    page.screenshot(path=os.path.join(artifacts_dir, "checkin-red.png"), full_page=True)
    venue = Venue.objects.get()
    assert list(
        CheckIn.objects.filter(venue=venue)
        .values_list("decision", flat=True)
        .order_by("checked_in_at")
    ) == ["pass", "stop"]

    # The venue's administrator sees the red alert.
    page.click("text=退出")
    log_in(page, site, "13511110000", "/venue/")
    page.wait_for_selector("#alerts")
    assert "红码" in page.inner_text("#alerts") and "孙*" in page.inner_text("#alerts")


def test_inspector_pastes_a_code_and_confirms_with_fever(site, phone_page, artifacts_dir, settings):
    settings.MANUAL_CHECKIN_RATE_PER_INSPECTOR = "1/hour"
    from checkins.models import Alert
    from healthcode import tokens
    from tests.factories import make_venue
    from venues import services as venue_services

    page = phone_page
    venue = make_venue(full_name="文三路社区卫生服务中心", category="hospital")
    inspector = User.objects.create_user(phone="13511110002", password=PASSWORD)
    venue_services.inspector_bind(user=inspector, declaration_code=venue.declaration_code)
    resident = make_resident(name="吴大明")
    now = timezone.now()
    post_result(
        id_number=resident.id_number,
        name="吴大明",
        sampled=now - dt.timedelta(hours=8),
        reported=now - dt.timedelta(hours=2),
    )
    code = tokens.issue_for(resident.health_code, now=timezone.now()).token

    log_in(page, site, "13511110002", "/inspect/")
    page.wait_for_url(f"{site}/inspect/")
    page.fill("#code", code)
    page.click("#verify")
    page.wait_for_selector("#person:not([hidden])")
    assert page.inner_text("#p-name") == "吴*明"
    assert page.inner_text("#p-colour") == "绿码"
    assert page.query_selector("#p-reasons") is None
    assert page.inner_text("#confirm") == "确认放行"
    page.check("input[name=band][value=fever]")
    assert page.inner_text("#confirm") == "确认拦截"
    page.screenshot(path=os.path.join(artifacts_dir, "inspect-verify.png"), full_page=True)
    page.click("#confirm")
    # Recorded: the form is back for the next person, with a line saying what was recorded.
    page.wait_for_selector("#last:not([hidden])")
    assert page.locator("#person").is_hidden()
    assert "吴*明" in page.inner_text("#last") and "体温异常" in page.inner_text("#last")
    page.screenshot(path=os.path.join(artifacts_dir, "inspect-done.png"), full_page=True)
    assert Alert.objects.get().kind == "fever"

    # 手工登记 for someone with no phone.
    page.click("#manual summary")
    page.fill("#m-name", "周老伯")
    page.fill("#m-id", "11010519491231002X")
    page.click("#m-submit")
    page.wait_for_selector("#done:not([hidden])")
    assert page.inner_text("#done-name") == "周*伯" and "未注册" in page.inner_text("#done")
    page.screenshot(path=os.path.join(artifacts_dir, "inspect-manual-done.png"))

    # A second one within the hour is over this test's allowance: the page says so.
    page.click("#next")  # the manual form stays open
    page.fill("#m-name", "周老叔")
    page.click("#m-submit")
    page.wait_for_selector("#m-errors:has-text('手工登记过于频繁')")
    assert "秒后再试" in page.inner_text("#m-errors")
    assert not CheckIn.objects.filter(manual_name="周老叔").exists()

    # The venue's administrator sees the alert.
    page.click("text=退出")
    log_in(page, site, venue.administrator.phone, "/venue/")
    page.wait_for_selector("#alerts")
    assert "发热" in page.inner_text("#alerts") and "吴*明" in page.inner_text("#alerts")


def test_a_grid_worker_sees_and_handles_alerts_of_their_area(site, phone_page, artifacts_dir):
    from checkins.models import Alert, GridWorker
    from checkins.services import checkin_record
    from tests.factories import make_venue

    resident = make_resident(name="郑小花")  # lives in 110105
    add_flag(resident, "fever_clinic")
    checkin_record(resident=resident, venue=make_venue(), method="self_scan")
    worker = User.objects.create_user(phone="13511110003", password=PASSWORD)
    GridWorker.objects.create(user=worker, region_codes=["110100"])
    page = phone_page
    log_in(page, site, "13511110003", "/alerts/")
    page.wait_for_selector(".alerts")
    assert "郑*花" in page.inner_text(".alerts") and "黄码" in page.inner_text(".alerts")
    assert "郑小花" not in page.content()
    page.screenshot(path=os.path.join(artifacts_dir, "alerts.png"), full_page=True)
    page.click("text=标记已处理")
    page.wait_for_selector("text=已处理")
    assert Alert.objects.get().acknowledged_by == worker
