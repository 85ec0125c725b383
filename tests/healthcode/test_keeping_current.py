"""Statuses stay current as time passes: the minute sweep, and recompute-on-read."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from healthcode import tasks, tokens
from healthcode.models import HealthCode
from nucleic import services as nucleic_services
from nucleic.models import TestPolicy
from tests.factories import add_flag, post_result

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return dt.datetime(*args, tzinfo=SH)


@pytest.fixture
def hangzhou(db):
    TestPolicy.objects.create(group="general", window_hours=48, effective_from=at(2020, 1, 1))
    TestPolicy.objects.create(group="general", window_hours=72, effective_from=at(2022, 5, 27))


def give_result(resident, sampled, reported, result="negative"):
    post_result(
        id_number=resident.id_number,
        name=resident.name,
        sampled=sampled,
        reported=reported,
        result=result,
    )


def test_the_sweep_recomputes_codes_whose_review_time_passed(
    resident, hangzhou, django_capture_on_commit_callbacks
):
    with (
        time_machine.travel(at(2022, 6, 1, 20), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        give_result(resident, at(2022, 6, 1, 8), at(2022, 6, 1, 18))
    code = HealthCode.objects.get(resident=resident)
    assert code.test["state"] == "negative"
    assert code.review_at == at(2022, 6, 4, 8)
    with time_machine.travel(at(2022, 6, 4, 8) - dt.timedelta(seconds=1), tick=False):
        assert tasks.recompute_due() == 0
    with time_machine.travel(at(2022, 6, 4, 8), tick=False):
        assert tasks.recompute_due() == 1
        code.refresh_from_db()
        assert code.test["state"] == "expired" and code.review_at is None
        assert code.test_line == "核酸已超 72 小时 · 采样 72 小时前"


def test_reading_a_code_past_its_review_time_recomputes_it_first(client, resident):
    start = at(2022, 6, 1, 10)
    add_flag(resident, "fever_clinic", starts=start, ends=start + dt.timedelta(days=14))
    assert HealthCode.objects.get(resident=resident).colour == "yellow"
    client.force_login(resident.user)
    with time_machine.travel(start + dt.timedelta(days=14) - dt.timedelta(seconds=1), tick=False):
        assert "colour-yellow" in client.get(reverse("healthcode:code")).content.decode()
    with time_machine.travel(start + dt.timedelta(days=14), tick=False):
        body = client.get(reverse("healthcode:code")).content.decode()
    assert "colour-green" in body and "未见异常" in body
    change = HealthCode.objects.get(resident=resident).changes.order_by("-id").first()
    assert (change.old_colour, change.new_colour, change.cause) == (
        "yellow",
        "green",
        "read past review",
    )


def test_verify_recomputes_before_answering(resident, staff_user):
    start = at(2022, 6, 1, 10)
    add_flag(resident, "fever_clinic", starts=start, ends=start + dt.timedelta(days=14))
    api = APIClient()
    api.force_authenticate(staff_user)
    later = start + dt.timedelta(days=14)
    with time_machine.travel(later, tick=False):
        token = tokens.issue_for(resident.health_code, now=timezone.now()).token
        body = api.post(reverse("api-codes-verify"), {"token": token}, format="json").json()
    assert body["colour"] == "green"


def test_a_new_policy_applies_at_its_effective_instant_not_before(
    resident, hangzhou, django_capture_on_commit_callbacks
):
    TestPolicy.objects.filter(window_hours=72).delete()  # start with 48 h only
    with (
        time_machine.travel(at(2022, 5, 25, 20), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        give_result(resident, at(2022, 5, 25, 10), at(2022, 5, 25, 18))
    code = HealthCode.objects.get(resident=resident)
    assert code.review_at == at(2022, 5, 27, 10)
    with time_machine.travel(at(2022, 5, 26, 9), tick=False):
        nucleic_services.policy_create(
            group="general",
            window_hours=72,
            counts_from="sampling",
            pending_counts=True,
            effective_from=at(2022, 5, 27),
        )
    code.refresh_from_db()
    assert code.review_at == at(2022, 5, 27)  # brought forward to the switch
    assert code.test["window_hours"] == 48  # not applied before it takes effect
    with time_machine.travel(at(2022, 5, 27), tick=False):
        tasks.recompute_due()
    code.refresh_from_db()
    assert code.test["window_hours"] == 72
    assert dt.datetime.fromisoformat(code.test["valid_until"]) == at(2022, 5, 28, 10)
    assert code.review_at == at(2022, 5, 28, 10)


def test_other_groups_are_not_touched_by_a_policy(resident, hangzhou):
    resident.population_group = "high_risk_job"
    resident.save()
    before = HealthCode.objects.get(resident=resident).review_at
    nucleic_services.policy_create(
        group="general",
        window_hours=24,
        counts_from="sampling",
        pending_counts=True,
        effective_from=timezone.now() + dt.timedelta(days=1),
    )
    assert HealthCode.objects.get(resident=resident).review_at == before


def test_code_page_shows_the_test_line(client, resident, hangzhou):
    with time_machine.travel(at(2022, 5, 27, 20), tick=False):
        give_result(resident, at(2022, 5, 27, 8, 30), at(2022, 5, 27, 18))
        from healthcode.services import healthcode_recompute_many

        healthcode_recompute_many(resident_ids=[resident.pk], cause="test")
        client.force_login(resident.user)
        body = client.get(reverse("healthcode:code")).content.decode()
    # The window it is held to, and how long ago the sample was taken (11 h 30 min: 11 h).
    assert "核酸 72 小时内阴性 · 采样 11 小时前" in body


def test_recompute_task_is_idempotent(resident):
    add_flag(resident, "close_contact")
    assert tasks.recompute_codes([resident.pk], "again") == 0
    assert tasks.recompute_codes([resident.pk], "again") == 0
    assert HealthCode.objects.get(resident=resident).changes.count() == 2
