"""``field__any``: membership in a list sent as one parameter (healthcode/lookups.py)."""

import pytest

from healthcode.models import HealthCode, Resident
from tests.factories import make_resident

pytestmark = pytest.mark.django_db


def test_any_finds_exactly_the_listed_values_by_text_integer_and_foreign_key():
    first, second, third = (make_resident(name="张三") for _ in range(3))
    numbers = [first.id_number, third.id_number, "330106199001010000"]  # one nobody holds
    assert set(Resident.objects.filter(id_number__any=numbers)) == {first, third}
    assert set(Resident.objects.filter(pk__any=[second.pk])) == {second}
    codes = HealthCode.objects.filter(resident_id__any=[first.pk, second.pk])
    assert sorted(c.resident_id for c in codes) == sorted([first.pk, second.pk])


def test_any_of_nothing_is_nothing():
    make_resident(name="张三")
    assert not Resident.objects.filter(id_number__any=[]).exists()
    assert not HealthCode.objects.filter(resident_id__any=set()).exists()
