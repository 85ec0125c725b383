"""我的记录: each colour change with the fact behind it, each lookup as a kind of viewer and a
venue (never a name), the last 28 days' check-ins with a 帮扫 helper masked, and who holds the
code; the same for a bound family member, and nobody else's."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.services import audit_lookup
from checkins.models import CheckIn, Method
from checkins.services import checkin_manual, checkin_record
from healthcode import tokens
from healthcode.models import RiskArea, User
from healthcode.services import stay_declare
from proxy_scan import services as proxy_services
from proxy_scan.selectors import family_members_of
from proxy_scan.services import proxy_checkin
from tests.factories import (
    PASSWORD,
    add_flag,
    lab_token,
    lookups,
    make_resident,
    make_venue,
    post_result,
    resident_id,
)
from venues import services as venue_services

pytestmark = pytest.mark.django_db

ELDER_ID = resident_id(region="330106", birth="19480305", seq=61)


def page(user, **params) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    response = client.get(reverse("records:record"), params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.fixture
def venue():
    return make_venue(full_name="西湖区文三路联华超市")


@pytest.fixture
def inspector(venue):
    user = make_resident(name="检查员甲乙", phone="13522227777").user
    venue_services.inspector_bind(user=user, declaration_code=venue.declaration_code)
    return user


# --- Colour changes and the facts behind them ----
def test_a_result_from_a_lab_is_named_with_its_sampling_time(resident):
    token, _key = lab_token("西湖区第一检测中心")
    sampled = timezone.now() - dt.timedelta(hours=6)
    post_result(
        id_number=resident.id_number,
        name=resident.name,
        sampled=sampled,
        reported=sampled + dt.timedelta(hours=3),
        result="positive",
        token=token,
    )
    html = page(resident.user)
    assert "绿码" in html and "红码" in html and "核酸阳性" in html
    local = timezone.localtime(sampled).strftime("%Y-%m-%d %H:%M")
    assert f"核酸检测结果：西湖区第一检测中心，{local} 采样，阳性" in html


def test_the_real_ingest_path_names_its_cause(resident, django_capture_on_commit_callbacks):
    """Results posted by a lab recompute after commit (in-process here): the change is told as
    收到核酸检测结果, not as the log line it is stored with."""
    _token, key = lab_token("滨江区检测中心")
    sampled = timezone.now() - dt.timedelta(hours=3)
    body = (
        "barcode,id_number,name,sampled_at,reported_at,result\n"
        f"REC-0001,{resident.id_number},{resident.name},{sampled:%Y-%m-%d %H:%M},"
        f"{timezone.now():%Y-%m-%d %H:%M},positive\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = APIClient().post(
            reverse("api-nucleic-results"),
            body,
            content_type="text/csv",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 1
    changes = api_for(resident.user).get(reverse("api-me-record")).json()["changes"]
    (change, _registration) = changes
    assert (change["old_colour"], change["new_colour"]) == ("green", "red")
    assert change["cause"] == "收到核酸检测结果"
    assert change["reasons"][0]["source"] == "核酸检测结果"
    assert change["reasons"][0]["detail"].startswith("滨江区检测中心，")


def test_a_risk_flag_is_named_by_its_source_and_nothing_internal(resident):
    add_flag(resident, "close_contact", source="西湖区疾控中心", reason="内部流调编号 LD-0099")
    html = page(resident.user)
    assert "隔离医学观察的密切接触者" in html
    assert "卫健部门风险人员名单：来源：西湖区疾控中心" in html
    assert "LD-0099" not in html  # the flag's internal grounds stay with the officers


def test_a_stay_in_a_risk_area_names_the_place_and_level(resident):
    arrived = timezone.now() - dt.timedelta(days=2)
    RiskArea.objects.create(
        region_code="330106", name="杭州市西湖区", level="high", starts_at=arrived
    )
    stay_declare(
        resident=resident,
        region_code="330106",
        arrived_at=arrived,
        left_at=arrived + dt.timedelta(hours=6),
    )
    body = api_for(resident.user).get(reverse("api-me-record")).json()
    reason = body["changes"][0]["reasons"][0]
    local = timezone.localtime(arrived).strftime("%Y-%m-%d %H:%M")
    assert reason["detail"] == f"{local} 到达 杭州市西湖区（高风险地区）"


def test_a_change_made_by_time_alone_is_in_the_record_when_it_is_read(resident):
    now = timezone.now()
    add_flag(resident, "symptoms", starts=now, ends=now + dt.timedelta(hours=1))
    with time_machine.travel(now + dt.timedelta(hours=1, seconds=1), tick=False):
        changes = api_for(resident.user).get(reverse("api-me-record")).json()["changes"]
    assert [(c["old_colour"], c["new_colour"]) for c in changes[:2]] == [
        ("yellow", "green"),
        ("green", "yellow"),
    ]
    assert changes[0]["cause"] == "到期自动复核"


def test_another_persons_fact_is_not_described_even_if_named(resident):
    """The history names facts by id; a description is only given for the person's own."""
    from healthcode.selectors import fact_details

    other = make_resident(name="李四")
    flag = add_flag(other, "close_contact", source="别人的来源")
    assert fact_details(resident=resident, refs={f"flag:{flag.pk}"}) == {}
    assert fact_details(resident=other, refs={f"flag:{flag.pk}"}) != {}


