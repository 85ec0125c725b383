"""我的记录 in a real headless Chromium on a 375×812 phone: a parent opens the code page,
follows the link to the record, switches to their bound elder's record and reads the 帮扫
check-in, the colour change with its source and who holds the code — nothing sideways, no
CSP violation, nothing unmasked."""

import datetime as dt
import os

import pytest
from django.utils import timezone

from audit.services import audit_lookup
from proxy_scan.services import family_member_bind, proxy_checkin
from tests.browser.test_proxy_scan import LISTEN_CSP, log_in
from tests.factories import add_flag, make_resident, make_venue, resident_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_parent_reads_their_own_and_their_elders_record(site, phone_page, artifacts_dir):
    page = phone_page
    page.context.add_init_script(LISTEN_CSP)
    venue = make_venue(full_name="西湖区文三路联华超市")
    parent = make_resident(name="陈立")
    binding = family_member_bind(
        holder=parent,
        name="陈桂英",
        id_type="resident_id",
        id_number=resident_id(region="330106", birth="19500312", seq=71),
        relationship="parent",
    )
    elder = binding.member
    add_flag(
        elder,
        "fever_clinic",
        source="西湖区发热门诊",
        starts=timezone.now() - dt.timedelta(hours=2),
    )
    proxy_checkin(helper=parent.user, venue=venue, way="family", binding_id=str(binding.public_id))
    audit_lookup(machine="device 9", subject=parent, action="device", venue_name=venue.full_name)

    log_in(page, site, parent.user.phone, "/code/")
    page.click("a[href='/me/record/']")
    page.wait_for_url(f"{site}/me/record/")
    lookups = page.inner_text("#lookups")
    assert "场所扫码设备" in lookups and venue.full_name in lookups
    page.screenshot(path=os.path.join(artifacts_dir, "record-own.png"), full_page=True)

    page.click(f"nav.code-switch a[href$='{binding.public_id}']")
    page.wait_for_selector("#visits")
    assert "家人的记录" in page.inner_text("h1")
    changes = page.inner_text("#changes")
    assert "黄码" in changes and "西湖区发热门诊" in changes
    visits = page.inner_text("#visits")
    assert "帮扫：家庭成员" in visits and f"帮扫人 {parent.masked_name}" in visits
    holders = page.inner_text("#holders")
    assert parent.masked_name in holders and "代办中" in holders
    html = page.content()
    for leak in (parent.name, elder.name, elder.id_number, parent.user.phone):
        assert leak not in html
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the record scrolls sideways ({width} px)"
    assert page.evaluate("window.__csp") == []
    page.screenshot(path=os.path.join(artifacts_dir, "record-member.png"), full_page=True)
