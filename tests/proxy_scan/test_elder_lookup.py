"""老幼助查 (/lookup/): who may be looked up (60 or older, 16 or younger, on today's date in
Shanghai), the one neutral refusal, mainland resident IDs only, the result readable by its
viewer for 10 seconds, the throttles, and the lookup record."""

import datetime as dt
import logging
import re

import pytest
import time_machine
from django.urls import reverse

from healthcode.idnumbers import ResidentIdInfo
from healthcode.models import User
from proxy_scan.ages import elder_lookup_age_allowed
from proxy_scan.models import ElderLookupResult
from tests.factories import PASSWORD, add_flag, lookups, make_resident, resident_id

pytestmark = pytest.mark.django_db

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
REFUSAL = "未找到符合老幼助查条件的人员，请核对姓名与证件号码。"
MAINLAND_ONLY = "老幼助查仅适用于中国大陆居民身份证"


# --- The age rule (pure) ----------------------------------------------------------------------
def allowed(birth: str, today: str) -> bool:
    info = ResidentIdInfo(region_code="110105", birth_date=dt.date.fromisoformat(birth), sex="M")
    return elder_lookup_age_allowed(info, today=dt.date.fromisoformat(today))


@pytest.mark.parametrize(
    ("birth", "today", "expected"),
    [
        # 60 以上 includes 60: the day before the 60th birthday no, the birthday itself yes.
        ("1966-03-02", "2026-03-01", False),
        ("1966-03-02", "2026-03-02", True),
        ("1966-03-02", "2026-03-03", True),
        ("1900-01-01", "2026-03-02", True),
        # 16 以下 includes 16: 16 years and 364 days yes, the 17th birthday no.
        ("2009-03-02", "2026-03-01", True),
        ("2009-03-02", "2026-03-02", False),
        ("2026-03-02", "2026-03-02", True),  # born today
        # Everyone from 17 to 59 is refused.
        ("2009-03-01", "2026-03-02", False),
        ("1990-06-15", "2026-03-02", False),
        ("1966-03-03", "2026-03-02", False),
        # Born 29 February: in a leap year the birthday is that day...
        ("1964-02-29", "2024-02-28", False),
        ("1964-02-29", "2024-02-29", True),
        # ...in other years they turn a year older on 1 March, not on 28 February.
        ("2008-02-29", "2025-02-28", True),
        ("2008-02-29", "2025-03-01", False),
        ("1965-02-28", "2025-02-28", True),  # a 28 February birthday is that day
        ("1965-03-01", "2025-02-28", False),
    ],
)
def test_age_rule_at_its_edges(birth, today, expected):
    assert allowed(birth, today) is expected


# --- Helpers ------------------------------------------------------------------------------------
@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def staff(db):
    return User.objects.create_user(phone="13600000001", password=PASSWORD)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def person(birth: str, *, name: str = "王秀英", seq: int = 7):
    return make_resident(name=name, id_number=resident_id(birth=birth, seq=seq))


def look_up(client, *, name="王秀英", id_number, id_type="resident_id", ip="10.0.0.1"):
    data = {"name": name, "id_type": id_type, "id_number": id_number}
    return client.post(reverse("proxy_scan:lookup"), data, REMOTE_ADDR=ip)


def page_without_inputs(response) -> str:
    """The page less what differs by request alone: the CSRF token and the typed values."""
    return re.sub(r' value="[^"]*"', "", response.content.decode())


# --- The happy path -----------------------------------------------------------------------------
def test_an_elder_is_found_and_shown_masked_with_colour_reason_and_test_line(
    clock, staff_client, staff
):
    elder = person("19500101")
    add_flag(elder, "close_contact", starts=NOW - dt.timedelta(hours=1))
    response = look_up(staff_client, id_number=elder.id_number)
    assert response.status_code == 302
    assert re.fullmatch(r"/lookup/r/[\w-]{32}", response["Location"])
    assert "no-store" in response["Cache-Control"]
    page = staff_client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    assert "王*英" in html and "1101**********" in html
    assert "王秀英" not in html and elder.id_number not in html
    assert "result-red" in html and "红码" in html and "隔离医学观察的密切接触者" in html
    assert "暂无核酸检测记录" in html
    assert 'data-remaining-ms="10000"' in html and "js/lookup.js" in html
    assert page["Refresh"] == "11"  # without JavaScript: reloaded after expiry
    lookup = lookups().get()
    assert (lookup.actor, lookup.subject, lookup.action) == (staff, elder, "elder_lookup")