# --- Lookups: a kind of viewer and a venue, never who ----
def test_an_inspectors_scan_shows_as_its_kind_and_venue_not_the_inspector(
    resident, venue, inspector
):
    api = api_for(inspector)
    token = tokens.issue_for(resident.health_code, now=timezone.now()).token
    response = api.post(
        reverse("api-inspect-verify"), {"venue": venue.pk, "code": token}, format="json"
    )
    assert response.status_code == 200, response.content
    html = page(resident.user)
    assert "场所检查人员反向扫码" in html and venue.full_name in html
    for leak in ("13522227777", "135****7777", "检查员甲乙", "检*乙"):
        assert leak not in html

    (lookup,) = api_for(resident.user).get(reverse("api-me-record")).json()["lookups"]
    assert set(lookup) == {"looked_up_at", "viewer_kind", "venue"}
    assert (lookup["viewer_kind"], lookup["venue"]) == ("场所检查人员反向扫码", venue.full_name)


def test_every_door_path_records_its_venue(resident, venue, inspector):
    checkin_manual(
        venue=venue,
        scanned_by=inspector,
        name=resident.name,
        id_type=resident.id_type,
        id_number=resident.id_number,
    )
    helper = make_resident(name="赵帮忙").user
    proxy_checkin(
        helper=helper,
        venue=venue,
        way="id_card",
        name=resident.name,
        id_number=resident.id_number,
    )
    kinds = {(row.action, row.venue_name) for row in lookups(subject=resident)}
    assert kinds == {("inspector_manual", venue.full_name), ("proxy_scan", venue.full_name)}


@pytest.mark.parametrize(
    ("channel", "kind"),
    [
        ("device", "场所扫码设备"),
        ("elder_lookup", "老幼助查"),
        ("proxy_scan", "他人帮扫"),
        ("family", "绑定的家属（代办）"),
        ("admin", "卫生健康部门工作人员"),
        ("something_new", "其他查询"),
    ],
)
def test_each_channel_is_told_as_a_kind_of_viewer(resident, channel, kind):
    staff = make_resident(name="王科长", phone="13900009999")
    audit_lookup(actor=staff.user, subject=resident, action=channel)
    html = page(resident.user)
    assert kind in html
    for leak in ("王科长", staff.masked_name, "13900009999", "139****9999"):
        assert leak not in html


def test_lookups_of_others_are_not_in_my_record(resident):
    other = make_resident(name="李四")
    audit_lookup(machine="device 1", subject=other, action="device", venue_name="某超市")
    assert api_for(resident.user).get(reverse("api-me-record")).json()["lookups"] == []


# --- Check-ins of the last 28 days ----
def test_a_proxy_check_in_names_the_helper_masked(resident, venue):
    helper = make_resident(name="赵帮忙").user
    proxy_checkin(
        helper=helper, venue=venue, way="id_card", name=resident.name, id_number=resident.id_number
    )
    html = page(resident.user)
    assert "帮扫：身份证号" in html and "帮扫人 赵*忙" in html
    assert "赵帮忙" not in html and helper.phone not in html
    (visit,) = api_for(resident.user).get(reverse("api-me-record")).json()["checkins"]
    assert (visit["venue"], visit["method"], visit["helper"]) == (
        venue.full_name,
        Method.PROXY_ID_CARD,
        "赵*忙",
    )


