"""The officers' tracing pages: only officers, the preview before anything changes, apply,
approval by another officer, withdrawal, the masked CSV in Beijing time."""

import csv
import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from checkins.models import CheckIn, Method
from checkins.services import checkin_record
from healthcode.models import HealthCode, RiskFlag
from tests.factories import make_officer, make_resident, make_venue, resident_id
from tracing.models import Application, Case, Trace, TraceAction

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def officer():
    return make_officer(phone="13611112001", region_codes=("110105", "330106")).user


@pytest.fixture
def second():
    return make_officer(phone="13611112002", region_codes=("110105", "330106")).user


@pytest.fixture
def scene():
    """A case and two people at the same supermarket an hour ago, half an hour together."""
    venue = make_venue(full_name="西湖区文三路联华超市", category="supermarket")
    start = timezone.now() - dt.timedelta(hours=3)
    case_person = make_resident(name="赵病例")
    people = [make_resident(name=name) for name in ("钱多多", "孙小")]
    for person in (case_person, *people):
        checkin_record(resident=person, venue=venue, method=Method.SELF_SCAN, now=start)
    return case_person, people, venue, start


def register_and_trace(client, case_person) -> Trace:
    onset = timezone.localtime(timezone.now() - dt.timedelta(hours=1))
    response = client.post(
        reverse("tracing:case-new"),
        {
            "id_type": "resident_id",
            "id_number": case_person.id_number,
            "onset_at": onset.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302, response.content.decode()
    case = Case.objects.get()
    response = client.post(
        reverse("tracing:case", args=[case.public_id]), {"threshold_minutes": "15"}
    )
    trace = Trace.objects.get()
    assert response["Location"] == reverse("tracing:trace", args=[trace.public_id])
    return trace


def test_only_officers_see_the_pages(client, resident):
    for user in (None, resident.user):
        c = client_for(user) if user else client
        response = c.get(reverse("tracing:workbench"))
        assert response.status_code in (302, 404)
    assert client_for(resident.user).get(reverse("tracing:case-new")).status_code == 404


def test_a_bad_id_number_or_unknown_person_is_a_field_error_and_writes_nothing(officer):
    c = client_for(officer)
    unknown = resident_id(birth="19800101", seq=998)
    for number, text in (("110105199001011235", "校验"), (unknown, "未找到")):
        response = c.post(
            reverse("tracing:case-new"),
            {"id_type": "resident_id", "id_number": number, "onset_at": "2026-05-01T10:00"},
        )
        assert response.status_code in (400, 404) and text in response.content.decode()
    assert not Case.objects.exists()


def test_preview_then_apply_then_withdraw(officer, scene, django_capture_on_commit_callbacks):
    case_person, people, venue, start = scene
    c = client_for(officer)
    with django_capture_on_commit_callbacks(execute=True):
        trace = register_and_trace(c, case_person)
    page = c.get(reverse("tracing:trace", args=[trace.public_id])).content.decode()
    assert "赋码预览（尚未生效）" in page and "确认赋码（2 人）" in page
    for person in people:
        assert person.masked_name in page and person.id_number not in page
    assert not RiskFlag.objects.exists()

    assert (
        c.post(reverse("tracing:apply", args=[trace.public_id]), {"reason": ""}).status_code == 400
    )
    assert not RiskFlag.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(reverse("tracing:apply", args=[trace.public_id]), {"reason": "流调确认"})
    assert response.status_code == 302
    assert {HealthCode.objects.get(resident=p).colour for p in people} == {"red"}

    application = Application.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        c.post(reverse("tracing:withdraw", args=[application.pk]), {"reason": "误判"})
    assert {HealthCode.objects.get(resident=p).colour for p in people} == {"green"}
    assert list(TraceAction.objects.values_list("kind", flat=True)) == ["apply", "withdraw"]
    page = c.get(reverse("tracing:trace", args=[trace.public_id])).content.decode()
    assert "操作记录" in page and "误判" in page


def test_a_large_trace_waits_and_its_requester_cannot_approve(
    officer, second, scene, settings, django_capture_on_commit_callbacks
):
    settings.TRACE_APPROVAL_THRESHOLD = 1
    case_person, people, _venue, _start = scene
    c = client_for(officer)
    with django_capture_on_commit_callbacks(execute=True):
        trace = register_and_trace(c, case_person)
    c.post(reverse("tracing:apply", args=[trace.public_id]), {"reason": "流调确认"})
    application = Application.objects.get()
    assert application.status == "pending" and not RiskFlag.objects.exists()
    page = c.get(reverse("tracing:trace", args=[trace.public_id])).content.decode()
    assert "须由另一名工作人员审批" in page and 'id="approve"' not in page
    response = c.post(reverse("tracing:approve", args=[application.pk]))
    assert response.status_code == 403 and "不能审批自己" in response.content.decode()
    assert not RiskFlag.objects.exists()

    other = client_for(second)
    assert (
        application.trace.case.resident.masked_name
        in other.get(reverse("tracing:workbench")).content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        other.post(reverse("tracing:approve", args=[application.pk]))
    assert {HealthCode.objects.get(resident=p).colour for p in people} == {"red"}


def test_the_export_is_masked_neutralised_and_in_beijing_time(
    officer, scene, django_capture_on_commit_callbacks
):
    case_person, people, venue, start = scene
    c = client_for(officer)
    with django_capture_on_commit_callbacks(execute=True):
        trace = register_and_trace(c, case_person)
    body = c.get(reverse("tracing:export", args=[trace.public_id])).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][4] == "重叠开始（北京时间 UTC+8）"
    assert {row[1] for row in rows[1:]} == {p.masked_name for p in people}
    assert {row[3] for row in rows[1:]} == {venue.full_name}
    local_start = timezone.localtime(start).strftime("%Y-%m-%d %H:%M:%S")
    assert {row[4] for row in rows[1:]} == {local_start}
    for row in rows[1:]:
        assert row[2].count("*") >= 8


def test_the_venue_export_is_in_beijing_time_too(client):
    from checkins.export import checkins_csv

    venue = make_venue()
    person = make_resident(name="李导出")
    at = dt.datetime(2026, 5, 4, 16, 30, tzinfo=dt.UTC)  # 00:30 the next day in Beijing
    checkin_record(resident=person, venue=venue, method=Method.SELF_SCAN, now=at)
    rows = list(csv.reader(io.StringIO(checkins_csv(CheckIn.objects.all()).lstrip("\ufeff"))))
    assert rows[0][0] == "登记时间（北京时间 UTC+8）"
    assert rows[1][0] == "2026-05-05 00:30:00"


def test_the_workbench_plots_one_venue_of_my_regions_only(officer, scene):
    _case, _people, venue, _start = scene
    c = client_for(officer)
    page = c.get(reverse("tracing:workbench"), {"venue": venue.pk}).content.decode()
    assert f"{venue.full_name} 近 14 天每小时扫码登记" in page
    elsewhere = make_venue(full_name="深圳市福田区超市", region_code="440304")
    for bad in (elsewhere.pk, "abc", "999999", "²", "9" * 40):
        response = c.get(reverse("tracing:workbench"), {"venue": bad})
        assert response.status_code == 200
        page = response.content.decode()
        assert "杭州市西湖区 近 14 天每小时扫码登记" in page
        assert "深圳市福田区超市" not in page


def test_one_persons_flag_is_withdrawn_from_the_page(
    officer, scene, django_capture_on_commit_callbacks
):
    case_person, people, _venue, _start = scene
    c = client_for(officer)
    with django_capture_on_commit_callbacks(execute=True):
        trace = register_and_trace(c, case_person)
    with django_capture_on_commit_callbacks(execute=True):
        c.post(reverse("tracing:apply", args=[trace.public_id]), {"reason": "流调确认"})
    application = Application.objects.get()
    page = c.get(reverse("tracing:trace", args=[trace.public_id])).content.decode()
    assert f'<option value="{people[0].public_id}">' in page
    with django_capture_on_commit_callbacks(execute=True):
        c.post(
            reverse("tracing:withdraw", args=[application.pk]),
            {"resident": str(people[0].public_id), "reason": "核实未接触"},
        )
    assert [HealthCode.objects.get(resident=p).colour for p in people] == ["green", "red"]
    assert TraceAction.objects.last().reason == "核实未接触"
    response = c.post(
        reverse("tracing:withdraw", args=[application.pk]), {"resident": "nope", "reason": "x"}
    )
    assert response.status_code == 404


def test_an_officer_of_another_region_cannot_take_the_case(scene):
    case_person, _people, _venue, _start = scene
    stranger = make_officer(phone="13611112009", region_codes=("440304",)).user
    c = client_for(stranger)
    response = c.post(
        reverse("tracing:case-new"),
        {
            "id_type": "resident_id",
            "id_number": case_person.id_number,
            "onset_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 403 and "不在您负责的区域" in response.content.decode()
    assert not Case.objects.exists()


def test_absurd_times_are_field_errors_not_crashes(officer, scene):
    case_person, *_rest = scene
    c = client_for(officer)
    for when in ("0001-01-02T00:00", "1900-01-01T00:00"):
        response = c.post(
            reverse("tracing:case-new"),
            {"id_type": "resident_id", "id_number": case_person.id_number, "onset_at": when},
        )
        assert response.status_code == 400 and "时间过早" in response.content.decode()
    assert not Case.objects.exists()
