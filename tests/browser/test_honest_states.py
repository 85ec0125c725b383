"""Issue 11, honest states on the resident's pages, in a real headless Chromium at 375×812:
the card turns grey (二维码已失效) when its QR can no longer be refreshed — a log-in that
expired (at once, with 重新登录) or a network that is down (once the token has expired, with
刷新页面) —; the contrast of every colour state's text, measured from the rendered styles, is
at least 4.5:1; an invalid venue code is neutral grey; the log-in page names the scanned venue;
a staff account without a resident gets a way forward. No CSP violation on the way."""

import datetime as dt
import os

import pytest
from django.utils import timezone

from checkins.models import CheckIn
from nucleic.services import policy_create
from tests.browser.test_proxy_scan import LISTEN_CSP, assert_on_first_screen, log_in
from tests.factories import PASSWORD, add_flag, make_resident, make_venue, post_result
from venues import codes
from venues.services import poster_reissue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The contrast of every visible piece of text inside `root`, from the computed styles: the
# text colour (with its alpha and every ancestor's opacity) composited over the stacked
# backgrounds behind it, then WCAG 2's ratio. Returns [{text, ratio}] for each text element.
CONTRAST = """
(selector) => {
  const root = document.querySelector(selector);
  const parse = (c) => {
    const p = c.match(/rgba?\\(([^)]+)\\)/)[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3]))
    .concat([1]);
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    let out = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) out = over(layers[i], out);
    return out;
  };
  const opacity = (el) => {
    let o = 1;
    for (let e = el; e; e = e.parentElement) o *= parseFloat(getComputedStyle(e).opacity);
    return o;
  };
  const lum = (c) => {
    const s = c.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * s[0] + 0.7152 * s[1] + 0.0722 * s[2];
  };
  const out = [];
  for (const el of [root, ...root.querySelectorAll("*")]) {
    const own = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent)
      .join("").trim();
    const style = getComputedStyle(el);
    if (!own || !el.getClientRects().length || style.visibility !== "visible") continue;
    const back = background(el);
    const fg = parse(style.color);
    fg[3] *= opacity(el);
    const [a, b] = [lum(over(fg, back)), lum(back)].sort((x, y) => y - x);
    out.push({ text: own.slice(0, 24), ratio: (a + 0.05) / (b + 0.05) });
  }
  return out;
}
"""


def assert_contrast(page, selector, minimum=4.5):
    # Measured once the colour change's transition has ended (not a colour in between).
    page.wait_for_function("() => document.getAnimations().length === 0", timeout=10_000)
    measured = page.evaluate(CONTRAST, selector)
    assert measured, f"no text measured in {selector}"
    low = [m for m in measured if m["ratio"] < minimum]
    assert low == [], f"{selector}: text below {minimum}:1 — {low}"
    return min(m["ratio"] for m in measured)


@pytest.fixture
def short_tokens(settings):
    """Tokens that live 6 s, refreshed every 1 s: the expiry is reached in a test's time."""
    settings.HEALTHCODE_TOKEN_TTL_SECONDS = 6
    settings.HEALTHCODE_TOKEN_REFRESH_SECONDS = 1


@pytest.fixture
def tested(db):
    """A 72-hour policy and a resident whose negative sample was taken 20 h ago."""
    policy_create(
        group="general", window_hours=72, effective_from=timezone.now() - dt.timedelta(days=400)
    )
    person = make_resident(name="王小明")
    sampled = timezone.now() - dt.timedelta(hours=20, minutes=10)
    post_result(
        id_number=person.id_number,
        name=person.name,
        sampled=sampled,
        reported=sampled + dt.timedelta(hours=6),
    )
    return person


def card_label(page):
    return page.inner_text("#colour-label")


