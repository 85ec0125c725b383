import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from healthcode import services
from healthcode.errors import DomainError
from healthcode.models import HealthCode, HealthCodeChange

pytestmark = pytest.mark.django_db

RED = [{"code": "confirmed", "text": "确诊病例"}]


def test_every_resident_has_exactly_one_code_with_its_first_history_row(resident):
    code = HealthCode.objects.get(resident=resident)
    assert code.colour == "green"
    change = code.changes.get()
    assert (change.old_colour, change.new_colour, change.cause) == ("", "green", "registration")


def test_a_change_is_recorded_with_old_new_reasons_cause_and_time(resident):
    at = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)
    review = at + dt.timedelta(days=14)
    code = services.healthcode_set_status(
        resident_id=resident.pk,
        colour="red",
        reasons=RED,
        cause="lab result",
        review_at=review,
        now=at,
    )
    assert (code.colour, code.reasons, code.computed_at, code.review_at) == ("red", RED, at, review)
    change = code.changes.first()
    assert (change.old_colour, change.new_colour, change.reasons) == ("green", "red", RED)
    assert (change.cause, change.changed_at) == ("lab result", at)


def test_storing_the_same_status_twice_adds_no_history(resident):
    for _ in range(3):
        services.healthcode_set_status(
            resident_id=resident.pk, colour="red", reasons=RED, cause="recompute"
        )
    assert HealthCodeChange.objects.filter(health_code__resident=resident).count() == 2


def test_a_new_reason_with_the_same_colour_is_history(resident):
    services.healthcode_set_status(resident_id=resident.pk, colour="red", reasons=RED, cause="a")
    both = [*RED, {"code": "close_contact", "text": "密切接触者"}]
    services.healthcode_set_status(resident_id=resident.pk, colour="red", reasons=both, cause="b")
    assert HealthCodeChange.objects.filter(health_code__resident=resident).count() == 3


@pytest.mark.parametrize(
    ("colour", "reasons"),
    [("blue", RED), ("red", []), ("red", [{"code": "x"}])],
)
def test_nonsense_statuses_are_refused_and_change_nothing(resident, colour, reasons):
    with pytest.raises(DomainError):
        services.healthcode_set_status(
            resident_id=resident.pk, colour=colour, reasons=reasons, cause="bad"
        )
    assert HealthCode.objects.get(resident=resident).colour == "green"
    assert HealthCodeChange.objects.filter(health_code__resident=resident).count() == 1


def test_history_is_append_only(resident):
    change = HealthCodeChange.objects.get(health_code__resident=resident)
    change.cause = "rewritten"
    with pytest.raises(ValidationError):
        change.save()
    with pytest.raises(ValidationError):
        change.delete()
    assert HealthCodeChange.objects.get(pk=change.pk).cause == "registration"
