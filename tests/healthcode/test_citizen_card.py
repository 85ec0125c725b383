"""市民卡 (citizen card) numbers: optional, cleaned, unique when present."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from healthcode.idnumbers import clean_citizen_card
from healthcode.models import Resident
from tests.factories import make_resident

pytestmark = pytest.mark.django_db


def test_numbers_are_normalised():
    assert clean_citizen_card(" a123 4567\u3000") == "A1234567"
    assert clean_citizen_card("３３０１００１２３") == "330100123"  # full-width digits


@pytest.mark.parametrize("raw", ["", "12345", "A" * 21, "A123-4567", "市民卡123456"])
def test_bad_numbers_say_so_in_chinese(raw):
    with pytest.raises(ValidationError) as exc:
        clean_citizen_card(raw)
    assert "市民卡号" in exc.value.messages[0]


def test_many_residents_without_a_card_but_a_card_only_once():
    first, second = make_resident(), make_resident()
    assert first.citizen_card == second.citizen_card == ""  # optional: many have none
    Resident.objects.filter(pk=first.pk).update(citizen_card="A1234567")
    with pytest.raises(IntegrityError), transaction.atomic():
        Resident.objects.filter(pk=second.pk).update(citizen_card="A1234567")
    assert Resident.objects.get(pk=second.pk).citizen_card == ""


def test_the_database_refuses_an_uncleaned_number():
    resident = make_resident()
    with pytest.raises(IntegrityError), transaction.atomic():
        Resident.objects.filter(pk=resident.pk).update(citizen_card="a123 4567")
