"""The code page in 关怀版 and at 200 % zoom, in a real headless Chromium: the colour word and
the whole QR on the first screen of a 375×812 phone, text ≥ 24 px, the switch remembered; and
at 200 % (a 187×406 CSS-px viewport) no sideways scroll, the QR inside its card, the clock
broken only between its date and its time — in both modes. Screenshots in artifacts/."""

import os

import pytest

from healthcode.models import User
from tests.factories import PASSWORD, make_resident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BOX = (
    "s => { const r = document.querySelector(s).getBoundingClientRect();"
    " return {x: r.left, y: r.top, r: r.right, b: r.bottom}; }"
)
FONT_PX = "s => parseFloat(getComputedStyle(document.querySelector(s)).fontSize)"
LAYOUT = """() => ({
  scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
  clockLines: ['.clock-date', '.clock-time'].map(
    s => document.querySelector('#clock ' + s).getClientRects().length),
  dateTop: document.querySelector('#clock .clock-date').getBoundingClientRect().top,
  timeTop: document.querySelector('#clock .clock-time').getBoundingClientRect().top,
  clockHeight: document.getElementById('clock').getBoundingClientRect().height,
  dateHeight: document.querySelector('#clock .clock-date').getBoundingClientRect().height,
})"""


def _box(page, selector):
    return page.evaluate(BOX, selector)


def _inside(inner, outer):
    return (
        inner["x"] >= outer["x"] - 0.5
        and inner["r"] <= outer["r"] + 0.5
        and inner["y"] >= outer["y"] - 0.5
        and inner["b"] <= outer["b"] + 0.5
    )


def _log_in(page, site, phone):
    page.goto(f"{site}/login/?next=/code/")
    page.fill("#id_username", phone)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{site}/code/")
    page.wait_for_function("() => document.getElementById('qr').naturalWidth > 0")


def _assert_at_200_percent(browser, storage_state, site, shot):
    """A 375×812 phone at 200 % zoom: 187×406 CSS px at 4 device px each."""
    context = browser.new_context(
        viewport={"width": 187, "height": 406},
        device_scale_factor=4,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        is_mobile=True,
        has_touch=True,
        storage_state=storage_state,
    )
    try:
        page = context.new_page()
        page.goto(f"{site}/code/")
        page.wait_for_function("() => document.getElementById('qr').naturalWidth > 0")
        page.wait_for_selector("#clock .clock-time")  # the clock has ticked at least once
        layout = page.evaluate(LAYOUT)
        assert layout["scrollWidth"] <= layout["innerWidth"] == 187, layout
        assert layout["clockLines"] == [1, 1], layout  # neither the date nor the time breaks
        card = _box(page, "#code-card")
        assert card["r"] <= 187 and card["x"] >= 0
        assert _inside(_box(page, "#qr"), card) and _inside(_box(page, ".qr-frame"), card)
        for part in (".person-name", ".person-id", "#clock", "#colour-label", "#test-line"):
            assert _inside(_box(page, part), card), part
        page.screenshot(path=shot, full_page=True)
        return layout
    finally:
        context.close()


def test_care_mode_is_remembered_and_fits_the_first_screen(
    site, browser, phone_page, artifacts_dir
):
    page = phone_page
    resident = make_resident(name="欧阳秀英")
    _log_in(page, site, resident.user.phone)
    page.screenshot(path=os.path.join(artifacts_dir, "code-normal.png"))
    assert page.evaluate(FONT_PX, "#colour-label") < 40  # the normal page is not 关怀版
    normal = _assert_at_200_percent(
        browser, page.context.storage_state(), site, os.path.join(artifacts_dir, "code-200.png")
    )

    page.click("text=关怀版（大字）")
    page.wait_for_selector("body.care")
    page.reload()  # remembered on the account, not in the page
    page.wait_for_function("() => document.getElementById('qr').naturalWidth > 0")
    assert page.locator("body.care").count() == 1
    assert page.locator(".care-button").inner_text() == "退出关怀版"
    assert User.objects.get(pk=resident.user.pk).care_mode is True

    viewport = {"x": 0, "y": 0, "r": 375, "b": 812}
    assert page.evaluate("window.scrollY") == 0
    assert _inside(_box(page, "#colour-label"), viewport)
    assert _inside(_box(page, "#qr"), viewport)
    qr = _box(page, "#qr")
    assert qr["r"] - qr["x"] >= 240  # large, not shrunk to fit
    for part in (
        "#colour-label",
        "#test-line",
        ".person-name",
        ".person-id",
        "#clock",
        "#reasons",
        "#status-note",
        ".care-button",
    ):
        assert page.evaluate(FONT_PX, part) >= 24, part
    layout = page.evaluate(LAYOUT)  # a mobile viewport widens itself to fit wider content
    assert layout["scrollWidth"] <= layout["innerWidth"] == 375, layout
    page.screenshot(path=os.path.join(artifacts_dir, "code-care.png"))
    page.screenshot(path=os.path.join(artifacts_dir, "code-care-full.png"), full_page=True)

    care = _assert_at_200_percent(
        browser,
        page.context.storage_state(),
        site,
        os.path.join(artifacts_dir, "code-care-200.png"),
    )
    # At 200 % the clock takes at most two lines, in both modes: the date's and the time's.
    for layout in (normal, care):
        assert layout["clockHeight"] <= 2 * layout["dateHeight"] + 1, layout
        assert layout["timeTop"] >= layout["dateTop"]

    page.click("text=退出关怀版")
    page.wait_for_selector("body:not(.care)")
    assert User.objects.get(pk=resident.user.pk).care_mode is False