def test_a_helper_without_a_resident_is_named_by_masked_phone(resident, venue):
    helper = User.objects.create_user(phone="13688881234", password=PASSWORD)
    checkin_record(resident=resident, venue=venue, method=Method.PROXY_ID_CARD, helper=helper)
    (visit,) = api_for(resident.user).get(reverse("api-me-record")).json()["checkins"]
    assert visit["helper"] == "136****1234"


def test_check_ins_are_shown_for_28_days_to_the_second(resident, venue):
    now = timezone.now()
    other_venue = make_venue(full_name="西湖区文三路便利店")
    CheckIn.objects.bulk_create(
        [
            CheckIn(
                resident=resident,
                venue=venue,
                checked_in_at=now - dt.timedelta(days=28),
                left_at=now - dt.timedelta(days=28),
                method=Method.SELF_SCAN,
                colour="green",
                decision="pass",
                decision_code="ok",
                decision_text="",
            ),
            CheckIn(
                resident=resident,
                venue=other_venue,
                checked_in_at=now - dt.timedelta(days=28, seconds=1),
                left_at=now - dt.timedelta(days=28),
                method=Method.SELF_SCAN,
                colour="green",
                decision="pass",
                decision_code="ok",
                decision_text="",
            ),
        ]
    )
    with time_machine.travel(now, tick=False):
        visits = api_for(resident.user).get(reverse("api-me-record")).json()["checkins"]
    assert [visit["venue"] for visit in visits] == [venue.full_name]


def test_someone_elses_check_ins_are_not_mine(resident, venue):
    checkin_record(resident=make_resident(name="李四"), venue=venue, method=Method.SELF_SCAN)
    assert api_for(resident.user).get(reverse("api-me-record")).json()["checkins"] == []


# --- Holders, and a member's record ----
@pytest.fixture
def binding(resident):
    return proxy_services.family_member_bind(
        holder=resident,
        name="王秀英",
        id_type="resident_id",
        id_number=ELDER_ID,
        relationship="parent",
    )


def test_the_holder_opens_a_members_record_and_the_viewing_is_recorded(resident, binding):
    html = page(resident.user, member=str(binding.public_id))
    assert "家人的记录" in html and binding.member.masked_name in html
    assert resident.masked_name in html and "关系：代办人的父母" in html and "代办中" in html
    lookup = lookups().get(subject=binding.member)
    assert (lookup.actor, lookup.action) == (resident.user, "family")
    page(resident.user, member=str(binding.public_id))  # a reload within the token's life
    assert lookups(subject=binding.member).count() == 1


def test_a_holder_does_not_read_a_registered_adults_record(resident, client):
    """Binding a registered adult by name and number shows their code, not where they went."""
    adult = make_resident(name="李四", id_number=ELDER_ID)
    binding = proxy_services.family_member_bind(
        holder=resident,
        name="李四",
        id_type="resident_id",
        id_number=ELDER_ID,
        relationship="spouse",
    )
    client.force_login(resident.user)
    response = client.get(reverse("records:record"), {"member": str(binding.public_id)})
    assert response.status_code == 403 and "仅本人可查看" in response.content.decode()
    url = reverse("api-me-family-record", args=[binding.public_id])
    assert api_for(resident.user).get(url).status_code == 403
    assert not lookups(subject=adult).exists()
    own = client.get(reverse("records:record")).content.decode()
    assert str(binding.public_id) not in own  # not offered in the switcher either


def test_a_registered_member_sees_who_holds_their_code_and_when_it_ended(resident):
    member = make_resident(name="李四", id_number=ELDER_ID)
    binding = proxy_services.family_member_bind(
        holder=resident,
        name="李四",
        id_type="resident_id",
        id_number=ELDER_ID,
        relationship="spouse",
    )
    proxy_services.family_member_unbind(holder=resident, binding_id=binding.public_id)
    (holder,) = api_for(member.user).get(reverse("api-me-record")).json()["holders"]
    assert (holder["name"], holder["relationship"]) == (resident.masked_name, "spouse")
    assert holder["unbound_at"] is not None
    html = page(member.user)
    assert "已解绑" in html and resident.name not in html


