"""Per-IP limits in the cache: registration (page and API share one budget) and unknown lab or
device keys; with the cache unreachable both fail open (logged), never a 500."""

import datetime as dt
import logging

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from checkins.models import Device
from healthcode.models import Resident
from tests.factories import lab_token, make_venue, registration_data

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
DEAD_REDIS = {
    "default": {
        "BACKEND": "config.cache.ReusingRedisCache",
        "LOCATION": "redis://127.0.0.1:1/4",  # nothing listens on port 1
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def register_api(ip="10.1.1.1", **overrides):
    return APIClient().post(
        reverse("api-residents"), registration_data(**overrides), format="json", REMOTE_ADDR=ip
    )


def register_page(ip="10.1.1.1", **overrides):
    data = {k: v for k, v in registration_data(**overrides).items() if v is not False}
    return APIClient().post(reverse("healthcode:register"), data, REMOTE_ADDR=ip)


# --- Registration ---------------------------------------------------------------------------
@pytest.fixture
def three_an_hour(settings):
    settings.REGISTRATION_PER_IP_PER_HOUR = 3


def test_registration_over_the_limit_is_refused_on_the_page_and_writes_nothing(three_an_hour):
    assert register_api().status_code == 201
    assert register_page().status_code == 302
    assert register_api().status_code == 201  # the page and the API share the budget
    response = register_page(phone="13512345678")
    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    html = response.content.decode()
    assert "注册请求过于频繁，请 60 分钟后再试。" in html
    assert 'name="id_number"' in html  # the form is still there
    assert Resident.objects.count() == 3
    assert not Resident.objects.filter(user__phone="13512345678").exists()


def test_registration_over_the_limit_is_refused_on_the_api_and_writes_nothing(three_an_hour):
    for _ in range(3):
        assert register_api().status_code == 201
    response = register_api(phone="13512345678")
    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    assert response.json()["detail"] == "注册请求过于频繁，请 60 分钟后再试。"
    assert Resident.objects.count() == 3


def test_the_registration_limit_is_per_ip(three_an_hour):
    for _ in range(3):
        register_api(ip="10.1.1.1")
    assert register_api(ip="10.1.1.2").status_code == 201


def test_the_registration_window_passes_after_exactly_an_hour(three_an_hour, clock):
    for _ in range(3):
        register_api()
    clock.move_to(NOW + dt.timedelta(hours=1, seconds=-1))
    response = register_api()
    assert response.status_code == 429 and response["Retry-After"] == "1"
    clock.move_to(NOW + dt.timedelta(hours=1))
    assert register_api().status_code == 201


def test_registration_counts_by_default_thirty_an_hour():
    for _ in range(30):
        assert register_api().status_code == 201
    assert register_api().status_code == 429


# --- Lab and device keys --------------------------------------------------------------------
@pytest.fixture
def device_key():
    _row, key = Device.create_with_key(venue=make_venue(), name="东门闸机")
    return key


def verify_at_gate(key, ip="10.2.2.2"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client.post(reverse("api-devices-verify"), {"code": "x"}, format="json", REMOTE_ADDR=ip)


def list_lab_batches(key, ip="10.2.2.2"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client.get(reverse("api-nucleic-batches"), REMOTE_ADDR=ip)


def test_twenty_unknown_keys_then_every_key_from_that_ip_gets_429(device_key):
    for n in range(20):
        assert verify_at_gate(f"key_guess{n}").status_code == 401
    response = verify_at_gate(device_key)  # the right key, from the guessing IP
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert response.json()["detail"] == "令牌错误次数过多，请 15 分钟后再试。"
    assert verify_at_gate(device_key, ip="10.3.3.3").status_code == 400  # elsewhere: let in


def test_lab_and_device_guesses_count_together_and_block_both(device_key):
    _token, lab_key = lab_token()
    for n in range(10):
        list_lab_batches(f"key_guess{n}")
        verify_at_gate(f"key_guess{n}")
    assert list_lab_batches(lab_key).status_code == 429
    assert verify_at_gate(device_key).status_code == 429


def test_the_key_block_lasts_exactly_the_window(device_key, clock):
    _token, lab_key = lab_token()
    for n in range(20):
        verify_at_gate(f"key_guess{n}")
    clock.move_to(NOW + dt.timedelta(minutes=15, seconds=-1))
    response = list_lab_batches(lab_key)
    assert response.status_code == 429 and response["Retry-After"] == "1"
    assert verify_at_gate(device_key).status_code == 429
    clock.move_to(NOW + dt.timedelta(minutes=15))
    assert list_lab_batches(lab_key).status_code == 200
    assert verify_at_gate(device_key).status_code == 400  # authenticated; the code is bad


def test_nineteen_unknown_keys_do_not_block(device_key):
    for n in range(19):
        verify_at_gate(f"key_guess{n}")
    assert verify_at_gate(device_key).status_code == 400


def test_a_revoked_key_retrying_does_not_block_its_neighbours(device_key):
    row, old_key = Device.create_with_key(venue=make_venue(), name="旧闸机")
    row.revoked_at = timezone.now()
    row.save()
    for _ in range(30):
        response = verify_at_gate(old_key)
        assert response.status_code == 401 and "吊销" in response.json()["detail"]
    assert verify_at_gate(device_key).status_code == 400


# --- Cache down: fail open ------------------------------------------------------------------
@pytest.fixture
def redis_down(settings, caplog):
    settings.CACHES = DEAD_REDIS
    caplog.set_level(logging.WARNING, logger="healthcode.throttling")
    return caplog


def test_registration_works_with_the_cache_down(redis_down, settings):
    settings.REGISTRATION_PER_IP_PER_HOUR = 1
    assert register_api().status_code == 201
    assert register_page().status_code == 302
    assert register_api(phone="13512345678").status_code == 201  # over 1/h: nothing counts
    assert Resident.objects.count() == 3
    assert "cache unavailable" in redis_down.text


def test_keys_work_and_wrong_keys_get_401_with_the_cache_down(redis_down, device_key):
    _token, lab_key = lab_token()
    for n in range(25):
        assert verify_at_gate(f"key_guess{n}").status_code == 401
    assert verify_at_gate(device_key).status_code == 400
    assert list_lab_batches(lab_key).status_code == 200
    assert "cache unavailable" in redis_down.text


def test_the_cache_down_warning_names_no_person_or_address(redis_down):
    register_api(ip="10.8.8.8", phone="13512345678")
    warnings = [r.getMessage() for r in redis_down.records if r.name == "healthcode.throttling"]
    assert warnings
    for message in warnings:
        assert "10.8.8.8" not in message and "13512345678" not in message


# --- Whose address ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "", "10.0.0.9"),
        (0, "1.2.3.4", "10.0.0.9"),  # no proxy trusted: a client's header is ignored
        (1, "1.2.3.4, 5.6.7.8", "5.6.7.8"),  # what our one proxy saw, not what was forged
        (2, "1.2.3.4, 5.6.7.8", "1.2.3.4"),
        (2, "5.6.7.8", "5.6.7.8"),
        (1, "", "10.0.0.9"),
    ],
)
def test_the_client_ip_trusts_only_the_configured_proxies(settings, proxies, forwarded, expected):
    from django.test import RequestFactory

    from healthcode.throttling import client_ip

    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_behind_a_proxy_each_client_has_its_own_registration_budget(three_an_hour, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "172.16.0.1"
    for _ in range(3):
        APIClient().post(
            reverse("api-residents"),
            registration_data(),
            format="json",
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR="1.1.1.1",
        )
    forged = APIClient().post(
        reverse("api-residents"),
        registration_data(),
        format="json",
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="9.9.9.9, 1.1.1.1",  # a forged first hop changes nothing
    )
    assert forged.status_code == 429
    other = APIClient().post(
        reverse("api-residents"),
        registration_data(),
        format="json",
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="2.2.2.2",
    )
    assert other.status_code == 201
