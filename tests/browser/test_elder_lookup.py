"""老幼助查 in a real headless Chromium on a 375×812 phone: a venue's staff member looks an elder
up, sees the full-colour result, and the page blanks itself after 10 seconds; a reload, or
going back to it, then shows only 已过期."""

import datetime as dt
import os
import time

import pytest
from django.utils import timezone

from healthcode.models import User
from tests.factories import PASSWORD, add_flag, lookups, make_resident, make_venue, resident_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LISTEN_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def test_venue_staff_look_up_an_elder_and_the_page_blanks_after_10_seconds(
    site, phone_page, artifacts_dir
):
    page = phone_page
    page.context.add_init_script(LISTEN_CSP)
    staff = User.objects.create_user(phone="13522220000", password=PASSWORD)
    make_venue(administrator=staff)
    elder = make_resident(name="王秀英", id_number=resident_id(birth="19440315", seq=11))
    add_flag(elder, "fever_clinic", starts=timezone.now() - dt.timedelta(days=1))

    page.goto(f"{site}/login/?next=/lookup/")
    page.fill("#id_username", staff.phone)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{site}/lookup/")
    page.fill("#id_name", "王秀英")
    page.fill("#id_id_number", elder.id_number)
    page.click("#lookup-form button[type=submit]")

    page.wait_for_selector("#lookup-result")
    shown_at = time.monotonic()
    result_url = page.url
    assert "/lookup/r/" in result_url
    card = page.inner_text("#lookup-result")
    assert "王*英" in card and "1101**********" in card and "黄码" in card
    assert "14天内有发热门诊就诊记录" in card and "暂无核酸检测记录" in card
    assert elder.id_number not in page.content()
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(242, 177, 0)"  # the whole screen is yellow (--yellow)
    box = page.locator("#lookup-colour").bounding_box()
    assert box and box["y"] + box["height"] <= 812  # the colour word on the first screen
    page.screenshot(path=os.path.join(artifacts_dir, "elder-lookup-result.png"))

    # Blanked by the page's own script when the 10 seconds are up: the data leaves the DOM.
    page.wait_for_selector("#lookup-blanked:not([hidden])", timeout=20_000)
    assert time.monotonic() - shown_at >= 8.5  # not early (the redirect took part of the 10 s)
    assert page.query_selector("#lookup-result") is None
    assert "王*英" not in page.content() and "黄码" not in page.content()
    page.screenshot(path=os.path.join(artifacts_dir, "elder-lookup-blanked.png"))

    # A reload (the page's own Refresh, for browsers without JavaScript) shows only 已过期…
    response = page.reload()
    assert response.status == 410
    assert "查询结果已过期" in page.inner_text("main") and "王*英" not in page.content()
    # …and so does coming back to it with the back button.
    page.click("text=再查一人")
    page.wait_for_url(f"{site}/lookup/")
    page.go_back()
    page.wait_for_selector("#lookup-expired")
    assert page.url == result_url and "王*英" not in page.content()
    page.screenshot(path=os.path.join(artifacts_dir, "elder-lookup-expired.png"))

    assert page.evaluate("window.__csp") == []
    lookup = lookups().get()
    assert (lookup.actor, lookup.subject, lookup.action) == (staff, elder, "elder_lookup")
