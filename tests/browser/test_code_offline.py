"""Issue 13, the resident's code page offline (static/js/sw.js, docs/offline.md), in a real
headless Chromium at 375×812 with the network cut (``context.set_offline``): a reload shows the
same token's QR with the offline banner for the rest of its life, then the grey card; online
the page is the server's again. Only the holder's own code is kept — never a member's code or
another page — and it goes at log-out and when someone else signs in. No CSP violation."""

import os
import time

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from healthcode.selectors import resident_from_token
from tests.browser.test_proxy_scan import LISTEN_CSP, log_in
from tests.factories import add_flag, make_resident
from tests.proxy_scan.test_family import bind
from tests.qr import decode_qr

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TTL = 10  # seconds: the kept QR's life runs out within the test

# What the worker keeps, as the page itself sees it (Cache Storage, this origin).
KEPT = """
async () => {
  const out = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    out[name] = (await cache.keys()).map((r) => new URL(r.url).pathname + new URL(r.url).search);
  }
  return out;
}
"""
CODE_CACHE = "hc-code-v1"
KEPT_CODE = ["/api/v1/me/code", "/code/", "/code/offline-owner", "/code/qr.png"]


@pytest.fixture
def short_tokens(settings):
    settings.HEALTHCODE_TOKEN_TTL_SECONDS = TTL
    settings.HEALTHCODE_TOKEN_REFRESH_SECONDS = 2


def kept(page) -> dict:
    return {name: sorted(keys) for name, keys in page.evaluate(KEPT).items()}


def wait_until_kept(page, timeout=20.0):
    """The worker controls the page and keeps the page, a QR and an answer (the first
    refresh after it took control)."""
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15_000)
    deadline = time.monotonic() + timeout
    while kept(page).get(CODE_CACHE) != KEPT_CODE:
        assert time.monotonic() < deadline, kept(page)
        time.sleep(0.2)


def qr_token(page) -> str:
    page.wait_for_function("() => document.getElementById('qr').naturalWidth > 0")
    return decode_qr(page.locator("#qr").screenshot())


def reload_offline(page, url):
    """Load ``url`` with the network cut; None when the browser could not show it at all."""
    try:
        page.goto(url)
    except Exception as exc:  # the browser's own "no network" error, not a page of ours
        assert "ERR_" in str(exc), exc
        return None
    return page


def test_a_reload_without_network_shows_the_last_qr_until_its_life_ends(
    site, phone_page, artifacts_dir, short_tokens
):
    person = make_resident(name="王小明")
    page = phone_page
    page.context.add_init_script(LISTEN_CSP)
    log_in(page, site, person.user.phone, "/code/")
    wait_until_kept(page)

    page.context.set_offline(True)
    cut = time.monotonic()  # the QR on screen was fetched before this
    # The next refresh gets the worker's kept answer: the same QR stays, with the banner.
    page.wait_for_selector("#status-note.offline-note", timeout=10_000)
    shown = qr_token(page)
    assert resident_from_token(token=shown, now=timezone.now()) == person

    time.sleep(3)  # so that a life counted from the reload would visibly outlast the QR's
    page.reload()  # no network: the worker gives back the kept page
    assert page.get_attribute("#code-card", "data-offline-qr-at") not in ("", None)
    assert "expired" not in page.get_attribute("#code-card", "class")
    assert page.inner_text("#colour-label") == "绿码"
    assert qr_token(page) == shown  # the same token, not a new one and not an older one
    note = page.locator("#status-note")
    assert note.is_visible() and "离线显示最后获取的二维码" in note.inner_text()
    assert person.masked_name in page.inner_text("#code-card")
    page.screenshot(path=os.path.join(artifacts_dir, "code-offline-kept.png"))

    # Its life is counted from when it was fetched, not from the reload: grey by then (+ 1 s
    # tick, + slack), whereas a life counted from the reload would end 3 s later.
    left = cut + TTL + 1.5 - time.monotonic()
    page.wait_for_selector("#code-card.expired", timeout=max(left, 0.1) * 1000)
    assert page.inner_text("#colour-label") == "二维码已失效"
    assert page.inner_text("#expired-why") == "网络异常，二维码已失效，请检查网络后刷新页面"
    assert page.locator("#qr").is_hidden() and page.locator("#status-note").is_hidden()
    assert "绿码" not in page.inner_text("#code-card")
    page.screenshot(path=os.path.join(artifacts_dir, "code-offline-expired.png"))

    page.reload()  # still offline, the kept QR has expired: grey at once, never green
    page.wait_for_selector("#code-card.expired", timeout=3_000)
    assert page.locator("#qr").is_hidden()

    page.context.set_offline(False)  # online: the server's page, not the kept one
    page.reload()
    assert page.get_attribute("#code-card", "data-offline-qr-at") == ""
    assert "expired" not in page.get_attribute("#code-card", "class")
    assert "offline-note" not in page.get_attribute("#status-note", "class")
    fresh = qr_token(page)
    assert fresh != shown and resident_from_token(token=fresh, now=timezone.now()) == person
    assert page.evaluate("window.__csp") == []


