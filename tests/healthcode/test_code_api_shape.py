"""The code refresh (``GET /api/v1/me/code``) writes its JSON without DRF's serializer, for
speed; it must be exactly what ``MyCodeOutputSerializer`` (the documented schema) writes, in
every state a code can be in."""

import datetime as dt

import pytest
from django.utils import timezone

from healthcode import services
from healthcode.api import MyCodeApi, my_code_data, my_code_out
from healthcode.selectors import health_code_current
from tests.factories import add_flag, make_resident, post_result

pytestmark = pytest.mark.django_db


def both(resident):
    code = health_code_current(user=resident.user)
    out = my_code_out(code)
    return my_code_data(out), dict(MyCodeApi.MyCodeOutputSerializer(out).data)


def test_a_green_code_without_a_test():
    fast, documented = both(make_resident())
    assert fast == documented
    assert fast["computed_at"].endswith("+08:00")  # Beijing time, as the serializer writes it


def test_a_flagged_code_with_its_reasons_and_a_negative_test():
    resident = make_resident()
    now = timezone.now()
    post_result(
        id_number=resident.id_number,
        name=resident.name,
        sampled=now - dt.timedelta(hours=20),
        reported=now - dt.timedelta(hours=10),
    )
    fast, documented = both(resident)
    assert fast == documented
    assert fast["test"]["last_sampled_at"], fast["test"]
    add_flag(resident, "close_contact", ends=now + dt.timedelta(days=7))
    fast, documented = both(resident)
    assert fast == documented
    assert fast["colour"] != "green" and fast["reasons"][0]["since"]


def test_a_red_code_with_a_positive_and_care_advice():
    resident = make_resident()
    now = timezone.now()
    post_result(
        id_number=resident.id_number,
        name=resident.name,
        sampled=now - dt.timedelta(hours=5),
        reported=now - dt.timedelta(hours=1),
        result="positive",
    )
    fast, documented = both(resident)
    assert fast == documented
    assert fast["colour"] == "red" and fast["advice"]


def test_a_code_recomputed_on_read_past_its_review():
    resident = make_resident()
    services.healthcode_recompute_many(
        resident_ids=[resident.pk], cause="test", now=timezone.now() - dt.timedelta(days=3)
    )
    fast, documented = both(resident)
    assert fast == documented