def test_an_expired_log_in_turns_the_card_grey_with_a_way_back(
    site, phone_page, artifacts_dir, short_tokens, tested
):
    page = phone_page
    page.context.add_init_script(LISTEN_CSP)
    log_in(page, site, tested.user.phone, "/code/")
    assert card_label(page) == "绿码"
    assert page.inner_text("#test-line") == "核酸 72 小时内阴性 · 采样 20 小时前"
    assert page.locator("#expired").is_hidden() and page.locator("#qr").is_visible()
    page.screenshot(path=os.path.join(artifacts_dir, "honest-code-green.png"))

    page.context.clear_cookies()  # the session is gone: the next refresh is refused
    page.wait_for_selector("#code-card.expired", timeout=15_000)
    assert card_label(page) == "二维码已失效"
    assert page.inner_text("#expired-why") == "登录已过期，请重新登录"
    assert page.locator("#relogin").is_visible() and page.locator("#reload").is_hidden()
    # Nothing on the card a door could take for a green code: no QR, no colour word.
    assert page.locator("#qr").is_hidden() and page.locator("#test-line").is_hidden()
    assert "绿码" not in page.inner_text("#code-card")
    page.wait_for_function("() => document.getAnimations().length === 0", timeout=10_000)
    background = page.evaluate(
        "getComputedStyle(document.getElementById('code-card')).backgroundColor"
    )
    assert background == "rgb(95, 99, 104)"  # neutral grey, not a code's colour
    assert_on_first_screen(page, "#relogin")
    assert_contrast(page, "#code-card")
    page.screenshot(path=os.path.join(artifacts_dir, "honest-code-login-expired.png"))

    page.click("#relogin")  # back to the log-in page, which returns to the code
    page.wait_for_url(f"{site}/login/?next=/code/")
    page.fill("#id_username", tested.user.phone)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{site}/code/")
    assert card_label(page) == "绿码" and page.locator("#qr").is_visible()
    assert page.evaluate("window.__csp") == []


def test_a_network_failure_greys_the_card_only_once_the_token_has_expired(
    site, phone_page, artifacts_dir, short_tokens, tested
):
    page = phone_page
    page.context.add_init_script(LISTEN_CSP)
    log_in(page, site, tested.user.phone, "/code/")
    page.wait_for_function("() => document.getElementById('qr').src.includes('t=')", timeout=15_000)
    page.context.set_offline(True)
    # First the failure is said while the last QR still scans, and the colour stays.
    page.wait_for_function(
        "() => document.getElementById('status-note').textContent.includes('正在重试')",
        timeout=15_000,
    )
    assert card_label(page) == "绿码" and "expired" not in page.get_attribute("#code-card", "class")
    page.wait_for_selector("#code-card.expired", timeout=20_000)
    assert card_label(page) == "二维码已失效"
    assert page.inner_text("#expired-why") == "网络异常，二维码已失效，请检查网络后刷新页面"
    assert page.locator("#reload").is_visible() and page.locator("#relogin").is_hidden()
    assert page.locator("#qr").is_hidden()
    assert_contrast(page, "#code-card")
    page.screenshot(path=os.path.join(artifacts_dir, "honest-code-offline.png"))

    page.context.set_offline(False)  # the network is back: the next refresh restores the code
    page.wait_for_selector("#code-card:not(.expired)", timeout=15_000)
    assert card_label(page) == "绿码" and page.locator("#qr").is_visible()
    assert page.evaluate("window.__csp") == []


