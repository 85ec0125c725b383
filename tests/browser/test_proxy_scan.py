"""帮扫 in a real headless Chromium on a 375×812 phone: a helper checks an elder in by ID
number, a parent checks a bound child in by picking them, each seeing that person's
full-colour result page with 再帮一人; no CSP violation on the way."""

import datetime as dt
import os

import pytest
from django.utils import timezone

from checkins.models import CheckIn, Method
from proxy_scan.services import family_member_bind
from tests.factories import PASSWORD, add_flag, make_resident, make_venue, resident_id
from venues import codes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LISTEN_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def log_in(page, site, phone, next_path):
    page.goto(f"{site}/login/?next={next_path}")
    page.fill("#id_username", phone)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{site}{next_path}")


def assert_on_first_screen(page, selector):
    box = page.locator(selector).bounding_box()
    assert box and box["y"] + box["height"] <= 812 and box["x"] + box["width"] <= 375


def test_a_helper_checks_an_elder_in_by_id_number(site, phone_page, artifacts_dir):
    page = phone_page
    page.context.add_init_script(LISTEN_CSP)
    venue = make_venue()
    helper = make_resident(name="李志愿")
    elder = make_resident(name="王秀英", id_number=resident_id(birth="19440315", seq=11))
    add_flag(elder, "fever_clinic", starts=timezone.now() - dt.timedelta(days=1))
    help_path = f"/v/{codes.make(public_id=venue.public_id, version=venue.poster_version)}/help/"

    log_in(page, site, helper.user.phone, help_path)
    assert page.locator("#way-id-card").get_attribute("open") is not None
    page.screenshot(path=os.path.join(artifacts_dir, "proxy-scan-ways.png"))
    page.fill("#id-name", "王秀英")
    page.fill("#id-number", elder.id_number)
    page.click("#way-id-card button[type=submit]")

    page.wait_for_selector("#result")
    card = page.inner_text("#result")
    assert "王*英" in card and "黄码" in card and "禁止通行" in card
    assert elder.id_number not in page.content()
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(242, 177, 0)"
    assert_on_first_screen(page, "#decision")
    page.screenshot(path=os.path.join(artifacts_dir, "proxy-scan-elder-result.png"))
    checkin = CheckIn.objects.get()
    assert (checkin.resident, checkin.method, checkin.helper) == (
        elder,
        Method.PROXY_ID_CARD,
        helper.user,
    )

    page.click("#help-next")  # 再帮一人: back to the four ways, nothing more recorded
    page.wait_for_url(f"{site}{help_path}")
    assert CheckIn.objects.count() == 1
    assert page.evaluate("window.__csp") == []


def test_a_parent_checks_a_child_in_by_family_binding(site, phone_page, artifacts_dir):
    page = phone_page
    page.context.add_init_script(LISTEN_CSP)
    venue = make_venue()
    parent = make_resident(name="张妈妈")
    binding = family_member_bind(
        holder=parent,
        name="张小宝",
        id_type="resident_id",
        id_number=resident_id(region="330106", birth="20170910", seq=52),
        relationship="child",
    )
    help_path = f"/v/{codes.make(public_id=venue.public_id, version=venue.poster_version)}/help/"

    log_in(page, site, parent.user.phone, help_path)
    page.click("#way-family summary")
    page.wait_for_selector(".help-member-button")
    assert "张*宝" in page.inner_text("#way-family")
    page.screenshot(path=os.path.join(artifacts_dir, "proxy-scan-family.png"))
    page.click(".help-member-button")

    page.wait_for_selector("#result")
    card = page.inner_text("#result")
    assert "张*宝" in card and "绿码" in card and "可以通行" in card
    assert_on_first_screen(page, "#decision")
    assert page.is_visible("#help-next")
    page.screenshot(path=os.path.join(artifacts_dir, "proxy-scan-child-result.png"))
    checkin = CheckIn.objects.get()
    assert (checkin.resident, checkin.method, checkin.helper) == (
        binding.member,
        Method.PROXY_FAMILY,
        parent.user,
    )
    assert page.evaluate("window.__csp") == []
