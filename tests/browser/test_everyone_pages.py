"""Pages everyone meets, in a real headless Chromium on a 375×812 phone: the navigation shows
each role its own links and no other's; the 404, 403, CSRF-failure and 500 pages are Chinese,
fit the phone and lead back to 我的健康码; form errors name their field, are tied to it for
screen readers and speak Chinese (the password rules too); the venue administrator's
destructive actions sit apart from the downloads and act only after a confirmation that spells
out the effect. No CSP violation on the way."""

import os

import pytest
from django.test import RequestFactory

from checkins.models import GridWorker
from config.errors import server_error
from healthcode.models import User
from tests.factories import (
    PASSWORD,
    make_officer,
    make_resident,
    make_venue,
    registration_data,
    resident_id,
)
from venues import services as venue_services
from venues.models import Venue

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


def nav_labels(page) -> list[str]:
    return [text.strip() for text in page.locator("nav .nav-link").all_inner_texts()]


def fits_the_phone(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page is {width} px wide on a 375 px phone"


def no_csp_violation(page) -> None:
    assert page.evaluate("window.__csp") == []


def test_each_role_sees_its_own_links_and_no_others(site, phone_page, artifacts_dir):
    page = phone_page
    page.add_init_script(LISTEN_CSP)
    resident = make_resident()
    venue = make_venue(full_name="文三路联华超市")
    # A resident who also inspects at a door: both kinds of link.
    inspector = make_resident(id_number=resident_id(seq=7), phone="13500000011").user
    venue_services.inspector_bind(user=inspector, declaration_code=venue.declaration_code)
    grid = User.objects.create_user(phone="13500000012", password=PASSWORD)
    GridWorker.objects.create(user=grid, region_codes=["330100"])
    officer = make_officer(phone="13500000013")

    # Signed out: no navigation at all.
    page.goto(f"{site}/login/")
    assert page.locator("nav .nav-link").count() == 0

    # The other staff accounts have no resident record: no 我的健康码 (they have no code).
    expected = {
        resident.user.phone: ("/code/", ["我的健康码"]),
        venue.administrator.phone: ("/venue/", ["我的场所", "绑定场所"]),
        inspector.phone: ("/inspect/", ["我的健康码", "反向扫码", "绑定场所"]),
        grid.phone: ("/alerts/", ["预警"]),
        officer.user.phone: ("/officer/", ["流调工作台", "场所审核", "申诉处理"]),
    }
    for phone, (path, labels) in expected.items():
        log_in(page, site, phone, path)
        assert nav_labels(page) == labels, phone
        current = page.locator('nav .nav-link[aria-current="page"]')
        assert current.count() == 1 and current.get_attribute("href") == path
        fits_the_phone(page)
        name = {"/code/": "resident", "/venue/": "venue-admin", "/inspect/": "inspector"}
        name |= {"/alerts/": "grid-worker", "/officer/": "officer"}
        page.screenshot(path=os.path.join(artifacts_dir, f"nav-{name[path]}.png"), clip=_top(page))
        # The links lead where they say.
        for label in labels:
            href = page.locator("nav .nav-link", has_text=label).get_attribute("href")
            assert page.request.get(f"{site}{href}").status == 200, (phone, label)
        page.click("text=退出")
    no_csp_violation(page)


def _top(page) -> dict:
    return {"x": 0, "y": 0, "width": 375, "height": 812}


def test_the_error_pages_are_chinese_fit_the_phone_and_lead_to_my_code(
    site, phone_page, artifacts_dir
):
    page = phone_page
    page.add_init_script(LISTEN_CSP)
    resident = make_resident()

    def check(name: str, title: str, status: int, response) -> None:
        assert response.status == status
        assert page.locator("h1").inner_text() == title
        assert page.locator("header.topbar").count() == 1  # extends the base template
        back = page.locator("main a", has_text="返回我的健康码")
        assert back.get_attribute("href") == "/code/"
        box = back.bounding_box()
        assert box and box["y"] + box["height"] <= 812  # on the first screen
        body = page.inner_text("body")
        for english in ("Not Found", "Forbidden", "CSRF verification", "Server Error"):
            assert english not in body
        fits_the_phone(page)
        page.screenshot(path=os.path.join(artifacts_dir, f"error-{name}.png"), full_page=True)

    check("404", "页面不存在", 404, page.goto(f"{site}/no-such-page/"))

    log_in(page, site, resident.user.phone, "/code/")
    check("403", "没有权限", 403, page.goto(f"{site}/officer/risk-flags/"))
    page.click("main a:has-text('返回我的健康码')")
    page.wait_for_url(f"{site}/code/")

    # A form posted after its CSRF cookie went (a page left open too long).
    page.click("text=退出")
    page.goto(f"{site}/login/")
    page.context.clear_cookies()
    page.fill("#id_username", resident.user.phone)
    page.fill("#id_password", PASSWORD)
    with page.expect_response(f"{site}/login/") as answer:
        page.click("main button[type=submit]")
    page.wait_for_load_state()
    check("csrf", "页面已过期", 403, answer.value)

    # The 500 page, as the handler answers it (rendered without a request context).
    body = server_error(RequestFactory().get("/boom/")).content
    page.route(
        f"{site}/boom/",
        lambda route: route.fulfill(status=500, body=body, content_type="text/html"),
    )
    check("500", "服务暂时不可用", 500, page.goto(f"{site}/boom/"))
    no_csp_violation(page)


def test_form_errors_name_their_field_are_tied_to_it_and_speak_chinese(
    site, phone_page, artifacts_dir
):
    page = phone_page
    page.add_init_script(LISTEN_CSP)
    data = registration_data(password="Xq7!kz", password_again="Xq7!kz")
    page.goto(f"{site}/register/")
    page.fill("#id_id_number", data["id_number"])
    page.fill("#id_password", data["password"])
    page.fill("#id_password_again", data["password_again"])
    page.click("main button[type=submit]")
    page.wait_for_selector(".has-error")
    page.screenshot(path=os.path.join(artifacts_dir, "form-errors.png"), full_page=True)

    # Every control marked invalid points at an element that exists and holds its message.
    invalid = page.locator("[aria-invalid=true]")
    assert invalid.count() >= 5
    for i in range(invalid.count()):
        control = invalid.nth(i)
        described = (control.get_attribute("aria-describedby") or "").split()
        name = control.get_attribute("name")
        if name == "contact_history":  # the checkboxes: their fieldset is described
            described = page.locator("fieldset").get_attribute("aria-describedby").split()
        errors = [ref for ref in described if ref.endswith("_error")]
        assert errors, f"{name} is not tied to an error"
        for ref in described:
            assert page.locator(f"#{ref}").count() == 1, f"{name} points at missing #{ref}"
        assert page.inner_text(f"#{errors[0]}").strip(), name

    assert page.inner_text("#id_name_error") == "请填写姓名。"
    assert (
        page.inner_text("#id_region_code_error") == "请填写居住地行政区划代码。"
    )  # not 该字段是必填项。
    assert page.inner_text("#id_password_error") == "密码太短：至少需要 8 个字符。"
    body = page.inner_text("main")
    assert "This password" not in body and "该字段是必填项" not in body
    for doubled in ("。；", "；。", "。。", "：："):
        assert doubled not in body
    no_csp_violation(page)


def test_the_venue_admins_destructive_actions_wait_for_a_spelled_out_confirmation(
    site, phone_page, artifacts_dir
):
    page = phone_page
    page.add_init_script(LISTEN_CSP)
    venue = make_venue(full_name="文三路联华超市")
    inspector = User.objects.create_user(phone="13500000021", password=PASSWORD)
    venue_services.inspector_bind(user=inspector, declaration_code=venue.declaration_code)
    code = venue.declaration_code
    log_in(page, site, venue.administrator.phone, "/venue/")

    assert page.inner_text("#venue-number") == venue.number
    assert "浙江省杭州市西湖区" in page.inner_text("main")  # the region by name
    # The downloads and the reissue are in different boxes; the confirmation is closed.
    downloads = page.locator(".actions", has_text="下载 A4 场所码海报")
    assert downloads.locator("text=重新签发").count() == 0
    confirm = page.locator("#reissue button[type=submit]")
    assert not confirm.is_visible()

    page.click("#reissue summary")
    effect = page.inner_text("#reissue .danger-effect")
    assert "门口张贴的海报将立即失效" in effect
    assert confirm.is_visible()
    page.screenshot(path=os.path.join(artifacts_dir, "venue-reissue-confirm.png"), full_page=True)
    venue.refresh_from_db()
    assert venue.poster_version == 1  # opening the confirmation changed nothing
    confirm.click()
    page.wait_for_url(f"{site}/venue/")
    venue.refresh_from_db()
    assert venue.poster_version == 2

    page.click("#regenerate summary")
    assert "旧申报码将立即失效" in page.inner_text("#regenerate .danger-effect")
    page.screenshot(
        path=os.path.join(artifacts_dir, "venue-regenerate-confirm.png"), full_page=True
    )
    venue.refresh_from_db()
    assert venue.declaration_code == code
    page.click("#regenerate button[type=submit]")
    page.wait_for_url(f"{site}/venue/")
    assert Venue.objects.get(pk=venue.pk).declaration_code != code

    row = page.locator(".inspector-row")
    row.locator("summary").click()
    assert "将立即不能再为本场所扫码查验" in row.inner_text()
    assert venue.inspectors.count() == 1
    page.screenshot(path=os.path.join(artifacts_dir, "venue-remove-confirm.png"), full_page=True)
    row.locator("button[type=submit]").click()
    page.wait_for_url(f"{site}/venue/")
    assert venue.inspectors.count() == 0
    fits_the_phone(page)
    no_csp_violation(page)


def test_the_region_is_picked_province_city_district_and_typed_without_javascript(
    site, phone_page, browser, artifacts_dir
):
    page = phone_page
    page.add_init_script(LISTEN_CSP)
    page.goto(f"{site}/register/")
    page.wait_for_selector("#id_region_code_province")
    assert not page.locator("#id_region_code").is_visible()  # the code field is the picker's
    page.select_option("#id_region_code_province", label="浙江省")
    page.select_option("#id_region_code_city", label="杭州市")
    assert page.locator("#id_region_code").input_value() == ""  # no district yet: no code
    page.select_option("#id_region_code_county", label="西湖区")
    assert page.locator("#id_region_code").input_value() == "330106"
    page.locator(".region-picker").scroll_into_view_if_needed()
    page.screenshot(path=os.path.join(artifacts_dir, "region-picker.png"))

    # A city that is its own district (东莞市) gives its code without a third choice.
    page.select_option("#id_region_code_province", label="广东省")
    assert page.locator("#id_region_code").input_value() == ""  # a new province clears it
    page.select_option("#id_region_code_city", label="东莞市")
    assert page.locator("#id_region_code").input_value() == "441900"

    # The form comes back with an error elsewhere: the picked district is still selected.
    page.click("main button[type=submit]")
    page.wait_for_selector("#id_region_code_county")
    assert page.locator("#id_region_code_county").input_value() == "441900"
    assert page.locator("#id_region_code_city").input_value() == "4419"
    fits_the_phone(page)
    no_csp_violation(page)

    # Without JavaScript the six-digit code is typed.
    context = browser.new_context(viewport={"width": 375, "height": 812}, java_script_enabled=False)
    try:
        plain = context.new_page()
        plain.goto(f"{site}/register/")
        assert plain.locator("#id_region_code").is_visible()
        assert plain.locator(".region-picker").count() == 0
        plain.screenshot(path=os.path.join(artifacts_dir, "region-no-js.png"))
    finally:
        context.close()
