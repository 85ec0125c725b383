"""The locked log-in page on a phone: the form is still there, with the wait in Chinese."""

import os

import pytest

from tests.factories import PASSWORD, make_resident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_locked_log_in_page_says_how_long_to_wait(site, phone_page, artifacts_dir):
    page = phone_page
    phone = make_resident().user.phone
    page.goto(f"{site}/login/")
    for _ in range(10):
        page.fill("#id_username", phone)
        page.fill("#id_password", "wrong-guess")
        with page.expect_navigation():
            page.click("button[type=submit]")
    page.fill("#id_password", PASSWORD)  # the right password, during the lock
    with page.expect_navigation() as navigation:
        page.click("button[type=submit]")
    assert navigation.value.status == 429
    assert page.url == f"{site}/login/"
    alert = page.locator(".alert[role=alert]")
    assert alert.inner_text() == "登录失败次数过多，请 15 分钟后再试。"
    assert alert.is_visible()
    assert page.input_value("#id_username") == phone  # typed once, kept
    assert page.locator("button[type=submit]").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scroll
    page.screenshot(path=os.path.join(artifacts_dir, "login-locked.png"), full_page=True)
