"""采样 N 小时前 is counted to the instant the status was decided — the ``now`` the door's
decision used — by one function (``healthcode.models.test_line``), whatever shows it: the
inspector's verify and confirm, a gate device, the API of one's own code. A check-in shown
again later (a repeat scan returns the first one) still says what was true at its decision."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from checkins.models import CheckIn, Device
from healthcode import api as healthcode_api
from healthcode import tokens
from healthcode.models import HealthCode, User
from healthcode.selectors import ensure_current
from tests.factories import PASSWORD, make_venue, post_result
from venues import services as venue_services

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def inspector(db):
    venue = make_venue()
    user = User.objects.create_user(phone="13522220000", password=PASSWORD)
    venue_services.inspector_bind(user=user, declaration_code=venue.declaration_code)
    api = APIClient()
    api.force_authenticate(user)
    api.venue = venue
    return api


def sampled_before(resident, delta: dt.timedelta) -> None:
    post_result(
        id_number=resident.id_number,
        name=resident.name,
        sampled=T0 - delta,
        reported=T0 - min(delta, dt.timedelta(minutes=30)),
    )


def scan(api, name: str, resident, **extra):
    token = tokens.issue_for(resident.health_code, now=timezone.now()).token
    body = {"venue": api.venue.pk, "code": token, **extra}
    return api.post(reverse(name), body, format="json")


@pytest.mark.parametrize(
    ("ago", "hours"),
    [
        (dt.timedelta(hours=20), 20),  # exactly 20 h
        (dt.timedelta(hours=20, minutes=59, seconds=59), 20),  # still 20
        (dt.timedelta(hours=21), 21),
    ],
)
def test_the_inspectors_verify_counts_whole_hours_at_the_decision(inspector, resident, ago, hours):
    sampled_before(resident, ago)
    with time_machine.travel(T0, tick=False):
        body = scan(inspector, "api-inspect-verify", resident).json()
    assert body["test_line"].endswith(f" · 采样 {hours} 小时前"), body["test_line"]


def test_a_repeat_confirm_shows_the_first_decisions_line_not_the_requests(inspector, resident):
    sampled_before(resident, dt.timedelta(hours=20, minutes=59))
    confirm = {"temperature_band": "normal"}
    with time_machine.travel(T0, tick=False):
        first = scan(inspector, "api-inspect-confirm", resident, **confirm).json()
    with time_machine.travel(T0 + dt.timedelta(minutes=2), tick=False):  # 21 h 01 min now
        again = scan(inspector, "api-inspect-confirm", resident, **confirm).json()
    assert again["checkin_id"] == first["checkin_id"]  # the repeat: nothing new recorded
    assert CheckIn.objects.count() == 1
    assert first["test_line"].endswith("采样 20 小时前")
    assert again["test_line"] == first["test_line"]


def test_a_gate_device_repeat_shows_the_first_decisions_line(resident):
    venue = make_venue()
    _row, key = Device.create_with_key(venue=venue, name="东门闸机")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    sampled_before(resident, dt.timedelta(hours=20, minutes=59))
    lines = []
    for moment in (T0, T0 + dt.timedelta(minutes=2)):
        with time_machine.travel(moment, tick=False):
            token = tokens.issue_for(resident.health_code, now=moment).token
            body = api.post(reverse("api-devices-verify"), {"code": token}, format="json").json()
            lines.append(body["test"]["line"])
    assert lines == [lines[0]] * 2 and lines[0].endswith("采样 20 小时前")


def test_a_codes_line_counts_to_when_ensure_current_judged_it(resident):
    sampled_before(resident, dt.timedelta(hours=20, minutes=59))
    with time_machine.travel(T0, tick=False):
        code = ensure_current(HealthCode.objects.get(resident=resident))
    assert code.evaluated_at == T0
    with time_machine.travel(T0 + dt.timedelta(minutes=2), tick=False):  # formatted later
        assert code.test_line.endswith("采样 20 小时前")
        out = healthcode_api.test_out(code)
    assert out["line"] == code.test_line and out["sampled_minutes_ago"] == 20 * 60 + 59
