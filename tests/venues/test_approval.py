"""Venue approval: declared venues are pending until a health officer of their district
approves them; the officers' queue page; what a pending or rejected venue can (not) do."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from checkins.models import CheckIn, GridWorker
from healthcode import regions
from healthcode.errors import DomainError
from healthcode.models import HealthOfficer, User
from tests.factories import PASSWORD, credit_code, make_officer, make_venue
from venues import codes, services
from venues.models import Venue, VenueInspector

pytestmark = pytest.mark.django_db

QUEUE = "/officer/venues/"


def approve_url(venue):
    return reverse("venues:officer-approve", args=[venue.pk])


def reject_url(venue):
    return reverse("venues:officer-reject", args=[venue.pk])


def test_a_declared_venue_is_pending_with_its_credit_code():
    venue = make_venue(status="pending", credit_code=" 91350100m000100y43")
    assert (venue.status, venue.credit_code, venue.decided_by) == (
        "pending",
        "91350100M000100Y43",
        None,
    )
    with pytest.raises(DomainError) as exc:
        make_venue(status="pending", credit_code="91350100M000100Y44")
    assert exc.value.field == "credit_code" and "校验位不正确" in exc.value.message
    assert Venue.objects.count() == 1


def test_the_region_rule_is_shared_by_officers_and_grid_workers():
    officer = HealthOfficer(region_codes=["330100"])  # Hangzhou covers its districts
    worker = GridWorker(region_codes=["330100"])
    for region, covered in [("330106", True), ("330100", True), ("330200", False), ("", False)]:
        assert officer.covers(region) is covered is worker.covers(region)
        assert regions.covers(["330000"], region) is (region != "")
    assert not HealthOfficer(region_codes=[]).covers("330106")


def test_the_queue_shows_pending_venues_of_the_officers_regions_oldest_first(client):
    officer = make_officer(region_codes=["330100"])
    with time_machine.travel(timezone.now() - dt.timedelta(hours=2)):
        older = make_venue(status="pending", full_name="西湖区文三路老店", region_code="330106")
    newer = make_venue(status="pending", full_name="拱墅区新店", region_code="330105")
    elsewhere = make_venue(status="pending", full_name="宁波某店", region_code="330203")
    make_venue(full_name="已通过的店", region_code="330106")
    bad = make_venue(status="pending", full_name="代码有误的店", region_code="330106")
    Venue.objects.filter(pk=bad.pk).update(credit_code="91330106000000001X")  # e.g. via admin
    client.force_login(officer.user)
    response = client.get(QUEUE)
    body = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert body.index("西湖区文三路老店") < body.index("拱墅区新店") < body.index("代码有误的店")
    assert "宁波某店" not in body and "已通过的店" not in body
    assert older.credit_code in body and "校验位正确" in body and "校验位不正确" in body
    phone = newer.administrator.phone
    assert f"{phone[:3]}****{phone[-4:]}" in body and phone not in body
    assert older.address in body and "商超" in body and "330105" in body
    assert elsewhere.administrator.phone[-4:] not in body


def test_approve_and_reject_through_the_page(client):
    officer = make_officer(region_codes=["330106"])
    good, wrong = make_venue(status="pending"), make_venue(status="pending")
    client.force_login(officer.user)
    assert client.get(approve_url(good)).status_code == 405
    page = client.post(approve_url(good), follow=True).content.decode()
    assert "已通过" in page
    good.refresh_from_db()
    assert (good.status, good.decided_by, good.is_approved) == ("approved", officer.user, True)
    assert good.decided_at is not None
    empty = client.post(reject_url(wrong), {"reason": "  "})
    assert empty.status_code == 400 and "请填写驳回原因" in empty.content.decode()
    wrong.refresh_from_db()
    assert wrong.status == "pending"
    client.post(reject_url(wrong), {"reason": "场所名称与营业执照不符"})
    wrong.refresh_from_db()
    assert (wrong.status, wrong.rejection_reason) == ("rejected", "场所名称与营业执照不符")
    assert "暂无待审核的场所" in client.get(QUEUE).content.decode()


def test_deciding_twice_is_a_clear_error_and_changes_nothing(client):
    officer = make_officer(region_codes=["330106"])
    venue = make_venue(status="pending")
    services.venue_approve(venue=venue, officer=officer)
    client.force_login(officer.user)
    for response in (
        client.post(approve_url(venue)),
        client.post(reject_url(venue), {"reason": "重复"}),
    ):
        assert response.status_code == 409 and "不能重复审核" in response.content.decode()
    venue.refresh_from_db()
    assert (venue.status, venue.rejection_reason) == ("approved", "")
    with pytest.raises(DomainError) as exc:
        services.venue_reject(venue=venue, officer=officer, reason="x")
    assert exc.value.code == "already_decided"


def test_other_districts_and_non_officers_get_404(client):
    venue = make_venue(status="pending", region_code="330106")
    ningbo = make_officer(region_codes=["330200"])
    client.force_login(ningbo.user)
    assert venue.full_name not in client.get(QUEUE).content.decode()
    assert client.post(approve_url(venue)).status_code == 404
    assert client.post(reject_url(venue), {"reason": "x"}).status_code == 404
    with pytest.raises(DomainError) as exc:  # the service checks the region too
        services.venue_approve(venue=venue, officer=ningbo)
    assert exc.value.status == 404
    resident = User.objects.create_user(phone="13500000101", password=PASSWORD)
    client.force_login(resident)
    assert client.get(QUEUE).status_code == 404
    assert client.post(approve_url(venue)).status_code == 404
    client.force_login(venue.administrator)  # the venue's own administrator cannot either
    assert client.post(approve_url(venue)).status_code == 404
    client.logout()
    assert client.get(QUEUE).status_code == 302  # to log in
    venue.refresh_from_db()
    assert venue.status == "pending" and venue.decided_by is None


def test_decisions_need_the_csrf_token():
    officer = make_officer(region_codes=["330106"])
    venue = make_venue(status="pending")
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer.user)
    assert client.post(approve_url(venue)).status_code == 403
    venue.refresh_from_db()
    assert venue.status == "pending"


def test_a_pending_venue_does_nothing_and_says_why(client, resident):
    venue = make_venue(status="pending")
    client.force_login(venue.administrator)
    page = client.get(reverse("venues:home")).content.decode()
    assert "待审核" in page and venue.declaration_code not in page
    assert "/venue/poster." not in page
    for fmt in ("pdf", "png"):
        poster = client.get(reverse("venues:poster", args=[fmt]))
        assert poster.status_code == 403 and "尚未通过审核" in poster.content.decode()
    client.post(reverse("venues:regenerate-code"))
    client.post(reverse("venues:reissue-poster"))
    assert client.get(reverse("venues:checkins-csv")).status_code == 404
    assert Venue.objects.get().declaration_code == venue.declaration_code
    assert Venue.objects.get().poster_version == 1
    inspector = User.objects.create_user(phone="13500000102", password=PASSWORD)
    with pytest.raises(DomainError) as exc:
        services.inspector_bind(user=inspector, declaration_code=venue.declaration_code)
    assert exc.value.field == "declaration_code" and "尚未通过审核" in exc.value.message
    assert not VenueInspector.objects.exists()
    # A resident scanning a poster of it (say, printed before a rejection) records nothing.
    client.force_login(resident.user)
    code = codes.make(public_id=venue.public_id, version=venue.poster_version)
    for method in (client.get, client.post):
        response = method(reverse("checkins:scan", args=[code]))
        assert response.status_code == 403 and "尚未通过审核" in response.content.decode()
    assert not CheckIn.objects.exists()


def test_a_rejected_venue_shows_the_reason_and_is_corrected_and_resubmitted(client):
    with time_machine.travel(timezone.now() - dt.timedelta(days=1)):
        venue = make_venue(status="rejected", full_name="文三路超市")
    client.force_login(venue.administrator)
    page = client.get(reverse("venues:home")).content.decode()
    assert "已驳回：名称与执照不符" in page and "重新提交审核" in page
    assert venue.declaration_code not in page
    poster = client.get(reverse("venues:poster", args=["png"]))
    assert poster.status_code == 403 and "已被驳回：名称与执照不符" in poster.content.decode()
    form = {
        "full_name": "西湖区文三路联华超市",
        "region_code": "330106",
        "address": "文三路 100 号",
        "category": "supermarket",
        "entry_rule": "policy",
        "credit_code": "91350100M000100Y44",
    }
    bad = client.post(reverse("venues:home"), form)
    assert "校验位不正确" in bad.content.decode()
    assert Venue.objects.get().status == "rejected"
    form["credit_code"] = credit_code()
    page = client.post(reverse("venues:home"), form, follow=True).content.decode()
    assert "已重新提交" in page and "待审核" in page
    venue.refresh_from_db()
    assert (venue.status, venue.full_name, venue.rejection_reason, venue.decided_by) == (
        "pending",
        "西湖区文三路联华超市",
        "",
        None,
    )
    assert venue.submitted_at > timezone.now() - dt.timedelta(minutes=1)
    with pytest.raises(DomainError):  # only a rejected declaration is resubmitted
        services.venue_resubmit(venue=venue, **{**form, "credit_code": credit_code()})


def test_admin_cannot_issue_a_device_key_to_a_pending_venue(admin_client):
    from checkins.models import Device

    pending, approved = make_venue(status="pending"), make_venue()
    admin_client.post(
        reverse("admin:venues_venue_changelist"),
        {"action": "issue_device_key", "_selected_action": [pending.pk, approved.pk]},
        follow=True,
    )
    assert list(Device.objects.values_list("venue", flat=True)) == [approved.pk]
    officers = admin_client.get(reverse("admin:healthcode_healthofficer_changelist"))
    assert officers.status_code == 200


def test_existing_venues_are_migrated_as_approved(transactional_db):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("venues", "0001_initial")])
    old_apps = executor.loader.project_state([("venues", "0001_initial")]).apps
    admin = old_apps.get_model("healthcode", "User").objects.create(phone="13500000103")
    old_apps.get_model("venues", "Venue").objects.create(
        administrator=admin,
        full_name="老场所",
        region_code="330106",
        address="x",
        category="other",
        default_stay_minutes=60,
        declaration_code="ABCDEFGHJK",
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    venue = Venue.objects.get()
    assert (venue.status, venue.credit_code) == ("approved", "")
    assert venue.submitted_at == venue.created_at


def test_seed_demo_makes_the_officer_approve_the_demo_venue():
    from io import StringIO

    from django.core.management import call_command

    from healthcode.management.commands.seed_demo import OFFICER_PHONE, VENUE_ADMIN_PHONE
    from venues import creditcode

    for _ in range(2):  # idempotent
        out = StringIO()
        call_command("seed_demo", stdout=out)
    officer = HealthOfficer.objects.get(user__phone=OFFICER_PHONE)
    venue = Venue.objects.get(administrator__phone=VENUE_ADMIN_PHONE)
    assert officer.covers(venue.region_code)
    assert (venue.status, venue.decided_by) == ("approved", officer.user)
    assert creditcode.is_valid(venue.credit_code)
    assert "/officer/venues/" in out.getvalue()