def test_only_the_holders_own_code_is_kept_and_log_out_forgets_it(site, phone_page, short_tokens):
    person = make_resident(name="王小明")
    binding = bind(person)
    page = phone_page
    page.context.add_init_script(LISTEN_CSP)
    log_in(page, site, person.user.phone, "/code/")
    wait_until_kept(page)
    # Pages with personal data other than the holder's own code: seen online, never kept.
    member_code = f"/code/?member={binding.public_id}"
    page.goto(f"{site}{member_code}")
    page.wait_for_function("() => document.getElementById('qr').naturalWidth > 0")
    time.sleep(2.5)  # a member's refresh (every 2 s) has passed through the worker
    for address in (reverse("records:record"), reverse("proxy_scan:family")):
        page.goto(f"{site}{address}")
    assert kept(page)[CODE_CACHE] == KEPT_CODE
    assert all(k.startswith("/static/") for k in kept(page)["hc-static-v1"])
    assert set(kept(page)) == {CODE_CACHE, "hc-static-v1"}

    page.context.set_offline(True)
    assert reload_offline(page, f"{site}{member_code}") is None  # a member's code: not kept
    assert reload_offline(page, f"{site}{reverse('records:record')}") is None
    page.context.set_offline(False)

    page.goto(f"{site}/code/")
    assert page.evaluate("window.__csp") == []
    page.click("header button[type=submit]")  # 退出
    page.wait_for_url(f"{site}/login/")
    assert CODE_CACHE not in kept(page)

    page.context.set_offline(True)
    shown = reload_offline(page, f"{site}/code/")
    assert shown is None or person.masked_name not in shown.content()


def test_someone_else_signing_in_never_sees_the_first_persons_kept_code(site, phone_page, settings):
    # A refresh every 6 s: the second person's page is seen before their first refresh.
    settings.HEALTHCODE_TOKEN_TTL_SECONDS, settings.HEALTHCODE_TOKEN_REFRESH_SECONDS = TTL, 6
    first, second = make_resident(name="王小明"), make_resident(name="李四")
    add_flag(first, "close_contact")  # the first person's code is red, the second's green
    page = phone_page
    log_in(page, site, first.user.phone, "/code/")
    wait_until_kept(page)
    first_token = qr_token(page)

    # Another account's session arrives without the log-in page (which would forget the kept
    # code by itself): only the key on the answers tells the worker it is someone else.
    client = Client()
    client.force_login(second.user)
    page.context.clear_cookies()
    name = settings.SESSION_COOKIE_NAME
    page.context.add_cookies([{"name": name, "value": client.cookies[name].value, "url": site}])
    page.goto(f"{site}/code/")
    second_token = qr_token(page)
    deadline = time.monotonic() + 5
    while kept(page).get(CODE_CACHE) != ["/code/", "/code/offline-owner", "/code/qr.png"]:
        # The first person's code answer went with their key, before any refresh of the second.
        assert time.monotonic() < deadline, kept(page)
        time.sleep(0.1)

    page.context.set_offline(True)
    page.reload()
    assert page.get_attribute("#code-card", "data-offline-qr-at") not in ("", None)
    text = page.inner_text("main")
    assert second.masked_name in text and first.masked_name not in text
    assert page.inner_text("#colour-label") == "绿码" and "红码" not in text
    assert qr_token(page) == second_token != first_token
    assert resident_from_token(token=second_token, now=timezone.now()) == second
