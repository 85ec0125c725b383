"""The inspector at a busy door (/inspect/) in a real headless Chromium on a 375×812 phone.

The verdict replaces the form: the whole screen in the person's colour, 可以通行/禁止通行 in
giant letters and the confirm button fixed at the bottom, all inside the first viewport; after
确认 or 跳过 the page is ready for the next person (the camera reopens by itself); a forged code
is a neutral grey 无效码 with its reason and 下一位. Contrast of every text is computed from the
rendered styles. The camera is Chromium's fake capture device; a code reaches the page through
the paste field, the same entry point the camera's reader calls."""

import datetime as dt
import os

import pytest
from django.utils import timezone
from PIL import Image

from checkins.models import CheckIn
from healthcode import tokens
from healthcode.models import User
from tests.browser.test_proxy_scan import LISTEN_CSP, log_in
from tests.conftest import CHROMIUM_ARGS, chromium_path
from tests.factories import (
    PASSWORD,
    add_flag,
    give_doses,
    make_resident,
    make_venue,
    post_result,
    tampered_token,
)
from venues import services as venue_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 375, 812

# The WCAG contrast of every visible text in the element against the background it is drawn
# on: the first non-transparent background up the tree, semi-transparent ones composited over
# what is below. Returns [[text, ratio], …].
CONTRASTS = """
(root) => {
  function rgba(s) {
    var m = s.match(/rgba?\\(([^)]+)\\)/);
    var p = m[1].split(",").map(function (x) { return parseFloat(x); });
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  }
  function over(top, below) {
    var a = top[3];
    return [0, 1, 2].map(function (i) { return top[i] * a + below[i] * (1 - a); }).concat([1]);
  }
  function background(el) {
    var layers = [];
    for (var e = el; e; e = e.parentElement) {
      var c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] === 1) break;
    }
    var colour = [255, 255, 255, 1];
    for (var i = layers.length - 1; i >= 0; i--) colour = over(layers[i], colour);
    return colour;
  }
  function lum(c) {
    var v = c.slice(0, 3).map(function (x) {
      x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  }
  var out = [];
  root.querySelectorAll("*").forEach(function (el) {
    var own = Array.prototype.some.call(el.childNodes, function (n) {
      return n.nodeType === 3 && n.textContent.trim();
    });
    if (!own || !el.getClientRects().length) return;
    var fg = over(rgba(getComputedStyle(el).color), background(el));
    var a = lum(fg), b = lum(background(el));
    var ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    out.push([el.textContent.trim().slice(0, 20), ratio]);
  });
  return out;
}
"""


def box(page, selector):
    return page.locator(selector).bounding_box()


def assert_in_first_viewport(page, selector):
    b = box(page, selector)
    assert b is not None, selector
    assert b["x"] >= 0 and b["y"] >= 0, (selector, b)
    assert b["x"] + b["width"] <= WIDTH and b["y"] + b["height"] <= HEIGHT, (selector, b)


def assert_contrast(page, selector, minimum=4.5):
    ratios = page.locator(selector).evaluate(CONTRASTS)
    assert ratios, selector
    low = [(text, round(ratio, 2)) for text, ratio in ratios if ratio < minimum]
    assert low == [], low


def background(page, selector):
    return page.locator(selector).evaluate("e => getComputedStyle(e).backgroundColor")


def inspector_at(venue, phone="13511112000"):
    user = User.objects.create_user(phone=phone, password=PASSWORD)
    venue_services.inspector_bind(user=user, declaration_code=venue.declaration_code)
    return user


def resident_with_test(name, **kwargs):
    resident = make_resident(name=name, **kwargs)
    now = timezone.now()
    post_result(
        id_number=resident.id_number,
        name=name,
        sampled=now - dt.timedelta(hours=8),
        reported=now - dt.timedelta(hours=2),
    )
    return resident


def code_of(resident):
    return tokens.issue_for(resident.health_code, now=timezone.now()).token


def scan(page, code):
    """What the camera's reader does with a code it read: fill the paste field, 核验."""
    page.fill("#code", code)
    page.click("#verify")


def assert_ready_for_next(page):
    # The form is always there under the screens: wait for the screen over it to go.
    page.wait_for_selector("body:not(.door-open)")
    assert page.locator("#inspect").is_visible()
    for screen in ("#person", "#error", "#done"):
        assert page.locator(screen).is_hidden()
    assert page.input_value("#code") == ""


