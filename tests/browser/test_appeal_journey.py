"""申诉 in a real headless Chromium on 375×812 phones: a resident turned yellow by a flag opens
her record, appeals the reason with a text and a photo; a health officer of her district finds
it in the queue, reads the masked facts and the photo, and upholds it; her code page is green,
with the answer. Nothing scrolls sideways, no CSP violation, nothing unmasked to the officer."""

import datetime as dt
import io
import os

import pytest
from django.utils import timezone
from PIL import Image

from appeals.models import Appeal
from healthcode.services import healthcode_recompute_many
from tests.browser.test_proxy_scan import LISTEN_CSP, log_in
from tests.factories import add_flag, make_officer, make_resident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def phone(browser):
    context = browser.new_context(
        viewport={"width": 375, "height": 812},
        device_scale_factor=2,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        is_mobile=True,
        has_touch=True,
    )
    context.add_init_script(LISTEN_CSP)
    return context, context.new_page()


def fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{page.url} scrolls sideways ({width} px)"
    assert page.evaluate("window.__csp") == []


def a_photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (240, 240, 235)).save(out, format="JPEG")
    return out.getvalue()


def test_a_yellow_resident_appeals_from_the_record_and_an_officer_upholds_it(
    site, browser, artifacts_dir
):
    shot = lambda page, name: page.screenshot(  # noqa: E731
        path=os.path.join(artifacts_dir, f"appeal-{name}.png"), full_page=True
    )
    resident = make_resident(name="李晓明", phone="13912345001")
    add_flag(
        resident,
        "symptoms",
        source="朝阳区社区上报",
        starts=timezone.now() - dt.timedelta(hours=3),
        reason="社区网格员上报发热",
        recompute=False,
    )
    healthcode_recompute_many(resident_ids=[resident.pk], cause="risk flags")  # turned now
    officer = make_officer(phone="13611115001", region_codes=("110105",))

    context, page = phone(browser)
    log_in(page, site, resident.user.phone, "/code/")
    assert "黄码" in page.inner_text("#colour-label")
    assert page.locator(".why .appeal-link").count() == 1  # 申诉 under the reason
    fits(page)
    shot(page, "0-code-yellow")
    page.click("a[href='/me/record/']")
    page.wait_for_url(f"{site}/me/record/")
    shot(page, "1-record")
    page.click("#appeals .appeal-link")
    page.wait_for_url(f"{site}/me/appeals/new?fact=*")
    assert "有发热、干咳、气促等呼吸道症状" in page.inner_text(".appeal-reason")
    page.fill("#id_text", "我没有发热症状，社区上报的是同名邻居，附体温记录照片。")
    page.set_input_files(
        "#id_photo", files=[{"name": "体温.jpg", "mimeType": "image/jpeg", "buffer": a_photo()}]
    )
    fits(page)
    shot(page, "2-form")
    page.click("#appeal-form button[type=submit]")
    page.wait_for_url(f"{site}/me/appeals/")
    assert "申诉已提交" in page.inner_text("main") and "处理中" in page.inner_text("#appeals")
    fits(page)
    shot(page, "3-mine")
    appeal = Appeal.objects.get()

    officer_context, desk = phone(browser)
    log_in(desk, site, officer.user.phone, "/officer/")
    desk.click("nav .nav-link:has-text('申诉处理')")
    desk.wait_for_url(f"{site}/officer/appeals/")
    assert "已等待" in desk.inner_text("#queue")
    fits(desk)
    shot(desk, "4-queue")
    desk.click(f"a[href='/officer/appeals/{appeal.public_id}/']")
    desk.wait_for_selector("#facts")
    facts = desk.inner_text("#facts")
    assert "139****5001" in facts and resident.masked_id_number in facts
    assert "朝阳区社区上报" in facts and "社区网格员上报发热" in facts
    html = desk.content()
    for leak in (resident.name, resident.id_number, resident.user.phone):
        assert leak not in html
    # The photo loads after the page's DOM (#facts): wait for it (up to 20 s), then read its
    # size. Polled from here: the page's CSP forbids the eval wait_for_function would need.
    for _ in range(200):
        if desk.evaluate("document.querySelector('.appeal-photo').complete"):
            break
        desk.wait_for_timeout(100)
    assert desk.evaluate("document.querySelector('.appeal-photo').naturalWidth") == 640
    fits(desk)
    shot(desk, "5-detail")
    desk.fill("#id_answer", "经核实为同名邻居误报，已撤销。")
    desk.click("#uphold")
    desk.wait_for_url(f"{site}/officer/appeals/")
    assert "已认定申诉成立" in desk.inner_text("main")
    assert "经核实为同名邻居误报" in desk.inner_text("#decided")
    officer_context.close()

    page.goto(f"{site}/code/")
    assert "绿码" in page.inner_text("#colour-label")
    answers = page.inner_text("#appeal-answers")
    assert "申诉成立" in answers and "经核实为同名邻居误报，已撤销。" in answers
    fits(page)
    shot(page, "6-green")
    page.goto(f"{site}/me/record/")
    assert f"申诉成立（申诉编号 {appeal.pk}）" in page.inner_text("#changes")
    shot(page, "7-record-after")
    context.close()
