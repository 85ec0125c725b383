"""The door without network (/inspect/, 375×812, real headless Chromium): the page keeps the
public keys while online; with the network cut it checks a code's signed status assertion
itself (WebCrypto Ed25519), shows 离线核验, the colour and the assertion's age, queues the
confirmation, and sends it when the network returns — recorded exactly once, even when the
first answer is lost on the way back. A tampered or expired code offline is 无效码 with the
reason."""

import datetime as dt
import os

import pytest
from django.utils import timezone

from checkins.models import CheckIn
from healthcode import tokens
from healthcode.selectors import health_code_of
from nucleic.services import policy_create
from tests.browser.test_inspect_door import (
    WIDTH,
    assert_contrast,
    assert_in_first_viewport,
    assert_ready_for_next,
    inspector_at,
    resident_with_test,
    scan,
)
from tests.browser.test_proxy_scan import LISTEN_CSP, log_in
from tests.factories import add_flag, make_venue, tampered_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def code_of(resident, at=None):
    """A token as the code page issues it: from the person's current status."""
    code = health_code_of(resident=resident)
    return tokens.issue_for(code, now=at or timezone.now()).token


KEYS_KEPT = "() => localStorage.getItem('door.keys.v1') !== null"
QUEUE = "() => JSON.parse(localStorage.getItem('door.queue.v1') || '[]').length"


def open_door(page, site, venue, phone="13511113000"):
    page.context.add_init_script(LISTEN_CSP)
    inspector_at(venue, phone=phone)
    log_in(page, site, phone, "/inspect/")
    page.wait_for_function(KEYS_KEPT)  # fetched while online


def test_offline_the_door_checks_the_assertion_queues_and_records_once(
    site, phone_page, artifacts_dir
):
    page = phone_page
    venue = make_venue(full_name="文三路联华超市")
    policy_create(
        group="general", window_hours=72, effective_from=timezone.now() - dt.timedelta(days=400)
    )
    resident = resident_with_test("吴大明")
    open_door(page, site, venue)
    code = code_of(resident)

    page.context.set_offline(True)
    scan(page, code)
    page.wait_for_selector("#person:not([hidden])")
    assert page.inner_text("#p-offline").startswith("离线核验")
    assert "状态签发于" in page.inner_text("#p-offline") and "秒前" in page.inner_text("#p-offline")
    assert page.inner_text("#p-name") == "吴*明"
    assert page.inner_text("#p-colour") == "绿码"
    assert page.inner_text("#p-big") == "可以通行"
    assert "核酸阴性" in page.inner_text("#p-test") and "有效至" in page.inner_text("#p-test")
    assert resident.id_number not in page.content()
    for selector in ("#p-offline", "#p-colour", "#p-big", "#confirm"):
        assert_in_first_viewport(page, selector)
    assert_contrast(page, "#person")
    page.screenshot(path=os.path.join(artifacts_dir, "offline-verify-green.png"))

    page.click("#confirm")
    assert_ready_for_next(page)
    assert page.inner_text("#last") == "离线已记录，联网后自动上传：吴*明 · 绿码，可以通行"
    assert page.inner_text("#offline-status") == "待上传的离线记录：1 条"
    assert page.evaluate(QUEUE) == 1
    assert not CheckIn.objects.exists()
    page.screenshot(path=os.path.join(artifacts_dir, "offline-verify-queued.png"))

    # The network returns; the first answer is lost on its way back (the check-in is made),
    # so the door sends the same confirmation again: still one check-in.
    lost = []

    def lose_first_answer(route):
        if not lost:
            lost.append(route.fetch().status)
            return route.abort("failed")
        return route.continue_()

    page.route("**/api/v1/inspect/confirm", lose_first_answer)
    page.context.set_offline(False)  # the "online" event sends the queue
    for _ in range(100):
        if lost:
            break
        page.wait_for_timeout(100)
    page.wait_for_timeout(300)  # the aborted request settles
    assert lost == [201] and page.evaluate(QUEUE) == 1  # kept: no answer reached the door
    page.evaluate("window.offlineDoor.flush()")
    page.wait_for_function(f"() => ({QUEUE})() === 0")
    assert page.inner_text("#offline-status") == "离线记录已全部上传"
    checkin = CheckIn.objects.get()
    assert (checkin.resident, checkin.venue, checkin.decision) == (resident, venue, "pass")
    assert checkin.client_id is not None and checkin.method == "inspector_scan"
    assert timezone.now() - checkin.checked_in_at < dt.timedelta(minutes=2)
    assert page.evaluate("window.__csp") == []