def test_a_members_record_is_only_their_holders(resident, binding):
    stranger = make_resident(name="陌生人")
    key = str(binding.public_id)
    from django.test import Client

    client = Client()
    client.force_login(stranger.user)
    assert client.get(reverse("records:record"), {"member": key}).status_code == 404
    assert client.get(reverse("records:record"), {"member": "not-a-uuid"}).status_code == 404
    url = reverse("api-me-family-record", args=[binding.public_id])
    assert api_for(stranger.user).get(url).status_code == 404
    assert not lookups(subject=binding.member).exists()

    proxy_services.family_member_unbind(holder=resident, binding_id=key)
    client.force_login(resident.user)
    assert client.get(reverse("records:record"), {"member": key}).status_code == 404
    assert api_for(resident.user).get(url).status_code == 404


def test_the_member_api_gives_the_members_record(resident, binding, venue):
    proxy_checkin(
        helper=resident.user, venue=venue, way="family", binding_id=str(binding.public_id)
    )
    url = reverse("api-me-family-record", args=[binding.public_id])
    body = api_for(resident.user).get(url).json()
    assert (body["name"], body["id_number"]) == (
        binding.member.masked_name,
        binding.member.masked_id_number,
    )
    (visit,) = body["checkins"]
    assert (visit["method"], visit["helper"]) == (Method.PROXY_FAMILY, resident.masked_name)
    assert body["holders"][0]["name"] == resident.masked_name
    assert resident.user.phone not in str(body) and resident.name not in str(body)


# --- Access ----
def test_anonymous_and_residentless_accounts(client):
    response = client.get(reverse("records:record"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert APIClient().get(reverse("api-me-record")).status_code in (401, 403)
    staff = User.objects.create_user(phone="13900008888", password=PASSWORD)
    client.force_login(staff)
    assert client.get(reverse("records:record")).status_code == 404
    assert api_for(staff).get(reverse("api-me-record")).status_code == 404


def test_the_code_page_links_to_the_record(resident, binding, client):
    client.force_login(resident.user)
    html = client.get(reverse("healthcode:code")).content.decode()
    assert reverse("records:record") in html
    html = client.get(reverse("healthcode:code"), {"member": str(binding.public_id)}).content
    assert f"{reverse('records:record')}?member={binding.public_id}" in html.decode()


def test_the_record_costs_the_same_queries_for_one_row_or_many(resident, venue, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(resident.user)

    def queries() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("records:record")).status_code == 200
        return [query["sql"] for query in captured]

    helper = make_resident(name="赵帮忙").user
    checkin_record(resident=resident, venue=venue, method=Method.PROXY_ID_CARD, helper=helper)
    add_flag(resident, "symptoms", source="来源一")
    audit_lookup(machine="device 1", subject=resident, action="device")
    queries()  # the account's row is cached from here on (healthcode.usercache)
    one = queries()
    for n in range(5):
        other = make_venue(full_name=f"西湖区文三路第{n}店")
        checkin_record(resident=resident, venue=other, method=Method.PROXY_ID_CARD, helper=helper)
        add_flag(resident, "close_contact", source=f"来源{n}", starts=timezone.now())
        audit_lookup(machine="device 1", subject=resident, action="device")
    many = queries()
    assert len(many) == len(one), "\n".join(many)
    # (the session and the account come from the cache: healthcode.sessions, usercache)
    # own resident, members for the switcher, the code (is it current?),
    # changes, the flags they name, lookups, check-ins (venue and helper joined), holders,
    # the account's roles for the navigation, the code's reasons now and the appeals (the
    # appeals section's template tag)
    assert len(one) == 11, "\n".join(one)


def test_seed_demo_gives_the_record_something_to_show_once():
    import io

    from django.core.management import call_command

    from healthcode.management.commands.seed_demo import DEMO_RESIDENTS, FAMILY_HOLDER_PHONE

    for _run in range(2):  # idempotent
        call_command("seed_demo", stdout=io.StringIO())
    zhang = User.objects.get(phone=DEMO_RESIDENTS[0][0])
    (lookup,) = api_for(zhang).get(reverse("api-me-record")).json()["lookups"]
    assert lookup["viewer_kind"] == "场所检查人员反向扫码" and "演示" in lookup["venue"]
    holder = User.objects.get(phone=FAMILY_HOLDER_PHONE)
    elder = family_members_of(holder=holder.resident).first()
    url = reverse("api-me-family-record", args=[elder.public_id])
    (visit,) = api_for(holder).get(url).json()["checkins"]
    assert (visit["method"], visit["helper"]) == (Method.PROXY_FAMILY, holder.resident.masked_name)