def test_the_verdict_fills_the_first_screen_and_confirm_is_in_thumb_reach(
    site, phone_page, artifacts_dir
):
    page = phone_page
    page.context.add_init_script(LISTEN_CSP)
    venue = make_venue(full_name="文三路联华超市")
    inspector_at(venue)
    resident = resident_with_test("吴大明")
    give_doses(resident, ["2021-05-06", "2021-06-01"])

    log_in(page, site, "13511112000", "/inspect/")
    # The bind page is one tap away, and leads back here.
    assert page.get_attribute("#bind-link", "href") == "/inspect/bind/"
    page.screenshot(path=os.path.join(artifacts_dir, "inspect-door-form.png"))
    scan(page, code_of(resident))

    page.wait_for_selector("#person:not([hidden])")
    assert page.inner_text("#p-venue") == "文三路联华超市"
    assert page.inner_text("#p-name") == "吴*明"
    assert page.inner_text("#p-id") == resident.masked_id_number
    assert resident.id_number not in page.content()
    assert page.inner_text("#p-colour") == "绿码"
    assert "阴性" in page.inner_text("#p-test")
    assert page.inner_text("#p-vaccination") == "新冠疫苗：已接种 2 剂（末次 2021-06-01）"
    assert page.inner_text("#p-big") == "可以通行"
    assert page.inner_text("#confirm") == "确认放行"
    assert page.query_selector("#p-reasons") is None
    # The whole screen is the person's colour; the verdict and both buttons on the first
    # screen, the buttons in the lower half (thumb reach), nothing under the bar.
    person = box(page, "#person")
    assert (person["x"], person["y"], person["width"], person["height"]) == (0, 0, WIDTH, HEIGHT)
    assert background(page, "#person") == "rgb(0, 122, 67)"
    for selector in (
        "#p-name",
        "#p-colour",
        "#p-test",
        "#p-vaccination",
        "#p-big",
        "#confirm",
        "#skip",
    ):
        assert_in_first_viewport(page, selector)
    bar_top = box(page, "#person .door-bar")["y"]
    assert box(page, "#p-verdict")["y"] + box(page, "#p-verdict")["height"] <= bar_top
    assert box(page, "#confirm")["y"] >= HEIGHT / 2 and box(page, "#skip")["y"] >= HEIGHT / 2
    assert box(page, "#confirm")["height"] >= 48 and box(page, "#confirm")["width"] >= 200
    assert page.evaluate("document.activeElement.id") == "confirm"
    page.screenshot(path=os.path.join(artifacts_dir, "inspect-door-green.png"))

    # Fever turns the verdict and the button into a stop, the button solid red.
    page.check("input[name=band][value=fever]")
    assert page.inner_text("#p-big") == "禁止通行"
    assert page.inner_text("#confirm") == "确认拦截"
    assert background(page, "#confirm") == "rgb(198, 40, 40)"
    assert page.locator("#confirm").evaluate("e => getComputedStyle(e).color") == (
        "rgb(255, 255, 255)"
    )
    assert_contrast(page, "#person")
    page.screenshot(path=os.path.join(artifacts_dir, "inspect-door-fever.png"))
    page.check("input[name=band][value=normal]")
    assert page.inner_text("#confirm") == "确认放行"
    assert CheckIn.objects.count() == 0  # the verdict alone records nothing

    page.click("#confirm")
    assert_ready_for_next(page)
    checkin = CheckIn.objects.get()
    assert (checkin.resident, checkin.venue, checkin.decision) == (resident, venue, "pass")
    assert page.inner_text("#last") == "已登记：吴*明 · 绿码，可以通行"
    assert page.evaluate("document.activeElement.id") == "code"  # paste field ready
    page.screenshot(path=os.path.join(artifacts_dir, "inspect-door-next.png"))

    page.click("#bind-link")
    page.wait_for_url(f"{site}/inspect/bind/")
    page.click("#inspect-link")
    page.wait_for_url(f"{site}/inspect/")
    assert page.evaluate("window.__csp") == []


def test_red_is_stopped_in_solid_red_and_skip_records_nothing(site, phone_page, artifacts_dir):
    page = phone_page
    venue = make_venue()
    inspector_at(venue)
    red = make_resident(name="孙红红")
    add_flag(red, "close_contact")

    log_in(page, site, "13511112000", "/inspect/")
    scan(page, code_of(red))
    page.wait_for_selector("#person:not([hidden])")
    assert page.inner_text("#p-colour") == "红码"
    assert page.inner_text("#p-big") == "禁止通行"
    assert "隔离" not in page.inner_text("#person")  # the door never sees the red's type
    assert page.inner_text("#confirm") == "确认拦截"
    assert background(page, "#person") == "rgb(198, 40, 40)"
    assert background(page, "#confirm") == "rgb(198, 40, 40)"  # solid, on the white bar
    assert background(page, "#person .door-bar") == "rgb(255, 255, 255)"
    for selector in ("#p-big", "#confirm", "#skip"):
        assert_in_first_viewport(page, selector)
    assert_contrast(page, "#person")
    page.screenshot(path=os.path.join(artifacts_dir, "inspect-door-red.png"))

    page.click("#skip")
    assert_ready_for_next(page)
    assert not CheckIn.objects.exists()
    assert page.locator("#last").is_hidden()  # nothing was recorded, nothing says so


