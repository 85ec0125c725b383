"""A resident registers, sees the code, logs out and in again — in a real headless Chromium."""

import io
import os

import pytest
import zxingcpp
from django.utils import timezone
from PIL import Image

from healthcode.models import Resident
from healthcode.selectors import resident_from_token
from tests.factories import registration_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fill_registration(page, data):
    page.fill("#id_name", data["name"])
    page.select_option("#id_id_type", data["id_type"])
    page.fill("#id_id_number", data["id_number"])
    page.fill("#id_phone", data["phone"])
    page.fill("#id_nationality", data["nationality"])
    page.fill("#id_region_code", data["region_code"])
    page.fill("#id_address", data["address"])
    for answer in data["contact_history"]:
        page.check(f"input[name=contact_history][value={answer}]")
    page.fill("#id_password", data["password"])
    page.fill("#id_password_again", data["password_again"])


def _decode_screenshot(png: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert results, "no QR found in the screenshot"
    return results[0].text


def test_register_log_in_and_show_the_code(site, phone_page, artifacts_dir):
    page = phone_page
    data = registration_data(name="王小明")
    page.goto(f"{site}/register/")
    page.screenshot(path=os.path.join(artifacts_dir, "register.png"), full_page=True)

    # A wrong check digit and no commitment: errors in Chinese next to the fields, nothing saved.
    _fill_registration(page, {**data, "id_number": data["id_number"][:-1] + "0"})
    page.click("button[type=submit]")
    assert page.locator("#id_id_number-error, .has-error .error").first.is_visible()
    assert "校验位不正确" in page.content() or "身份证" in page.content()
    assert "请阅读并勾选承诺" in page.content()
    page.screenshot(path=os.path.join(artifacts_dir, "register-errors.png"), full_page=True)
    assert not Resident.objects.exists()

    page.fill("#id_id_number", data["id_number"])
    page.fill("#id_password", data["password"])
    page.fill("#id_password_again", data["password_again"])
    page.check("#id_commitment")
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/code/")
    assert page.locator(".colour-label").inner_text() == "绿码"
    assert "未见异常" in page.locator("#reasons").inner_text()
    assert "王*明" in page.content() and "王小明" not in page.content()

    # Log out, then in again by phone number.
    page.click("text=退出")
    page.wait_for_url(f"{site}/login/")
    page.screenshot(path=os.path.join(artifacts_dir, "login.png"), full_page=True)
    page.fill("#id_username", data["phone"])
    page.fill("#id_password", data["password"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/code/")

    # The clock ticks every second.
    first = page.locator("#clock").inner_text()
    page.wait_for_function(
        "t => document.getElementById('clock').textContent !== t", arg=first, timeout=3000
    )
    page.wait_for_function("document.getElementById('qr').naturalWidth > 0")
    shot = page.screenshot(path=os.path.join(artifacts_dir, "code-green.png"))
    assert Image.open(io.BytesIO(shot)).size == (750, 1624)  # 375×812 at 2x

    # The QR in the screenshot verifies back to the person who registered.
    token = _decode_screenshot(shot)
    assert resident_from_token(token=token, now=timezone.now()).user.phone == data["phone"]


def test_a_red_code_says_why(site, phone_page, artifacts_dir):
    from datetime import timedelta

    from nucleic.models import TestPolicy
    from tests.factories import PASSWORD, add_flag, make_resident, post_result

    TestPolicy.objects.create(
        group="general", window_hours=72, effective_from=timezone.now() - timedelta(days=365)
    )
    resident = make_resident(name="赵小六")
    now = timezone.now()
    post_result(
        id_number=resident.id_number,
        name="赵小六",
        sampled=now - timedelta(hours=30),
        reported=now - timedelta(hours=20),
    )
    add_flag(resident, "close_contact", reason="流调判定")
    page = phone_page
    page.goto(f"{site}/login/")
    page.fill("#id_username", resident.user.phone)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/code/")
    assert page.locator(".colour-label").inner_text() == "红码"
    assert "隔离医学观察的密切接触者" in page.locator("#reasons").inner_text()
    assert "72 小时内阴性" in page.locator("#test-line").inner_text()
    assert "卫健部门风险人员名单" in page.locator(".why").inner_text()
    page.wait_for_function("document.getElementById('qr').naturalWidth > 0")
    page.screenshot(path=os.path.join(artifacts_dir, "code-red.png"), full_page=True)
