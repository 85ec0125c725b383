"""healthcode.rawrows: a hand-written statement's rows become the same instances the ORM
would load — every field converted alike (JSON, dates, UUIDs), on SQLite and PostgreSQL."""

import datetime as dt
import uuid

import pytest
from django.db.models import BooleanField, DateField, IntegerField
from django.utils import timezone

from healthcode import rawrows, tokens
from healthcode.models import HealthCode, Resident
from healthcode.selectors import health_code_for_user, resident_from_token
from nucleic.models import Sample
from tests.factories import make_resident

pytestmark = pytest.mark.django_db


def values(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_the_code_and_resident_are_those_the_orm_loads():
    resident = make_resident()
    HealthCode.objects.filter(resident=resident).update(
        review_at=timezone.now() + dt.timedelta(hours=3),
        reasons=[{"kind": "x", "colour": "yellow", "text": "中文"}],
    )
    code = health_code_for_user(user=resident.user)
    orm = HealthCode.objects.select_related("resident").get(resident=resident)
    assert values(code) == values(orm)
    assert values(code.resident) == values(orm.resident)
    assert code.resident.user is resident.user
    assert isinstance(code.review_at, dt.datetime) and code.review_at.tzinfo is not None
    assert code.reasons[0]["text"] == "中文"
    assert not code._state.adding and code._state.db == "default"


def test_an_instance_saves_and_refreshes_like_an_orm_one():
    resident = make_resident()
    code = health_code_for_user(user=resident.user)
    code.colour = "yellow"
    code.save(update_fields=["colour"])
    assert HealthCode.objects.get(pk=code.pk).colour == "yellow"
    code.refresh_from_db()
    assert code.colour == "yellow"


def test_an_account_without_a_resident_has_no_code(django_user_model):
    user = django_user_model.objects.create_user(phone="13600000008", password="x" * 12)
    assert health_code_for_user(user=user) is None


def test_one_alias_per_model():
    rows = rawrows.Rows(HealthCode, Resident)
    with pytest.raises(ValueError):
        rows.columns("c")
    assert rows.columns("c", "r").count('r."') == len(Resident._meta.concrete_fields)


def test_a_scanned_token_reads_its_holder_as_the_orm_does():
    resident = make_resident()
    token = tokens.issue_for(resident.health_code, now=timezone.now()).token
    found = resident_from_token(token=token, now=timezone.now())
    orm = Resident.objects.select_related("health_code", "user").get(pk=resident.pk)
    assert values(found) == values(orm)
    assert values(found.health_code) == values(orm.health_code)
    assert values(found.user) == values(orm.user)


def test_a_holder_without_an_account_has_no_user(django_assert_num_queries):
    """A family member registered by their holder has no log-in: the LEFT JOIN's empty side
    is None, not an account of NULLs."""
    resident = make_resident()
    Resident.objects.filter(pk=resident.pk).update(user=None)
    token = tokens.issue_for(resident.health_code, now=timezone.now()).token
    with django_assert_num_queries(1):
        found = resident_from_token(token=token, now=timezone.now())
        assert found.user is None and found.health_code.colour == "green"


def test_an_unknown_holder_is_refused():
    resident = make_resident()
    token = tokens.issue_for(resident.health_code, now=timezone.now()).token
    Resident.objects.filter(pk=resident.pk).update(public_id=uuid.uuid4())
    with pytest.raises(tokens.TokenInvalid) as refused:
        resident_from_token(token=token, now=timezone.now())
    assert refused.value.problem == tokens.TokenProblem.UNKNOWN


def test_extra_columns_without_a_model_are_converted():
    rows = rawrows.Rows(extra=(DateField(), BooleanField(), IntegerField()))
    day = rawrows.param(Sample, "sampled_at", timezone.now())
    assert rows.one("SELECT MAX(x), %s IS NOT NULL, 7 FROM (SELECT NULL AS x) t", [day]) == (
        None,
        True,
        7,
    )