def test_yellow_has_dark_text_and_every_colour_state_has_readable_text(
    site, phone_page, artifacts_dir
):
    page = phone_page
    venue = make_venue()
    inspector_at(venue)
    yellow = resident_with_test("郑小花")
    add_flag(yellow, "fever_clinic")
    green = resident_with_test("钱多多")

    log_in(page, site, "13511112000", "/inspect/")
    scan(page, code_of(yellow))
    page.wait_for_selector("#person:not([hidden])")
    assert page.inner_text("#p-colour") == "黄码"
    assert background(page, "#person") == "rgb(242, 177, 0)"
    assert page.locator("#p-name").evaluate("e => getComputedStyle(e).color") == "rgb(29, 33, 41)"
    assert_contrast(page, "#person")
    assert_in_first_viewport(page, "#confirm")
    page.screenshot(path=os.path.join(artifacts_dir, "inspect-door-yellow.png"))
    page.click("#skip")

    scan(page, code_of(green))
    page.wait_for_selector("#person:not([hidden])")
    assert page.inner_text("#p-colour") == "绿码"
    assert_contrast(page, "#person")
    page.click("#skip")
    assert not CheckIn.objects.exists()


def test_a_forged_code_is_a_grey_invalid_code_with_its_reason(site, phone_page, artifacts_dir):
    page = phone_page
    page.context.add_init_script(LISTEN_CSP)
    venue = make_venue()
    inspector_at(venue)
    resident = resident_with_test("吴大明")
    genuine = code_of(resident)
    forged = tampered_token(genuine)

    log_in(page, site, "13511112000", "/inspect/")
    scan(page, forged)
    page.wait_for_selector("#error:not([hidden])")
    assert page.inner_text("#error-title") == "无效码"
    assert "签名校验失败" in page.inner_text("#error-text")
    assert not page.inner_text("#error-text").startswith("无效码")  # said once, as the title
    # Neutral grey, not the red of a 红码; the scanned text only as a short excerpt.
    assert background(page, "#error") == "rgb(75, 85, 99)"
    scanned = page.inner_text("#error-code")
    assert forged[:6] in scanned and "…" in scanned
    assert forged not in page.inner_text("body") and forged not in page.content()
    assert page.input_value("#code") == ""
    assert page.inner_text("#error-next") == "下一位"
    assert_in_first_viewport(page, "#error-next")
    assert_contrast(page, "#error")
    page.screenshot(path=os.path.join(artifacts_dir, "inspect-door-invalid.png"))

    page.click("#error-next")
    assert_ready_for_next(page)
    assert not CheckIn.objects.exists()

    # Nothing pasted: said next to the field, no request, no screen.
    page.click("#verify")
    assert page.inner_text("#code-error") == "请先扫码，或粘贴健康码内容"
    assert page.locator("#error").is_hidden() and page.locator("#person").is_hidden()
    assert page.evaluate("window.__csp") == []


