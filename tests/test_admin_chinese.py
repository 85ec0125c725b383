"""The admin's own chrome speaks Chinese: its header and title are the platform's, not
Django administration."""

import re

import pytest
from django.contrib.admin import site
from django.contrib.admin.templatetags.admin_list import result_headers
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from healthcode import masking
from healthcode.models import Resident, User

pytestmark = pytest.mark.django_db


def test_the_admin_header_and_title_are_chinese(client):
    admin = User.objects.create_superuser(phone="13800000001", password="Test-pass-2026!")
    client.force_login(admin)
    body = client.get("/admin/").content.decode()
    assert "健康码平台管理后台" in body and "<title>数据管理 | 健康码管理</title>" in body
    assert "Django administration" not in body and "Django 管理" not in body


def test_list_columns_and_channels_speak_chinese(client):
    from audit.services import audit_lookup
    from checkins.models import Method
    from checkins.services import checkin_record
    from tests.factories import make_resident, make_venue

    admin = User.objects.create_superuser(phone="13800000001", password="Test-pass-2026!")
    client.force_login(admin)
    person = make_resident(name="张三丰")
    venue = make_venue(full_name="西湖区文三路联华超市")
    checkin_record(resident=person, venue=venue, method=Method.SELF_SCAN)
    audit_lookup(actor=admin, subject=person, action="inspector_scan", venue_name=venue.full_name)
    pages = {
        "checkin": client.get("/admin/checkins/checkin/").content.decode(),
        "resident": client.get("/admin/healthcode/resident/").content.decode(),
        "lookup": client.get("/admin/audit/auditevent/").content.decode(),
    }
    for name, body in pages.items():
        for english in ("MASKED NAME", "Masked name", "Masked id number", ">Venue<", ">VENUE<"):
            assert english not in body, (name, english)
    assert "场所" in pages["checkin"] and "张*丰" in pages["checkin"]
    assert "姓名" in pages["resident"] and "证件号码" in pages["resident"]
    assert "场所检查人员反向扫码" in pages["lookup"]
    assert "张三丰" not in pages["checkin"] + pages["resident"]


# --- Every list of every registered model (issue 11: Chinese everywhere) ------------------------
ASCII_ONLY = re.compile(r"^[\x00-\x7f]+$")
CODE_LIKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$|^[a-z]+$")  # inspector_scan, demo


def _a_row_of_every_model() -> None:
    """The demo data, and one row for each model the demo leaves empty."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from rest_framework.authtoken.models import Token

    from healthcode.models import ItineraryStay, Resident, RiskArea
    from nucleic.models import Sample, SampleChange
    from proxy_scan.models import PaperCodeSeries

    call_command("seed_demo")
    now = timezone.now()
    resident = Resident.objects.first()
    sample = Sample.objects.first()
    RiskArea.objects.create(region_code="330106", name="西湖区", level="medium", starts_at=now)
    ItineraryStay.objects.create(resident=resident, region_code="330106", arrived_at=now)
    SampleChange.objects.create(sample=sample, batch=sample.batch, before={}, after={})
    from vaccination.models import Dose, DoseChange

    dose = Dose.objects.first()
    DoseChange.objects.create(dose=dose, batch=dose.batch, before={}, after={})
    PaperCodeSeries.objects.create(resident=resident)
    from audit.services import audit_change

    audit_change(action="flag_create", subject=resident, role="system", reason="演示")
    Token.objects.create(user=User.objects.filter(is_superuser=True).first())
    person = {"user_agent": "x", "ip_address": "127.0.0.1", "username": "u", "path_info": "/"}
    AccessAttempt.objects.create(**person, get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**person)
    AccessFailureLog.objects.create(**person)


def test_every_changelist_speaks_chinese_in_its_headers_filters_and_choices(client):
    """Every registered ModelAdmin's list, with a row: no column header, filter title or
    filter choice is ASCII-only English or a code (inspector_scan, demo)."""
    _a_row_of_every_model()
    admin = User.objects.create_superuser(phone="13800000009", password="Test-pass-2026!")
    client.force_login(admin)
    problems = []
    for model in site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert model.objects.exists(), f"no row to show in {url}"
        response = client.get(url)
        assert response.status_code == 200, url
        changelist = response.context_data["cl"]
        headers = [str(h["text"]) for h in result_headers(changelist)]
        titles = [str(spec.title) for spec in changelist.filter_specs]
        choices = [
            str(c["display"]) for s in changelist.filter_specs for c in s.choices(changelist)
        ]
        names = [str(model._meta.verbose_name_plural), str(model._meta.app_config.verbose_name)]
        for text in headers + titles + names:
            if not text.startswith("<input") and ASCII_ONLY.match(text):
                problems.append((url, text))
        problems += [(url, text) for text in choices if CODE_LIKE.match(text)]
        shown = re.sub(r"<[^>]+>", " ", response.content.decode())  # the text, not the links
        problems += [(url, code) for code in ("inspector_scan", " demo ") if code in shown]
    assert problems == [], "\n".join(map(str, problems))


def test_codes_are_shown_by_name_in_the_lists(client):
    _a_row_of_every_model()
    admin = User.objects.create_superuser(phone="13800000009", password="Test-pass-2026!")
    client.force_login(admin)
    flags = client.get("/admin/healthcode/riskflag/").content.decode()
    assert "演示数据" in flags and ">demo<" not in flags
    residents = client.get("/admin/healthcode/resident/").content.decode()
    assert "浙江省杭州市西湖区（330106）" in residents
    venues = client.get("/admin/venues/venue/").content.decode()
    assert "浙江省杭州市西湖区（330106）" in venues
    lookups = client.get("/admin/audit/auditevent/?what=他人帮扫")
    assert lookups.status_code == 200 and lookups.context_data["cl"].result_count >= 1
    for row in lookups.context_data["cl"].result_list:
        assert row.action == "proxy_scan"
    # One label, several actions: the officers' reads of a trace are filtered together.
    traces = client.get("/admin/audit/auditevent/?what=卫生健康部门流调")
    assert {row.action for row in traces.context_data["cl"].result_list} <= {
        "officer_trace",
        "officer_case_view",
        "officer_trace_view",
    }


def test_a_code_like_source_is_named_and_a_name_is_kept():
    from healthcode.admin import source_name

    assert source_name("demo") == "演示数据"
    assert source_name("cdc") == "外部系统 cdc"
    assert source_name("流调时空关联") == "流调时空关联"


def test_a_records_earlier_versions_show_the_person_masked(client):
    """A result's and a dose's change pages show before/after with the name and ID number
    masked; the full number is not on the page."""
    from nucleic.models import SampleChange
    from vaccination.models import DoseChange

    _a_row_of_every_model()
    admin = User.objects.create_superuser(phone="13800000009", password="Test-pass-2026!")
    client.force_login(admin)
    resident = Resident.objects.exclude(id_number="").first()
    identity = {"id_number": resident.id_number, "name": resident.name, "result": "negative"}
    sample_change = SampleChange.objects.first()
    SampleChange.objects.filter(pk=sample_change.pk).update(before=identity, after=identity)
    dose_change = DoseChange.objects.first()
    DoseChange.objects.filter(pk=dose_change.pk).update(before=identity, after=identity)
    for url in (
        f"/admin/nucleic/samplechange/{sample_change.pk}/change/",
        f"/admin/vaccination/dosechange/{dose_change.pk}/change/",
    ):
        page = client.get(url).content.decode()
        assert resident.id_number not in page and resident.name not in page, url
        assert masking.mask_id_number(resident.id_number) in page, url
