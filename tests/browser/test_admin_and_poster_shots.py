"""Screenshots for the last lines of issue 11, at 375×812: the admin in Chinese (site header,
column labels, filters and values: no MASKED NAME, inspector_scan or demo), and the A4 poster
PDF as printed (rendered by poppler: the embedded font, the venue's name and number, 无智能手机
请找工作人员登记, a QR that decodes to the venue's check-in page)."""

import os
import re

import pytest
from django.core.management import call_command

from healthcode.models import User
from tests.factories import PASSWORD, make_venue
from tests.qr import decode_qr, pdf_page_png
from venues import posters

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ENGLISH = re.compile(r"MASKED NAME|Masked name|inspector_scan|proxy_scan|\bdemo\b|Attempt Time")


def test_the_admin_lists_speak_chinese_on_a_phone(site, phone_page, artifacts_dir):
    call_command("seed_demo")
    User.objects.create_superuser(phone="13800000009", password=PASSWORD)
    page = phone_page
    page.goto(f"{site}/admin/login/?next=/admin/")
    page.fill("#id_username", "13800000009")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{site}/admin/")
    assert "健康码平台管理后台" in page.inner_text("#site-name")
    for path, name in [
        ("/admin/healthcode/riskflag/", "admin-riskflags"),
        ("/admin/audit/auditevent/", "admin-audit"),
        ("/admin/checkins/checkin/", "admin-checkins"),
        ("/admin/axes/accessattempt/", "admin-axes"),
    ]:
        page.goto(f"{site}{path}")
        page.wait_for_selector("#changelist")
        headers = [t.strip() for t in page.locator("#result_list thead th").all_inner_texts()]
        assert all(not h.isascii() for h in headers if h), (path, headers)
        text = page.inner_text("body")  # what is shown, not the links' app labels
        assert ENGLISH.search(text) is None, (path, ENGLISH.search(text))
        page.screenshot(path=os.path.join(artifacts_dir, f"{name}.png"), full_page=True)
    page.goto(f"{site}/admin/healthcode/riskflag/")
    assert "演示数据" in page.inner_text("#result_list")


def test_the_poster_pdf_as_printed(artifacts_dir):
    venue = make_venue(full_name="西湖区文三路联华超市", address="文三路 100 号")
    url = "http://testserver/v/example"
    png = pdf_page_png(posters.poster_pdf(venue, url), dpi=100)
    with open(os.path.join(artifacts_dir, "poster-pdf.png"), "wb") as file:
        file.write(png)
    assert decode_qr(png) == url