def test_offline_a_tampered_or_expired_code_is_invalid(site, phone_page, artifacts_dir):
    page = phone_page
    venue = make_venue()
    resident = resident_with_test("郑小红")
    add_flag(resident, "close_contact")
    open_door(page, site, venue, phone="13511113001")
    page.context.set_offline(True)

    scan(page, tampered_token(code_of(resident)))
    page.wait_for_selector("#error:not([hidden])")
    assert page.inner_text("#error-title") == "无效码"
    assert page.inner_text("#error-text") == "签名校验失败，可能是伪造或被篡改的健康码。"
    assert background(page, "#error") not in {"rgb(0, 122, 67)", "rgb(198, 40, 40)"}
    page.screenshot(path=os.path.join(artifacts_dir, "offline-verify-tampered.png"))
    page.click("#error-next")
    assert_ready_for_next(page)

    scan(page, code_of(resident, at=timezone.now() - dt.timedelta(seconds=301)))
    page.wait_for_selector("#error:not([hidden])")
    assert page.inner_text("#error-title") == "无效码"
    assert page.inner_text("#error-text").startswith("已过期")
    page.click("#error-next")

    # A genuine one offline: red, stop, with the banner; nothing is recorded by the verdict.
    scan(page, code_of(resident))
    page.wait_for_selector("#person:not([hidden])")
    assert page.inner_text("#p-colour") == "红码" and page.inner_text("#p-big") == "禁止通行"
    assert page.inner_text("#p-offline").startswith("离线核验")
    assert box_width(page, "#person") == WIDTH
    page.screenshot(path=os.path.join(artifacts_dir, "offline-verify-red.png"))
    assert not CheckIn.objects.exists()


def background(page, selector):
    return page.locator(selector).evaluate("e => getComputedStyle(e).backgroundColor")


def box_width(page, selector):
    return page.locator(selector).bounding_box()["width"]


def test_offline_a_venue_that_requires_vaccination_does_not_guess(site, phone_page, artifacts_dir):
    """The assertion carries no doses: offline, such a venue stops the person with the reason
    (and a vaccinated green person passes there again once the door is online)."""
    page = phone_page
    venue = make_venue(full_name="市民中心", requires_vaccination=True)
    resident = resident_with_test("郑小华")
    open_door(page, site, venue, phone="13511113002")
    page.context.set_offline(True)
    scan(page, code_of(resident))
    page.wait_for_selector("#person:not([hidden])")
    assert page.inner_text("#p-offline").startswith("离线核验")
    assert page.inner_text("#p-colour") == "绿码"
    assert page.inner_text("#p-big") == "禁止通行"
    assert "离线无法核验接种记录" in page.inner_text("#p-decision")
    page.screenshot(path=os.path.join(artifacts_dir, "offline-verify-vaccination.png"))


def test_one_refused_confirmation_does_not_hold_back_the_rest_and_each_inspector_sends_own(
    site, phone_page
):
    """Queued: one for a venue this inspector was unbound from (403 not_inspector: kept), one
    of another inspector on this shared phone (not sent), then this inspector's own. The
    round goes past the first and records the third; the other inspector's stays queued."""
    import json
    import uuid

    from venues.models import VenueInspector

    page = phone_page
    here, gone = make_venue(full_name="文三路联华超市"), make_venue(full_name="旧场所")
    resident = resident_with_test("钱小雨")
    open_door(page, site, here, phone="13511113003")
    me = VenueInspector.objects.get(venue=here).user
    VenueInspector.objects.create(venue=gone, user=me)
    token = code_of(resident)
    VenueInspector.objects.filter(venue=gone).delete()  # unbound after the scan was queued

    def item(venue, user_pk):
        body = {
            "venue": venue.pk,
            "code": token,
            "temperature_band": "normal",
            "client_id": str(uuid.uuid4()),
            "confirmed_at": timezone.now().isoformat(),
        }
        return {"body": body, "name": "钱*雨", "user": str(user_pk)}

    queue = [item(gone, me.pk), item(here, me.pk + 1000), item(here, me.pk)]
    page.evaluate(f"localStorage.setItem('door.queue.v1', {json.dumps(json.dumps(queue))})")
    page.evaluate("window.offlineDoor.flush()")
    page.wait_for_function("() => JSON.parse(localStorage.getItem('door.queue.v1')).length === 2")
    left = page.evaluate("JSON.parse(localStorage.getItem('door.queue.v1'))")
    assert [x["body"]["client_id"] for x in left] == [
        queue[0]["body"]["client_id"],
        queue[1]["body"]["client_id"],
    ]
    checkin = CheckIn.objects.get()
    assert (checkin.venue, checkin.scanned_by) == (here, me)
    assert str(checkin.client_id) == queue[2]["body"]["client_id"]
