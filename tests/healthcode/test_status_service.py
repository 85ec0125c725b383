import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from healthcode import engine, services
from healthcode.models import HealthCode, HealthCodeChange
from nucleic.models import Sample
from tests.factories import add_flag, make_resident, post_result, registration_data

pytestmark = pytest.mark.django_db


def test_every_resident_has_exactly_one_code_with_its_first_history_row(resident):
    code = HealthCode.objects.get(resident=resident)
    assert code.colour == "green"
    assert code.rules_version == engine.RULES_VERSION
    change = code.changes.get()
    assert (change.old_colour, change.new_colour, change.cause) == ("", "green", "registration")


def test_a_change_is_recorded_with_old_new_reasons_cause_and_time(resident):
    at = timezone.now().replace(microsecond=0) + dt.timedelta(hours=1)  # after registration
    add_flag(resident, "close_contact", starts=at, recompute=False)
    assert services.healthcode_recompute_many(resident_ids=[resident.pk], cause="lab", now=at) == 1
    code = HealthCode.objects.get(resident=resident)
    assert code.colour == "red" and code.computed_at == at and code.review_at is None
    change = code.changes.first()
    assert (change.old_colour, change.new_colour, change.cause, change.changed_at) == (
        "green",
        "red",
        "lab",
        at,
    )
    assert change.reasons[0]["code"] == "close_contact"
    assert change.reasons[0]["since"] == at.isoformat()


def test_recomputing_the_same_facts_writes_nothing_new(resident):
    add_flag(resident, "close_contact")
    for _ in range(3):
        assert services.healthcode_recompute_many(resident_ids=[resident.pk], cause="again") == 0
    assert HealthCodeChange.objects.filter(health_code__resident=resident).count() == 2


def test_a_new_reason_with_the_same_colour_is_history(resident):
    add_flag(resident, "close_contact")
    add_flag(resident, "confirmed")
    code = HealthCode.objects.get(resident=resident)
    assert [r["code"] for r in code.reasons] == ["close_contact", "confirmed"]
    assert code.changes.count() == 3


def _positive_before_registration(data, *, name_on_record):
    now = timezone.now()
    post_result(
        id_number=data["id_number"],
        name=name_on_record,
        result="positive",
        sampled=now - dt.timedelta(hours=5),
        reported=now - dt.timedelta(hours=1),
    )


def test_a_result_that_arrived_before_registration_applies_at_once(db):
    data = registration_data(name="刘一")
    _positive_before_registration(data, name_on_record="刘一")
    assert Sample.objects.count() == 1
    code = HealthCode.objects.get(resident=make_resident(**data))
    assert code.colour == "red" and code.reasons[0]["text"] == "核酸阳性"


def test_a_record_under_another_name_does_not_apply_at_registration(db):
    data = registration_data(name="刘一")
    _positive_before_registration(data, name_on_record="刘二")
    assert make_resident(**data).health_code.colour == "green"


def test_history_is_append_only(resident):
    change = HealthCodeChange.objects.get(health_code__resident=resident)
    change.cause = "rewritten"
    with pytest.raises(ValidationError):
        change.save()
    with pytest.raises(ValidationError):
        change.delete()
    assert HealthCodeChange.objects.get(pk=change.pk).cause == "registration"
