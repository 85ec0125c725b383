"""时空关联 in a real headless Chromium: an officer registers a case, starts a trace, reads the
preview and asks to apply it; above the threshold it waits; a second officer approves; the
contacts' code pages turn red with the reason. No CSP violation on the way."""

import datetime as dt
import os

import pytest
from django.utils import timezone

from checkins.models import Method
from checkins.services import checkin_record
from tests.browser.test_proxy_scan import LISTEN_CSP, log_in
from tests.factories import make_officer, make_resident, make_venue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_case_is_traced_approved_by_a_second_officer_and_contacts_turn_red(
    site, browser, artifacts_dir, settings
):
    settings.TRACE_APPROVAL_THRESHOLD = 1  # two contacts: a second officer must approve
    first = make_officer(phone="13611113001", region_codes=("110105", "330106"))
    second = make_officer(phone="13611113002", region_codes=("110105", "330106"))
    venue = make_venue(full_name="西湖区文三路联华超市", category="supermarket")
    start = timezone.now() - dt.timedelta(hours=5)
    case_person = make_resident(name="赵病例")
    contacts = [make_resident(name=name) for name in ("钱多多", "孙小小")]
    for person in (case_person, *contacts):
        checkin_record(resident=person, venue=venue, method=Method.SELF_SCAN, now=start)

    def phone():
        context = browser.new_context(
            viewport={"width": 375, "height": 812},
            device_scale_factor=2,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        context.add_init_script(LISTEN_CSP)
        return context, context.new_page()

    context, page = phone()
    log_in(page, site, first.user.phone, "/officer/")
    page.click("text=登记病例")
    page.fill("#id_id_number", case_person.id_number)
    onset = timezone.localtime(timezone.now() - dt.timedelta(hours=1))
    page.fill("#id_onset_at", onset.strftime("%Y-%m-%dT%H:%M"))
    page.click("main button[type=submit]")
    page.wait_for_selector("text=新建时空关联")
    assert case_person.masked_name in page.inner_text("h1")
    page.click("main form button[type=submit]")
    page.wait_for_selector("#preview")
    preview = page.inner_text("#preview")
    assert "赋码预览（尚未生效）" in preview and "2" in preview
    groups = page.inner_text("main")
    for person in contacts:
        assert person.masked_name in groups and person.name not in groups
    page.screenshot(path=os.path.join(artifacts_dir, "trace-preview.png"), full_page=True)
    page.fill("#id_reason", "流调确认：同一超市同时段")
    page.click("#apply")
    page.wait_for_selector("text=须由另一名工作人员审批")
    assert page.locator("#approve").count() == 0
    assert page.evaluate("window.__csp") == []
    context.close()

    context, page = phone()
    log_in(page, site, second.user.phone, "/officer/")
    assert "待我审批" in page.inner_text("#awaiting")
    page.click("#awaiting a")
    page.click("#approve")
    page.wait_for_selector("text=已审批，赋码生效")
    assert "已赋码" in page.inner_text("#decision")
    page.screenshot(path=os.path.join(artifacts_dir, "trace-approved.png"), full_page=True)
    assert page.evaluate("window.__csp") == []

    # The workbench's plots: three SVG pictures that fit the phone, with today's contacts.
    page.goto(f"{site}/officer/")
    plots = page.locator("#plots svg")
    assert plots.count() == 3
    for n in range(3):
        box = plots.nth(n).bounding_box()
        assert box and 250 < box["width"] <= 375 and box["height"] > 100
    assert page.locator("#plot-checkins .bar").count() == 14 * 24
    contacts_today = page.locator("#plot-contacts .bar").last.get_attribute("height")
    assert float(contacts_today) > 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=os.path.join(artifacts_dir, "workbench.png"), full_page=True)
    assert page.evaluate("window.__csp") == []
    context.close()

    for person in contacts:
        context, page = phone()
        log_in(page, site, person.user.phone, "/code/")
        card = page.inner_text("#code-card")
        assert "红码" in card and "隔离医学观察的密切接触者" in card
        context.close()