@pytest.mark.parametrize(
    ("kind", "colour", "label", "todo"),
    [
        (None, "green", "绿码", None),
        ("fever_clinic", "yellow", "黄码", "请居家健康监测至"),
        ("close_contact", "red", "红码", "请居家隔离"),
    ],
)
def test_every_colour_state_is_legible_and_says_what_to_do(
    site, phone_page, artifacts_dir, kind, colour, label, todo
):
    page = phone_page
    person = make_resident(name="王小明")
    if kind:
        start = timezone.now() - dt.timedelta(hours=1)
        add_flag(person, kind, starts=start, ends=start + dt.timedelta(days=14))
    venue = make_venue()
    log_in(page, site, person.user.phone, "/code/")
    assert card_label(page) == label
    assert f"colour-{colour}" in page.get_attribute("#code-card", "class")
    lowest = assert_contrast(page, "#code-card")
    if todo:
        advice = page.locator("#advice")
        assert advice.is_visible() and todo in advice.inner_text()
        assert page.get_attribute("#advice a", "href") == "tel:12345"
        assert "联系所在社区" in advice.inner_text()
    else:
        assert page.locator("#advice").is_hidden()
    page.screenshot(path=os.path.join(artifacts_dir, f"honest-code-{colour}-contrast.png"))

    # The check-in result in the same colour, from a real scan of the poster.
    code = codes.make(public_id=venue.public_id, version=venue.poster_version)
    page.goto(f"{site}/v/{code}")
    page.wait_for_selector("#result")
    assert page.evaluate("document.body.className").endswith(f"result-{colour}")
    lowest = min(lowest, assert_contrast(page, "body"))
    if todo:
        assert todo in page.inner_text("#advice")
    page.screenshot(path=os.path.join(artifacts_dir, f"honest-result-{colour}-contrast.png"))
    print(f"{colour}: lowest text contrast {lowest:.2f}:1")


def test_an_invalid_venue_code_is_neutral_grey_not_red(site, phone_page, artifacts_dir, resident):
    page = phone_page
    page.context.add_init_script(LISTEN_CSP)
    venue = make_venue()
    old = codes.make(public_id=venue.public_id, version=venue.poster_version)
    poster_reissue(venue=venue)
    log_in(page, site, resident.user.phone, "/code/")
    page.goto(f"{site}/v/{old}")
    assert page.inner_text(".result-big") == "场所码无效，请扫描现场最新场所码"
    assert page.inner_text("#refused-why") == "此场所码已作废"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(95, 99, 104)"
    assert background != page.evaluate(
        "getComputedStyle(document.documentElement).getPropertyValue('--red')"
    )
    assert_contrast(page, "body")
    assert not CheckIn.objects.exists()
    page.screenshot(path=os.path.join(artifacts_dir, "honest-venue-code-invalid.png"))
    assert page.evaluate("window.__csp") == []


def test_a_logged_out_scan_names_the_venue_and_returns_to_it(site, phone_page, artifacts_dir):
    page = phone_page
    person = make_resident()
    venue = make_venue(full_name="西湖区文三路联华超市")
    code = codes.make(public_id=venue.public_id, version=venue.poster_version)
    page.goto(f"{site}/v/{code}")
    page.wait_for_selector("#login-venue")
    assert "西湖区文三路联华超市" in page.inner_text("#login-venue")
    assert_on_first_screen(page, "#login-venue")
    page.screenshot(path=os.path.join(artifacts_dir, "honest-login-names-venue.png"))
    page.fill("#id_username", person.user.phone)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("#result")  # back at the poster's page, which checked them in
    assert CheckIn.objects.get().venue == venue


def test_a_staff_account_without_a_resident_gets_a_way_forward(
    site, phone_page, artifacts_dir, django_user_model
):
    page = phone_page
    page.context.add_init_script(LISTEN_CSP)
    staff = django_user_model.objects.create_user(phone="13700000001", password=PASSWORD)
    person = make_resident()
    venue = make_venue()
    code = codes.make(public_id=venue.public_id, version=venue.poster_version)
    log_in(page, site, staff.phone, f"/v/{code}")
    assert page.locator("#switch-account").is_visible()
    assert page.locator("#help-others").is_visible()
    assert_on_first_screen(page, "#help-others")
    page.screenshot(path=os.path.join(artifacts_dir, "honest-staff-scan.png"))
    assert not CheckIn.objects.exists()

    page.click("#switch-account")  # out, then in as the resident, back at the poster
    page.wait_for_selector("#login-venue")
    page.fill("#id_username", person.user.phone)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("#result")
    assert CheckIn.objects.get().resident == person
    assert page.evaluate("window.__csp") == []