# --- The camera: Chromium's fake capture device ---------------------------------------------
def y4m_showing(path, text):
    """A one-frame 640×480 Y4M video of ``text`` as a QR code, which Chromium's fake camera
    plays in a loop: a phone held up in front of the inspector's camera."""
    import qrcode

    qr = qrcode.make(text, box_size=4, border=4).get_image().convert("L")
    frame = Image.new("L", (640, 480), 255)
    frame.paste(qr, ((640 - qr.width) // 2, (480 - qr.height) // 2))
    with open(path, "wb") as out:
        out.write(b"YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg\n")
        out.write(b"FRAME\n" + frame.tobytes() + bytes([128]) * (320 * 240 * 2))
    return path


@pytest.fixture
def camera_page(browser):
    """A 375×812 phone whose browser has a camera it may use without asking: Chromium's test
    pattern (no QR code), or ``camera_page(video=path)`` playing a Y4M file."""
    opened = []

    def open_page(video=None):
        args = [
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
        ]
        if video:
            args.append(f"--use-file-for-fake-video-capture={video}")
        camera_browser = browser.browser_type.launch(
            executable_path=chromium_path(), headless=True, args=args
        )
        opened.append(camera_browser)
        context = camera_browser.new_context(
            viewport={"width": WIDTH, "height": HEIGHT},
            device_scale_factor=2,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            is_mobile=True,
            has_touch=True,
        )
        context.grant_permissions(["camera"])
        return context.new_page()

    yield open_page
    for camera_browser in opened:
        camera_browser.close()


CAMERA_LIVE = """() => {
  var v = document.getElementById("camera");
  return !v.hidden && v.srcObject !== null && v.srcObject.active && v.readyState >= 2;
}"""
CAMERA_OFF = """() => {
  var v = document.getElementById("camera");
  return v.hidden && v.srcObject === null;
}"""


def test_the_camera_reopens_by_itself_for_the_next_person(site, camera_page, artifacts_dir):
    page = camera_page()
    venue = make_venue()
    inspector_at(venue)
    first = resident_with_test("吴大明")
    second = make_resident(name="孙红红")
    add_flag(second, "close_contact")

    log_in(page, site, "13511112000", "/inspect/")
    assert page.evaluate(CAMERA_OFF)
    page.click("#start-camera")
    page.wait_for_function(CAMERA_LIVE, timeout=15000)
    assert page.inner_text("#start-camera") == "关闭摄像头"
    page.screenshot(path=os.path.join(artifacts_dir, "inspect-door-camera.png"))

    # A code is read: the camera closes while the verdict is up.
    scan(page, code_of(first))
    page.wait_for_selector("#person:not([hidden])")
    assert page.evaluate(CAMERA_OFF)
    page.click("#confirm")
    # After 确认 the camera is open again, by itself.
    page.wait_for_function(CAMERA_LIVE, timeout=15000)
    assert_ready_for_next(page)
    assert CheckIn.objects.count() == 1

    # 跳过 does the same, recording nothing.
    scan(page, code_of(second))
    page.wait_for_selector("#person:not([hidden])")
    assert page.evaluate(CAMERA_OFF)
    page.click("#skip")
    page.wait_for_function(CAMERA_LIVE, timeout=15000)
    assert CheckIn.objects.count() == 1

    # So does 下一位 after an invalid code.
    scan(page, "https://example.com/not-a-health-code")
    page.wait_for_selector("#error:not([hidden])")
    assert page.evaluate(CAMERA_OFF)
    page.click("#error-next")
    page.wait_for_function(CAMERA_LIVE, timeout=15000)

    # An inspector who closed the camera pastes: it stays closed, the field is ready.
    page.click("#start-camera")
    page.wait_for_function(CAMERA_OFF)
    assert page.inner_text("#start-camera") == "打开摄像头扫码"
    scan(page, code_of(first))
    page.wait_for_selector("#person:not([hidden])")
    page.click("#skip")
    assert_ready_for_next(page)
    assert page.evaluate(CAMERA_OFF)
    assert page.evaluate("document.activeElement.id") == "code"
    assert CheckIn.objects.count() == 1


def test_the_camera_reads_a_code_and_not_again_while_it_stays_in_view(
    site, camera_page, artifacts_dir, tmp_path
):
    venue = make_venue()
    inspector_at(venue)
    resident = resident_with_test("吴大明")
    page = camera_page(video=y4m_showing(tmp_path / "phone.y4m", code_of(resident)))

    log_in(page, site, "13511112000", "/inspect/")
    page.click("#start-camera")
    # The camera reads the code by itself: no paste, no 核验.
    page.wait_for_selector("#person:not([hidden])", timeout=20000)
    assert page.inner_text("#p-name") == "吴*明" and page.inner_text("#p-big") == "可以通行"
    assert page.evaluate(CAMERA_OFF)
    page.screenshot(path=os.path.join(artifacts_dir, "inspect-door-camera-read.png"))
    page.click("#confirm")
    page.wait_for_function(CAMERA_LIVE, timeout=15000)
    assert CheckIn.objects.count() == 1

    # The same phone is still held up: the reopened camera plays on (two more seconds of
    # video, dozens of frames) without showing the person again.
    start = page.evaluate("document.getElementById('camera').currentTime")
    page.wait_for_function(
        f"() => document.getElementById('camera').currentTime > {start} + 2", timeout=15000
    )
    assert page.locator("#person").is_hidden() and page.evaluate(CAMERA_LIVE)
    assert CheckIn.objects.count() == 1
