"""Appeals and retention: a decided appeal (and its photo) goes after its own period, an open
one never; a flag an appeal names is kept as long as the appeal is, then goes in the same run."""

import datetime as dt

import pytest
import time_machine

from appeals import services as appeals_services
from appeals.models import Appeal
from healthcode.models import HealthCode
from retention.services import retention_purge
from tests.appeals.conftest import image_bytes, stored_files, upload
from tests.factories import add_flag, make_officer, make_resident
from tests.retention.conftest import NOW, in_db

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def appealed_flag(person, *, at, decide: bool, photo: bool = False):
    """A fever-clinic flag of a day, appealed an hour in; rejected an hour later if
    ``decide``. All at ``at`` (frozen)."""
    with time_machine.travel(at, tick=False):
        flag = add_flag(person, "fever_clinic", starts=at - dt.timedelta(hours=1), ends=at + DAY)
        (fact,) = [r["fact"] for r in HealthCode.objects.get(resident=person).reasons]
        appeal = appeals_services.appeal_submit(
            resident=person,
            fact=fact,
            text="当天未去发热门诊",
            photo=upload(image_bytes()) if photo else None,
        )
    if decide:
        with time_machine.travel(at + dt.timedelta(hours=1), tick=False):
            officer = make_officer(region_codes=("110105",)).user
            appeals_services.appeal_reject(appeal=appeal, by=officer, answer="经核实，记录属实")
    return flag, Appeal.objects.get(pk=appeal.pk)


def test_an_appeal_past_its_period_goes_with_its_photo_and_then_its_flag(settings):
    old_flag, old = appealed_flag(make_resident(), at=NOW - 400 * DAY, decide=True, photo=True)
    assert len(stored_files(settings)) == 1
    young_flag, young = appealed_flag(
        make_resident(id_number="110105199001010028"), at=NOW - 100 * DAY, decide=True
    )
    with time_machine.travel(NOW, tick=False):
        counts = retention_purge()
    assert counts["appeals"] == 1 and counts["risk_flags"] == 1
    assert not in_db(old) and not in_db(old_flag)
    assert stored_files(settings) == []  # the photo went with its appeal
    # Decided 100 days ago: inside the appeals' 365 days. Its flag ended 99 days ago, far past
    # the flags' 28, and is kept because the appeal names it.
    assert in_db(young) and in_db(young_flag)
    with time_machine.travel(NOW, tick=False):
        assert sum(retention_purge().values()) == 0


def test_an_open_appeal_is_never_taken_nor_its_flag():
    flag, appeal = appealed_flag(make_resident(), at=NOW - 400 * DAY, decide=False)
    with time_machine.travel(NOW, tick=False):
        counts = retention_purge()
    assert counts["appeals"] == 0 and counts["risk_flags"] == 0
    assert in_db(appeal) and in_db(flag)
