"""Every page a person uses passes the Content-Security-Policy with its vendored scripts: a
real Chromium opens each one and no violation is reported (console or
``securitypolicyviolation`` event)."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from checkins.models import GridWorker
from checkins.services import checkin_record
from healthcode import tokens
from healthcode.models import HealthOfficer, User
from tests.factories import PASSWORD, add_flag, make_resident, make_venue, post_result
from venues import codes
from venues import services as venue_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before any page script, in every frame; Playwright injects it past the page's CSP.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile);
});
"""


class Watch:
    """A browser context for one user that collects CSP violations from every page."""

    def __init__(self, browser, site):
        self.site = site
        self.context = browser.new_context(
            viewport={"width": 375, "height": 812}, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        self.context.add_init_script(LISTEN)
        self.page = self.context.new_page()
        self.console = []
        self.page.on(
            "console",
            lambda m: self.console.append(m.text) if "Content Security Policy" in m.text else None,
        )

    def log_in(self, phone):
        self.open("/login/")
        self.page.fill("#id_username", phone)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("main button[type=submit]")
        self.page.wait_for_load_state("networkidle")

    def open(self, path, wait_for=None):
        response = self.page.goto(self.site + path)
        assert response.status < 400, (path, response.status)
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        if wait_for:
            self.page.wait_for_selector(wait_for)
        self.page.wait_for_load_state("networkidle")
        self.assert_clean(path)

    def assert_clean(self, where):
        violations = self.page.evaluate("window.__csp")
        assert violations == [] and self.console == [], (where, violations, self.console)


def test_every_page_passes_the_csp(browser, site, settings, artifacts_dir):
    settings.HEALTHCODE_TOKEN_REFRESH_SECONDS = 1  # the code page refreshes while we watch
    venue = make_venue(full_name="文三路联华超市")
    resident = make_resident(name="钱多多")
    now = timezone.now()
    post_result(
        id_number=resident.id_number,
        name="钱多多",
        sampled=now - dt.timedelta(hours=8),
        reported=now - dt.timedelta(hours=2),
    )
    feverish = make_resident(name="郑小花")
    add_flag(feverish, "fever_clinic")
    checkin_record(resident=feverish, venue=venue, method="self_scan")
    inspector = User.objects.create_user(phone="13511110002", password=PASSWORD)
    venue_services.inspector_bind(user=inspector, declaration_code=venue.declaration_code)
    worker = User.objects.create_user(phone="13511110003", password=PASSWORD)
    GridWorker.objects.create(user=worker, region_codes=["110100"])
    officer = User.objects.create_user(phone="13511110004", password=PASSWORD)
    officer.user_permissions.add(Permission.objects.get(codename="add_riskflag"))

    anonymous = Watch(browser, site)
    anonymous.open("/register/", wait_for="#id_name")
    anonymous.open("/api/v1/docs/", wait_for=".swagger-ui .info .title")
    anonymous.page.click(".opblock-summary")  # Swagger UI works, not only loads
    anonymous.page.wait_for_selector(".opblock-body")
    anonymous.assert_clean("swagger operation")

    person = Watch(browser, site)
    person.log_in(resident.user.phone)
    person.assert_clean("/login/")
    person.open("/code/", wait_for="#qr")
    person.page.wait_for_timeout(2500)  # a QR and status refresh (fetch + image)
    person.assert_clean("/code/ refreshed")
    scan = "/v/" + codes.make(public_id=venue.public_id, version=venue.poster_version)
    person.page.goto(site + scan)  # the scan page posts itself, then shows the result
    person.page.wait_for_selector("#decision")
    assert "/checkin/" in person.page.url
    person.assert_clean("check-in result")

    door = Watch(browser, site)
    door.log_in(inspector.phone)
    door.open("/inspect/", wait_for="#verify")
    door.page.fill("#code", tokens.issue_for(resident.health_code, now=timezone.now()).token)
    door.page.press("#code", "Enter")  # a submit must not leave the page
    door.page.click("#verify")
    door.page.wait_for_selector("#person:not([hidden])")
    assert door.page.url.endswith("/inspect/")
    door.assert_clean("inspector verify")
    door.open("/inspect/bind/")

    admin = Watch(browser, site)
    admin.log_in(venue.administrator.phone)
    admin.open("/venue/", wait_for="#declaration-code")

    grid = Watch(browser, site)
    grid.log_in(worker.phone)
    grid.open("/alerts/", wait_for=".alerts")

    HealthOfficer.objects.create(user=officer, region_codes=["330100"])
    make_venue(full_name="文二路待审核便利店", status="pending")
    health = Watch(browser, site)
    health.log_in(officer.phone)
    health.open("/officer/venues/", wait_for=".venue-pending")
    health.open("/officer/risk-flags/", wait_for="#id_file")
    rows = [
        "source,external_id,id_type,id_number,name,kind,starts_at",
        f"cdc,B1,resident_id,{resident.id_number},钱多多,symptoms,{now:%Y-%m-%d %H:%M}",
        f"cdc,B2,resident_id,{resident.id_number[:-1]}0,钱多多,nonsense,{now:%Y-%m-%d %H:%M}",
    ]
    health.page.set_input_files(
        "#id_file",
        files=[{"name": "flags.csv", "mimeType": "text/csv", "buffer": "\n".join(rows).encode()}],
    )
    health.page.click("main button[type=submit]")
    health.page.wait_for_selector("#report")
    health.assert_clean("risk-flag upload report")
    assert health.page.inner_text("#report-created") == "1"
    assert "第 3 行" in health.page.inner_text(".report-errors")
    health.page.screenshot(path=f"{artifacts_dir}/officer-risk-flags.png", full_page=True)


def test_the_listener_sees_a_violation(browser, site):
    """The check above can fail: an inline script is reported."""
    watch = Watch(browser, site)
    watch.open("/login/")
    watch.page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.ran = 1'; document.body.appendChild(s); }"
    )
    watch.page.wait_for_timeout(200)
    assert watch.page.evaluate("window.ran") is None
    assert any("script-src" in v for v in watch.page.evaluate("window.__csp"))
