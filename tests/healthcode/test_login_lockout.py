"""Log-in lock-outs (django-axes): per account and per IP, on the page, the admin and the API.

Defaults: an account locks after 10 wrong passwords, an IP after 50 (any accounts), each for
15 minutes after its last counted failure; attempts during a lock are refused uncounted.
"""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
STAFF_PHONE, STAFF_PASSWORD = "13700000000", "Staff-pass-2026!"  # tests/conftest.py staff_user
LOCKED = "登录失败次数过多，请 15 分钟后再试。"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def page_log_in(phone, password, ip="10.1.1.1"):
    client = APIClient()  # a plain Django test client underneath; keeps cookies
    response = client.post(
        reverse("login"), {"username": phone, "password": password}, REMOTE_ADDR=ip
    )
    return response, "_auth_user_id" in client.session


def admin_log_in(phone, password, ip="10.1.1.1"):
    client = APIClient()
    response = client.post(
        reverse("admin:login"),
        {"username": phone, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )
    return response, "_auth_user_id" in client.session


def api_log_in(phone, password, ip="10.1.1.1"):
    response = APIClient().post(
        reverse("api-token"), {"phone": phone, "password": password}, format="json", REMOTE_ADDR=ip
    )
    return response, response.status_code == 200 and "token" in response.json()


LOG_INS = {"page": page_log_in, "admin": admin_log_in, "api": api_log_in}


@pytest.mark.parametrize("path", LOG_INS)
def test_thirty_wrong_passwords_then_the_right_one_is_refused(staff_user, path):
    log_in = LOG_INS[path]
    for _ in range(30):
        log_in(STAFF_PHONE, "wrong-guess")
    response, logged_in = log_in(STAFF_PHONE, STAFF_PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert LOCKED in response.content.decode()
    assert not logged_in
    assert not Token.objects.exists()


def test_the_api_lock_out_is_json_with_a_chinese_detail(staff_user):
    for _ in range(10):
        api_log_in(STAFF_PHONE, "wrong-guess")
    response, _ = api_log_in(STAFF_PHONE, STAFF_PASSWORD)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"] == LOCKED


def test_the_tenth_wrong_password_locks_and_the_ninth_does_not(staff_user):
    for _ in range(9):
        page_log_in(STAFF_PHONE, "wrong-guess")
    response, _ = page_log_in(STAFF_PHONE, "wrong-guess")  # the 10th: counted, then locked
    assert response.status_code == 429


def test_nine_wrong_passwords_then_the_right_one_logs_in(staff_user):
    for _ in range(9):
        response, _ = page_log_in(STAFF_PHONE, "wrong-guess")
        assert response.status_code == 200 and "手机号码或密码不正确" in response.content.decode()
    response, logged_in = page_log_in(STAFF_PHONE, STAFF_PASSWORD)
    assert response.status_code == 302 and logged_in


@pytest.mark.parametrize("path", LOG_INS)
def test_a_success_clears_the_accounts_failures(staff_user, path):
    log_in = LOG_INS[path]
    for _ in range(9):
        log_in(STAFF_PHONE, "wrong-guess")
    assert log_in(STAFF_PHONE, STAFF_PASSWORD)[1]
    for _ in range(9):  # 18 in all, but only 9 since the success
        log_in(STAFF_PHONE, "wrong-guess")
    response, logged_in = log_in(STAFF_PHONE, STAFF_PASSWORD)
    assert response.status_code in (200, 302) and logged_in


def test_the_account_is_locked_from_every_ip(staff_user):
    for n in range(10):
        page_log_in(STAFF_PHONE, "wrong-guess", ip=f"10.2.0.{n}")
    response, logged_in = api_log_in(STAFF_PHONE, STAFF_PASSWORD, ip="10.9.9.9")
    assert response.status_code == 429 and not logged_in


def test_the_phone_counts_as_one_account_however_it_is_typed(staff_user):
    spellings = ["+86 137 0000 0000", "137-0000-0000", "0086 13700000000", "１３７００００００００"]
    for n in range(10):  # the admin's form passes the phone on as typed
        admin_log_in(spellings[n % len(spellings)], "wrong-guess", ip=f"10.3.0.{n}")
    response, logged_in = page_log_in(STAFF_PHONE, STAFF_PASSWORD, ip="10.9.9.9")
    assert response.status_code == 429 and not logged_in


def test_fifty_failures_from_one_ip_lock_it_for_every_account(staff_user):
    for n in range(50):  # 5 guesses at each of 10 other numbers: no account reaches its limit
        page_log_in(f"1360000{n // 5:04d}", "wrong-guess", ip="10.4.4.4")
    response, logged_in = page_log_in(STAFF_PHONE, STAFF_PASSWORD, ip="10.4.4.4")
    assert response.status_code == 429 and not logged_in
    response, logged_in = page_log_in(STAFF_PHONE, STAFF_PASSWORD, ip="10.5.5.5")
    assert response.status_code == 302 and logged_in


def test_forty_nine_failures_from_one_ip_do_not_lock_it(staff_user):
    for n in range(49):  # the IP's limit is higher than an account's: many people share one
        page_log_in(f"1360000{n // 5:04d}", "wrong-guess", ip="10.4.4.4")
    response, logged_in = page_log_in(STAFF_PHONE, STAFF_PASSWORD, ip="10.4.4.4")
    assert response.status_code == 302 and logged_in


def test_a_success_clears_the_accounts_count_not_the_ips(staff_user, resident):
    for n in range(45):  # against others' accounts
        page_log_in(f"1360000{n // 5:04d}", "wrong-guess", ip="10.6.6.6")
    for _ in range(9):  # and the attacker's own
        page_log_in(resident.user.phone, "wrong-guess", ip="10.7.7.7")
    assert page_log_in(resident.user.phone, PASSWORD, ip="10.6.6.6")[1]
    # The own account's 9 are gone: 9 more do not lock it ...
    for _ in range(9):
        page_log_in(resident.user.phone, "wrong-guess", ip="10.7.7.7")
    assert page_log_in(resident.user.phone, PASSWORD, ip="10.7.7.7")[1]
    # ... but the IP's 45 against others still count: 5 more lock it.
    for n in range(5):
        page_log_in(f"1350000{n:04d}", "wrong-guess", ip="10.6.6.6")
    response, logged_in = page_log_in(STAFF_PHONE, STAFF_PASSWORD, ip="10.6.6.6")
    assert response.status_code == 429 and not logged_in


def test_the_lock_lifts_exactly_at_the_cool_off(staff_user, clock):
    for _ in range(10):
        page_log_in(STAFF_PHONE, "wrong-guess")
    clock.move_to(NOW + dt.timedelta(minutes=15, seconds=-1))
    response, logged_in = page_log_in(STAFF_PHONE, STAFF_PASSWORD)
    assert response.status_code == 429 and response["Retry-After"] == "1"
    assert "请 1 分钟后再试" in response.content.decode() and not logged_in
    clock.move_to(NOW + dt.timedelta(minutes=15))
    response, logged_in = page_log_in(STAFF_PHONE, STAFF_PASSWORD)
    assert response.status_code == 302 and logged_in


def test_attempts_during_the_lock_do_not_extend_it(staff_user, clock):
    for _ in range(10):
        page_log_in(STAFF_PHONE, "wrong-guess")
    clock.move_to(NOW + dt.timedelta(minutes=10))
    response, _ = page_log_in(STAFF_PHONE, "another-guess")
    assert response.status_code == 429 and response["Retry-After"] == "300"
    assert "请 5 分钟后再试" in response.content.decode()
    clock.move_to(NOW + dt.timedelta(minutes=15))
    assert api_log_in(STAFF_PHONE, STAFF_PASSWORD)[1]


@pytest.mark.parametrize("path", ["page", "admin"])
def test_the_locked_page_keeps_the_form_with_the_message(staff_user, path):
    for _ in range(10):
        LOG_INS[path](STAFF_PHONE, "wrong-guess")
    response, _ = LOG_INS[path](STAFF_PHONE, STAFF_PASSWORD)
    html = response.content.decode()
    assert response.status_code == 429
    assert LOCKED in html
    assert "手机号码或密码不正确" not in html  # the password was not even checked
    assert 'name="password"' in html and f'value="{STAFF_PHONE}"' in html


def test_behind_a_proxy_one_clients_lock_is_not_everyones(staff_user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_IP_FAILURE_LIMIT = 12
    proxy = "172.16.0.1"
    for n in range(12):
        APIClient().post(
            reverse("login"),
            {"username": f"1360000{n:04d}", "password": "wrong-guess"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR="1.1.1.1",
        )
    client = APIClient()
    response = client.post(
        reverse("login"),
        {"username": STAFF_PHONE, "password": STAFF_PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="2.2.2.2",
    )
    assert response.status_code == 302 and "_auth_user_id" in client.session
    locked = APIClient().post(
        reverse("login"),
        {"username": STAFF_PHONE, "password": STAFF_PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="9.9.9.9, 1.1.1.1",
    )
    assert locked.status_code == 429
