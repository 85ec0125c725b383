"""帮扫: each of the four ways checks exactly the right person in, with the helper recorded;
mismatches, strangers' members, dead paper codes, closed venues and the limits record nothing."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from checkins.models import CheckIn, Method
from healthcode import tokens
from healthcode.errors import DomainError
from healthcode.models import Resident
from proxy_scan import services
from proxy_scan.services import proxy_checkin
from tests.factories import lookups, make_resident, make_venue, resident_id

pytestmark = pytest.mark.django_db

ELDER_ID = resident_id(region="330106", birth="19480305", seq=41)
CHILD_ID = resident_id(region="330106", birth="20170910", seq=52)


@pytest.fixture
def venue():
    return make_venue()


@pytest.fixture
def helper(resident):
    return resident.user


@pytest.fixture
def elder():
    elder = make_resident(name="王秀英", id_number=ELDER_ID)
    Resident.objects.filter(pk=elder.pk).update(citizen_card="A3301001")
    return elder


def only_checkin() -> CheckIn:
    (checkin,) = CheckIn.objects.all()
    return checkin


def assert_recorded(checkin, *, person, method, helper):
    assert only_checkin() == checkin
    assert (checkin.resident, checkin.method, checkin.helper) == (person, method, helper)
    assert checkin.scanned_by is None  # not the door's inspector
    lookup = lookups().get(action="proxy_scan")
    assert (lookup.actor, lookup.subject) == (helper, person)


def refused(**kwargs) -> DomainError:
    with pytest.raises(DomainError) as exc:
        proxy_checkin(**kwargs)
    assert not CheckIn.objects.exists()
    return exc.value


def test_id_card_checks_that_person_in(helper, elder, venue):
    checkin = proxy_checkin(
        helper=helper, venue=venue, way="id_card", name=" 王秀英", id_number=ELDER_ID.lower()
    )
    assert_recorded(checkin, person=elder, method=Method.PROXY_ID_CARD, helper=helper)
    assert checkin.colour == "green" and checkin.passed


def test_citizen_card_checks_that_person_in(helper, elder, venue):
    checkin = proxy_checkin(
        helper=helper, venue=venue, way="citizen_card", name="王秀英", citizen_card="a330 1001"
    )
    assert_recorded(checkin, person=elder, method=Method.PROXY_CITIZEN_CARD, helper=helper)


def test_paper_code_checks_that_person_in(helper, elder, venue):
    token = tokens.issue_paper(public_id=elder.public_id, version=1, now=timezone.now()).token
    checkin = proxy_checkin(helper=helper, venue=venue, way="paper_code", token=f" {token}\n")
    assert_recorded(checkin, person=elder, method=Method.PROXY_PAPER_CODE, helper=helper)


def test_family_checks_the_bound_member_in(resident, helper, venue):
    binding = services.family_member_bind(
        holder=resident,
        name="王小宝",
        id_type="resident_id",
        id_number=CHILD_ID,
        relationship="child",
    )
    checkin = proxy_checkin(
        helper=helper, venue=venue, way="family", binding_id=str(binding.public_id)
    )
    assert_recorded(checkin, person=binding.member, method=Method.PROXY_FAMILY, helper=helper)
    assert binding.member.user is None  # a child without a log-in is checked in all the same


@pytest.mark.parametrize(
    ("name", "number"),
    [("王秀华", ELDER_ID), ("王秀英", resident_id(region="330106", birth="19480305", seq=42))],
    ids=["wrong-name", "unknown-number"],
)
def test_a_mismatch_says_only_information_does_not_match(helper, elder, venue, name, number):
    error = refused(helper=helper, venue=venue, way="id_card", name=name, id_number=number)
    assert error.message == "信息不符，请核对姓名和身份证号码。" and error.field is None
    lookup = lookups().get()  # the attempt is kept, masked, of nobody
    assert lookup.subject is None and lookup.subject_masked_id != number
    assert number[6:14] not in lookup.subject_masked_id


def test_a_bad_check_digit_is_a_field_error(helper, elder, venue):
    bad = ELDER_ID[:17] + ("0" if ELDER_ID[17] != "0" else "1")
    error = refused(helper=helper, venue=venue, way="id_card", name="王秀英", id_number=bad)
    assert error.field == "id_number" and "校验" in error.message


def test_a_citizen_card_with_another_name_records_nothing(helper, elder, venue):
    error = refused(
        helper=helper, venue=venue, way="citizen_card", name="李四", citizen_card="A3301001"
    )
    assert error.message == "信息不符，请核对姓名和市民卡号。"


def test_another_holders_member_is_not_found(resident, helper, venue):
    stranger = make_resident(name="赵六")
    theirs = services.family_member_bind(
        holder=stranger,
        name="赵小宝",
        id_type="resident_id",
        id_number=CHILD_ID,
        relationship="child",
    )
    error = refused(helper=helper, venue=venue, way="family", binding_id=str(theirs.public_id))
    assert error.status == 404


def test_an_unbound_member_is_not_found(resident, helper, venue):
    binding = services.family_member_bind(
        holder=resident,
        name="王小宝",
        id_type="resident_id",
        id_number=CHILD_ID,
        relationship="child",
    )
    services.family_member_unbind(holder=resident, binding_id=binding.public_id)
    error = refused(helper=helper, venue=venue, way="family", binding_id=str(binding.public_id))
    assert error.status == 404


def test_an_expired_paper_code_records_nothing(helper, elder, venue, settings):
    printed = timezone.now()
    token = tokens.issue_paper(public_id=elder.public_id, version=1, now=printed).token
    expiry = printed + dt.timedelta(hours=settings.PAPER_CODE_TTL_HOURS)
    with time_machine.travel(expiry, tick=False):
        error = refused(helper=helper, venue=venue, way="paper_code", token=token)
    assert error.message == "纸质码已过期，请重新打印"
    with time_machine.travel(expiry - dt.timedelta(seconds=1), tick=False):
        assert proxy_checkin(helper=helper, venue=venue, way="paper_code", token=token)


def test_a_revoked_paper_code_and_a_phone_token_record_nothing(helper, elder, venue):
    old = tokens.issue_paper(public_id=elder.public_id, version=1, now=timezone.now()).token
    services.paper_codes_revoke(viewer=elder.user, resident=elder)
    refused(helper=helper, venue=venue, way="paper_code", token=old)
    phone = tokens.issue_for(elder.health_code, now=timezone.now()).token
    assert refused(helper=helper, venue=venue, way="paper_code", token=phone).code == "not_paper"


@pytest.mark.parametrize("status", ["pending", "rejected"])
def test_an_unapproved_venue_refuses(helper, elder, status):
    venue = make_venue(status=status)
    error = refused(helper=helper, venue=venue, way="id_card", name="王秀英", id_number=ELDER_ID)
    assert error.status == 403
    assert not lookups().exists()


def test_the_helper_limit_at_its_edge(helper, venue, settings):
    settings.PROXY_SCAN_PER_HELPER_PER_HOUR = 3
    people = [make_resident(name="李四") for _ in range(4)]
    for person in people[:3]:
        proxy_checkin(
            helper=helper, venue=venue, way="id_card", name="李四", id_number=person.id_number
        )
    error = refused_after(
        3, helper=helper, venue=venue, way="id_card", name="李四", id_number=people[3].id_number
    )
    assert error.status == 429 and "帮扫过于频繁" in error.message and "分钟后再试" in error.message


def test_failed_attempts_count_against_the_helper(helper, elder, venue, settings):
    settings.PROXY_SCAN_PER_HELPER_PER_HOUR = 2
    for _ in range(2):
        with pytest.raises(DomainError):
            proxy_checkin(
                helper=helper, venue=venue, way="id_card", name="李四", id_number=ELDER_ID
            )
    error = refused(helper=helper, venue=venue, way="id_card", name="王秀英", id_number=ELDER_ID)
    assert error.status == 429


def test_the_limit_per_person_helped_at_its_edge(elder, settings):
    settings.PROXY_SCAN_PER_PERSON_PER_HOUR = 2
    venues = [make_venue() for _ in range(3)]
    helpers = [make_resident().user for _ in range(3)]
    for helper, venue in zip(helpers[:2], venues[:2], strict=True):
        proxy_checkin(helper=helper, venue=venue, way="id_card", name="王秀英", id_number=ELDER_ID)
    error = refused_after(
        2, helper=helpers[2], venue=venues[2], way="id_card", name="王秀英", id_number=ELDER_ID
    )
    assert error.status == 429 and "被他人代为登记" in error.message


def test_the_limits_reopen_after_an_hour(helper, elder, venue, settings):
    settings.PROXY_SCAN_PER_HELPER_PER_HOUR = 1
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        proxy_checkin(helper=helper, venue=venue, way="id_card", name="王秀英", id_number=ELDER_ID)
    with time_machine.travel(start + dt.timedelta(minutes=59), tick=False):
        with pytest.raises(DomainError):
            proxy_checkin(
                helper=helper, venue=venue, way="id_card", name="王秀英", id_number=ELDER_ID
            )
    with time_machine.travel(start + dt.timedelta(hours=1, seconds=1), tick=False):
        proxy_checkin(helper=helper, venue=venue, way="id_card", name="王秀英", id_number=ELDER_ID)
    assert CheckIn.objects.count() == 2


def refused_after(count: int, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as exc:
        proxy_checkin(**kwargs)
    assert CheckIn.objects.count() == count
    return exc.value


def test_two_helpers_in_the_repeat_window_each_get_their_own_check_in(elder, venue):
    first, second = make_resident().user, make_resident().user
    a = proxy_checkin(helper=first, venue=venue, way="id_card", name="王秀英", id_number=ELDER_ID)
    again = proxy_checkin(
        helper=first, venue=venue, way="id_card", name="王秀英", id_number=ELDER_ID
    )
    b = proxy_checkin(helper=second, venue=venue, way="id_card", name="王秀英", id_number=ELDER_ID)
    assert again == a and b != a and b.helper == second


# --- Pages --------------------------------------------------------------------------------


def poster_code(venue) -> str:
    from venues import codes

    return codes.make(public_id=venue.public_id, version=venue.poster_version)


def help_url(venue) -> str:
    return f"/v/{poster_code(venue)}/help/"


@pytest.fixture
def helper_client(client, helper):
    client.force_login(helper)
    return client


def test_the_check_in_page_and_own_result_link_to_help(helper_client, venue):
    page = helper_client.get(f"/v/{poster_code(venue)}")
    assert help_url(venue) in page.content.decode()
    result = helper_client.post(f"/v/{poster_code(venue)}", follow=True)
    assert "帮他人扫码" in result.content.decode() and help_url(venue) in result.content.decode()


def test_the_help_page_offers_four_ways_and_lists_only_my_members(resident, helper_client, venue):
    services.family_member_bind(
        holder=resident,
        name="王小宝",
        id_type="resident_id",
        id_number=CHILD_ID,
        relationship="child",
    )
    stranger = make_resident(name="赵六")
    services.family_member_bind(
        holder=stranger,
        name="赵大爷",
        id_type="resident_id",
        id_number=ELDER_ID,
        relationship="parent",
    )
    body = helper_client.get(help_url(venue)).content.decode()
    for way in ("id_card", "citizen_card", "paper_code", "family"):
        assert f'name="way" value="{way}"' in body
    assert "王*宝" in body and "赵*爷" not in body and "赵大爷" not in body
    assert not CheckIn.objects.exists()  # a GET records nothing


def test_a_post_records_and_the_helper_sees_the_persons_result(helper_client, elder, venue):
    response = helper_client.post(
        help_url(venue), {"way": "id_card", "name": "王秀英", "id_number": ELDER_ID}
    )
    checkin = only_checkin()
    assert response.status_code == 302
    assert response["Location"] == f"/checkin/{checkin.public_id}/"
    page = helper_client.get(response["Location"]).content.decode()
    assert "王*英" in page and "可以通行" in page and "再帮一人" in page
    assert help_url(venue) in page and ELDER_ID not in page
    # the person themself may see it too; nobody else
    other = make_resident()
    helper_client.force_login(other.user)
    assert helper_client.get(response["Location"]).status_code == 404
    helper_client.force_login(elder.user)
    assert helper_client.get(response["Location"]).status_code == 200


def test_the_reason_is_shown_to_the_person_and_a_family_holder_not_a_companion(
    resident, helper_client, elder, venue
):
    """A companion who typed a name and a number sees the colour and the decision, not which
    red or yellow list the person is on; the person and a holder who picked them do."""
    from tests.factories import add_flag

    add_flag(elder, "fever_clinic")
    reason = "14天内有发热门诊就诊记录"
    typed = helper_client.post(
        help_url(venue), {"way": "id_card", "name": "王秀英", "id_number": ELDER_ID}
    )
    page = helper_client.get(typed["Location"]).content.decode()
    assert "黄码" in page and "禁止通行" in page and reason not in page
    helper_client.force_login(elder.user)
    assert reason in helper_client.get(typed["Location"]).content.decode()

    holder = make_resident(name="王大明")
    binding = services.family_member_bind(
        holder=holder,
        name="王秀英",
        id_type="resident_id",
        id_number=ELDER_ID,
        relationship="parent",
    )
    helper_client.force_login(holder.user)
    picked = helper_client.post(
        help_url(venue), {"way": "family", "binding_id": str(binding.public_id)}
    )
    assert reason in helper_client.get(picked["Location"]).content.decode()


def test_a_mismatch_on_the_page_says_xinxi_bufu_and_records_nothing(helper_client, elder, venue):
    response = helper_client.post(
        help_url(venue), {"way": "id_card", "name": "王秀华", "id_number": ELDER_ID}
    )
    assert response.status_code == 400
    assert "信息不符" in response.content.decode() and not CheckIn.objects.exists()


def test_over_the_limit_the_page_answers_429_in_chinese(helper_client, elder, venue, settings):
    settings.PROXY_SCAN_PER_HELPER_PER_HOUR = 1
    data = {"way": "id_card", "name": "王秀英", "id_number": ELDER_ID}
    assert helper_client.post(help_url(venue), data).status_code == 302
    response = helper_client.post(help_url(venue), data)
    assert response.status_code == 429 and "帮扫过于频繁" in response.content.decode()


def test_an_unapproved_venues_help_page_refuses(helper_client, elder):
    venue = make_venue(status="pending")
    assert helper_client.get(help_url(venue)).status_code == 403
    data = {"way": "id_card", "name": "王秀英", "id_number": ELDER_ID}
    assert helper_client.post(help_url(venue), data).status_code == 403
    assert not CheckIn.objects.exists()


def test_the_help_page_needs_a_log_in(client, venue):
    response = client.get(help_url(venue))
    assert response.status_code == 302 and "/login" in response["Location"]