def test_the_page_needs_a_log_in(client):
    response = client.get(reverse("proxy_scan:lookup"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    elder = person("19500101")
    response = look_up(client, id_number=elder.id_number)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert not lookups().exists()


# --- Age edges through the page (frozen time) ---------------------------------------------------
@pytest.mark.parametrize(
    ("birth", "day", "found"),
    [
        ("19660302", "2026-03-01", False),  # the day before the 60th birthday
        ("19660302", "2026-03-02", True),  # the 60th birthday
        ("20090302", "2026-03-01", True),  # 16 years and 364 days
        ("20090302", "2026-03-02", False),  # the 17th birthday
        ("20080229", "2025-02-28", True),  # born 29 Feb, a year without one: still 16
        ("20080229", "2025-03-01", False),  # ...17 on 1 March
        ("19640229", "2024-02-28", False),  # born 29 Feb, a leap year: 59 the day before
        ("19640229", "2024-02-29", True),  # ...60 on the day
    ],
)
def test_age_edges_on_the_page(staff_client, birth, day, found):
    with time_machine.travel(dt.datetime.fromisoformat(f"{day}T12:00:00+08:00"), tick=False):
        someone = person(birth)
        response = look_up(staff_client, id_number=someone.id_number)
    assert (response.status_code == 302) is found
    assert ElderLookupResult.objects.exists() is found
    if not found:
        assert REFUSAL in response.content.decode()


def test_today_is_counted_in_shanghai_not_utc(staff_client):
    # 2026-03-01 16:00 UTC is already 2 March in Shanghai: the 60th birthday.
    with time_machine.travel(dt.datetime(2026, 3, 1, 15, 59, 59, tzinfo=dt.UTC), tick=False):
        elder = person("19660302")
        assert look_up(staff_client, id_number=elder.id_number).status_code == 200
    with time_machine.travel(dt.datetime(2026, 3, 1, 16, 0, 0, tzinfo=dt.UTC), tick=False):
        assert look_up(staff_client, id_number=elder.id_number).status_code == 302


# --- One neutral refusal --------------------------------------------------------------------------
def test_wrong_name_unknown_number_and_wrong_age_get_the_same_answer(clock, staff_client, staff):
    elder = person("19500101", seq=1)
    adult = person("19900101", seq=2)
    unknown = resident_id(birth="19450101", seq=3)
    answers = [
        look_up(staff_client, name="王秀兰", id_number=elder.id_number),  # wrong name
        look_up(staff_client, id_number=unknown),  # nobody registered that number
        look_up(staff_client, id_number=adult.id_number),  # registered, 36 years old
    ]
    assert {response.status_code for response in answers} == {200}
    pages = {page_without_inputs(response) for response in answers}
    assert len(pages) == 1
    assert REFUSAL in pages.pop()
    assert not ElderLookupResult.objects.exists()
    # Each attempt is still recorded: the resident when name and number match, else masked.
    rows = list(lookups().order_by("pk"))
    assert [(x.subject, x.subject_masked_id) for x in rows] == [
        (None, "1101**********" + elder.id_number[-4:]),
        (None, "1101**********" + unknown[-4:]),
        (adult, ""),
    ]
    assert {(x.actor, x.action) for x in rows} == {(staff, "elder_lookup")}


def test_a_bad_check_digit_is_a_field_error_and_records_nothing(clock, staff_client):
    elder = person("19500101")
    wrong = elder.id_number[:17] + ("0" if elder.id_number[17] != "0" else "1")
    response = look_up(staff_client, id_number=wrong)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_id_number_error"><p class="error-line">身份证号码校验位不正确' in html
    assert REFUSAL not in html
    assert not lookups().exists() and not ElderLookupResult.objects.exists()


@pytest.mark.parametrize(
    ("id_type", "number"),
    [
        ("passport", "E12345678"),
        ("hk_macao_permit", "H12345678"),
        ("taiwan_permit", "12345678"),
        ("foreign_permanent", "USA123456789012"),
    ],
)
def test_other_document_types_are_refused_with_a_clear_message(
    clock, staff_client, id_type, number
):
    response = look_up(staff_client, id_type=id_type, id_number=number)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="id_id_type_error"><p class="error-line">{MAINLAND_ONLY}' in html
    assert "id_id_number_error" not in html  # one message, on the document type
    assert not lookups().exists()


@pytest.mark.parametrize(
    "first17",
    [
        "81000019500101001",  # Hong Kong residents' residence permit
        "83000019500101001",  # Taiwan residents' residence permit
        "93315619500101001",  # foreign permanent residence card, 2017 edition
    ],
)
def test_non_mainland_18_digit_numbers_are_refused_as_such(clock, staff_client, first17):
    from healthcode.idnumbers import resident_id_check_char

    response = look_up(staff_client, id_number=first17 + resident_id_check_char(first17))
    assert (
        f'id="id_id_number_error"><p class="error-line">{MAINLAND_ONLY}'
        in response.content.decode()
    )
    assert not lookups().exists()


# --- The result lives 10 seconds, for its viewer only ------------------------------------------
@pytest.fixture
def result_url(clock, staff_client):
    elder = person("19500101")
    return look_up(staff_client, id_number=elder.id_number)["Location"]


def test_the_result_is_readable_until_just_before_10_seconds(clock, staff_client, result_url):
    clock.move_to(NOW + dt.timedelta(seconds=9.999))
    response = staff_client.get(result_url)
    assert response.status_code == 200 and "王*英" in response.content.decode()
    assert 'data-remaining-ms="1"' in response.content.decode()
    assert response["Refresh"] == "2"


def test_at_10_seconds_the_result_is_gone_for_good(clock, staff_client, result_url):
    clock.move_to(NOW + dt.timedelta(seconds=10))
    response = staff_client.get(result_url)
    html = response.content.decode()
    assert response.status_code == 410
    assert "查询结果已过期" in html and "王*英" not in html and "绿码" not in html
    assert "no-store" in response["Cache-Control"]
    assert not ElderLookupResult.objects.exists()  # the server's copy is deleted
    clock.move_to(NOW + dt.timedelta(seconds=1))  # even a clock set back finds nothing
    assert staff_client.get(result_url).status_code == 404


def test_another_user_gets_404_even_within_the_10_seconds(clock, client, result_url):
    client.force_login(User.objects.create_user(phone="13600000002", password=PASSWORD))
    clock.move_to(NOW + dt.timedelta(seconds=1))
    response = client.get(result_url)
    assert response.status_code == 404
    assert "王*英" not in response.content.decode()
    assert ElderLookupResult.objects.exists()  # still there for its own viewer


def test_an_unknown_address_is_404(clock, staff_client):
    assert staff_client.get("/lookup/r/" + "A" * 32).status_code == 404


def test_a_new_lookup_deletes_expired_results_of_anyone(clock, staff_client, client, result_url):
    other = User.objects.create_user(phone="13600000002", password=PASSWORD)
    client.force_login(other)
    clock.move_to(NOW + dt.timedelta(seconds=10))
    child = person("20200101", name="李小明", seq=8)
    second = look_up(client, name="李小明", id_number=child.id_number)
    assert second.status_code == 302
    assert list(ElderLookupResult.objects.values_list("viewer", flat=True)) == [other.pk]


# --- Throttles --------------------------------------------------------------------------------
@pytest.fixture
def three_an_hour(settings):
    settings.ELDER_LOOKUP_PER_USER_PER_HOUR = 3
    settings.ELDER_LOOKUP_PER_IP_PER_HOUR = 100


def test_per_user_limit_at_its_edge_then_the_hour_passes(clock, staff_client, three_an_hour):
    elder = person("19500101")
    for _ in range(3):  # the limit itself is allowed
        assert look_up(staff_client, id_number=elder.id_number).status_code == 302
    seen = lookups().count()
    response = look_up(staff_client, id_number=elder.id_number)
    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    assert "老幼助查过于频繁" in response.content.decode()
    assert "请 60 分钟后再试。" in response.content.decode()
    assert lookups().count() == seen  # refused before anything is looked up
    clock.move_to(NOW + dt.timedelta(seconds=3599))
    assert look_up(staff_client, id_number=elder.id_number).status_code == 429
    clock.move_to(NOW + dt.timedelta(seconds=3600))  # the first lookup leaves the window
    assert look_up(staff_client, id_number=elder.id_number).status_code == 302


def test_refusals_and_field_errors_count_too(clock, staff_client, three_an_hour):
    for _ in range(3):
        assert look_up(staff_client, id_number=resident_id(birth="19450101")).status_code == 200
    assert look_up(staff_client, id_number="110105").status_code == 429


def test_per_ip_limit_spans_accounts_and_spares_other_addresses(clock, client, settings):
    settings.ELDER_LOOKUP_PER_USER_PER_HOUR = 100
    settings.ELDER_LOOKUP_PER_IP_PER_HOUR = 2
    elder = person("19500101")
    for n in range(2):
        client.force_login(User.objects.create_user(phone=f"1360000010{n}", password=PASSWORD))
        assert look_up(client, id_number=elder.id_number, ip="10.9.9.9").status_code == 302
    client.force_login(User.objects.create_user(phone="13600000109", password=PASSWORD))
    assert look_up(client, id_number=elder.id_number, ip="10.9.9.9").status_code == 429
    assert look_up(client, id_number=elder.id_number, ip="10.9.9.8").status_code == 302


DEAD_REDIS = {
    "default": {
        "BACKEND": "config.cache.ReusingRedisCache",
        "LOCATION": "redis://127.0.0.1:1/7",  # nothing listens on port 1
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


def test_with_the_cache_down_lookups_work_and_a_warning_is_logged(
    clock, staff_client, settings, caplog
):
    settings.CACHES = DEAD_REDIS
    settings.ELDER_LOOKUP_PER_USER_PER_HOUR = 1
    caplog.set_level(logging.WARNING, logger="healthcode.throttling")
    elder = person("19500101")
    for _ in range(2):  # over the limit of 1: nothing is counted, nothing refused
        response = look_up(staff_client, id_number=elder.id_number)
        assert response.status_code == 302
    assert staff_client.get(response["Location"]).status_code == 200  # results live in the DB
    assert "cache unavailable" in caplog.text
    assert elder.id_number not in caplog.text and "10.0.0.1" not in caplog.text
