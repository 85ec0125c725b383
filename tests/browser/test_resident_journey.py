"""A resident registers, sees the code, logs out and in again — in a real headless Chromium."""

import datetime as dt
import io
import os
import zoneinfo

import pytest
from django.utils import timezone
from PIL import Image

from healthcode.models import Resident
from healthcode.selectors import resident_from_token
from tests.factories import registration_data
from tests.qr import decode_qr

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def _fill_registration(page, data):
    page.fill("#id_name", data["name"])
    page.select_option("#id_id_type", data["id_type"])
    page.fill("#id_id_number", data["id_number"])
    page.fill("#id_phone", data["phone"])
    page.fill("#id_nationality", data["nationality"])
    code = data["region_code"]  # picked province → city → district (static/js/region-picker.js)
    page.select_option("#id_region_code_province", code[:2])
    page.select_option("#id_region_code_city", code[:4])
    page.select_option("#id_region_code_county", code)
    page.fill("#id_address", data["address"])
    for answer in data["contact_history"]:
        page.check(f"input[name=contact_history][value={answer}]")
    page.fill("#id_password", data["password"])
    page.fill("#id_password_again", data["password_again"])


def _clock_time(page) -> dt.datetime:
    """The time the page's clock shows, read as Beijing time."""
    shown = " ".join(page.inner_text("#clock").split())
    return dt.datetime.strptime(shown, "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)


def test_register_log_in_and_show_the_code(site, phone_page, artifacts_dir):
    page = phone_page
    data = registration_data(name="王小明")
    page.goto(f"{site}/register/")
    page.screenshot(path=os.path.join(artifacts_dir, "register.png"), full_page=True)

    # A wrong check digit and no commitment: errors in Chinese next to the fields, nothing saved.
    wrong_check = "1" if data["id_number"][-1] != "1" else "2"
    _fill_registration(page, {**data, "id_number": data["id_number"][:-1] + wrong_check})
    page.click("button[type=submit]")
    assert page.locator("#id_id_number_error").is_visible()
    assert page.inner_text("#id_id_number_error") == "身份证号码校验位不正确，请逐位核对。"
    assert page.inner_text("#id_commitment_error") == "请阅读并勾选承诺。"
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
    page.clock.install()  # the code page's timers then run on a clock the test moves
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/code/")

    # The clock ticks every second, in Beijing time: with the page's time stopped, each
    # second let pass on it shows the next second.
    instant = timezone.now().replace(microsecond=0) + dt.timedelta(minutes=2)
    page.clock.pause_at(instant)
    shown = []
    for _ in range(3):
        page.clock.run_for(1000)
        shown.append(_clock_time(page))
    assert instant <= shown[0] <= instant + dt.timedelta(seconds=1)
    assert [t - shown[0] for t in shown] == [dt.timedelta(seconds=s) for s in range(3)]
    page.clock.resume()
    page.wait_for_function("() => document.getElementById('qr').naturalWidth > 0")
    shot = page.screenshot(path=os.path.join(artifacts_dir, "code-green.png"))
    assert Image.open(io.BytesIO(shot)).size == (750, 1624)  # 375×812 at 2x

    # The QR in the screenshot verifies back to the person who registered.
    token = decode_qr(shot)
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
    page.wait_for_function("() => document.getElementById('qr').naturalWidth > 0")
    page.screenshot(path=os.path.join(artifacts_dir, "code-red.png"), full_page=True)
