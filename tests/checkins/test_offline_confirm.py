"""The inspector's confirmation made idempotent by the browser's client id, and recorded at
the time the door confirmed when it was queued offline and sent later (docs/offline.md)."""

import datetime as dt
import threading
import uuid

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from checkins.models import Alert, CheckIn
from checkins.services import checkin_record
from healthcode import tokens
from healthcode.models import User
from tests.factories import PASSWORD, add_flag, make_resident, make_venue
from venues import services as venue_services

pytestmark = pytest.mark.django_db
CONFIRMED = dt.datetime(2026, 11, 22, 9, 0, 0, tzinfo=dt.UTC)


def make_inspector(venue=None, phone="13522220000"):
    venue = venue or make_venue()
    user = User.objects.create_user(phone=phone, password=PASSWORD)
    venue_services.inspector_bind(user=user, declaration_code=venue.declaration_code)
    api = APIClient()
    api.force_authenticate(user)
    api.user, api.venue = user, venue
    return api


@pytest.fixture
def inspector(db):
    return make_inspector()


def confirm(api, token, **extra):
    body = {"venue": api.venue.pk, "code": token, "temperature_band": "normal", **extra}
    return api.post(reverse("api-inspect-confirm"), body, format="json")


def token_at(resident, at):
    return tokens.issue_for(resident.health_code, now=at).token


def test_the_same_confirmation_sent_twice_is_one_check_in(inspector, resident):
    client_id = str(uuid.uuid4())
    token = token_at(resident, timezone.now())
    first = confirm(inspector, token, client_id=client_id)
    second = confirm(inspector, token, client_id=client_id)
    assert first.status_code == 201 and second.status_code == 200
    assert first.json() == second.json()
    checkin = CheckIn.objects.get()
    assert str(checkin.client_id) == client_id and checkin.scanned_by == inspector.user
    assert str(checkin.public_id) == second.json()["checkin_id"]


def test_a_second_arrival_after_the_colour_changed_is_still_the_first(inspector, resident):
    """Not a repeat (the colour differs): the constraint refuses the insert, the answer is the
    first check-in, and no alert is raised for a check-in that was not made."""
    client_id = str(uuid.uuid4())
    token = token_at(resident, timezone.now())
    first = confirm(inspector, token, client_id=client_id)
    add_flag(resident, "close_contact")  # red now
    second = confirm(inspector, token, client_id=client_id)
    assert second.status_code == 200
    assert second.json()["checkin_id"] == first.json()["checkin_id"]
    assert second.json()["colour"] == "green"
    assert CheckIn.objects.count() == 1 and not Alert.objects.exists()


def test_without_a_client_id_a_repeat_answers_as_before(inspector, resident):
    token = token_at(resident, timezone.now())
    assert confirm(inspector, token).status_code == 201
    assert confirm(inspector, token).status_code == 201
    assert CheckIn.objects.count() == 1


def test_a_client_id_is_the_inspectors_own(resident):
    """Another inspector's confirmation with the same id (another door, another venue) is
    theirs, and recorded."""
    client_id = str(uuid.uuid4())
    one, other = make_inspector(), make_inspector(phone="13522220001")
    confirm(one, token_at(resident, timezone.now()), client_id=client_id)
    elder = make_resident()
    assert confirm(other, token_at(elder, timezone.now()), client_id=client_id).status_code == 201
    assert CheckIn.objects.filter(client_id=client_id).count() == 2


def test_a_confirmation_made_offline_is_recorded_when_it_was_made(inspector, resident):
    """Sent 20 minutes later, its token long expired: it was valid when the door confirmed."""
    with time_machine.travel(CONFIRMED, tick=False):
        token = token_at(resident, timezone.now())
    with time_machine.travel(CONFIRMED + dt.timedelta(minutes=20), tick=False):
        late = confirm(inspector, token, client_id=str(uuid.uuid4()))
        assert confirm(inspector, token).json()["problem"] == "expired"  # as today
        sent = confirm(
            inspector, token, client_id=str(uuid.uuid4()), confirmed_at=CONFIRMED.isoformat()
        )
    assert late.status_code == 400 and late.json()["problem"] == "expired"
    assert sent.status_code == 201
    assert CheckIn.objects.get().checked_in_at == CONFIRMED


def test_a_confirmation_must_have_been_made_while_its_token_lived(inspector, resident):
    with time_machine.travel(CONFIRMED, tick=False):
        token = token_at(resident, timezone.now())
    with time_machine.travel(CONFIRMED + dt.timedelta(minutes=20), tick=False):
        at = CONFIRMED + dt.timedelta(seconds=300)  # the token's first dead instant
        response = confirm(inspector, token, client_id=str(uuid.uuid4()), confirmed_at=at)
    assert response.status_code == 400 and response.json()["problem"] == "expired"
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize(
    ("age", "accepted"),
    [(dt.timedelta(hours=24), True), (dt.timedelta(hours=24, microseconds=1), False)],
)
def test_an_offline_confirmation_is_kept_for_24_hours(inspector, resident, age, accepted):
    with time_machine.travel(CONFIRMED, tick=False):
        token = token_at(resident, timezone.now())
    with time_machine.travel(CONFIRMED + age, tick=False):
        response = confirm(
            inspector, token, client_id=str(uuid.uuid4()), confirmed_at=CONFIRMED.isoformat()
        )
    if accepted:
        assert response.status_code == 201
    else:
        assert response.status_code == 400
        assert response.json()["confirmed_at"] == ["离线确认已超过 24 小时，未予登记。"]
        assert not CheckIn.objects.exists()


@pytest.mark.parametrize(
    ("ahead", "accepted"),
    [(dt.timedelta(seconds=30), True), (dt.timedelta(seconds=30, microseconds=1), False)],
)
def test_a_confirmation_from_the_future_is_refused(inspector, resident, ahead, accepted):
    with time_machine.travel(CONFIRMED, tick=False):
        token = token_at(resident, timezone.now())
        response = confirm(inspector, token, confirmed_at=(CONFIRMED + ahead).isoformat())
    assert (response.status_code == 201) is accepted
    if not accepted:
        assert "晚于当前时间" in response.json()["confirmed_at"][0]
        assert not CheckIn.objects.exists()


def test_a_malformed_client_id_is_a_field_error(inspector, resident):
    response = confirm(inspector, token_at(resident, timezone.now()), client_id="not-a-uuid")
    assert response.status_code == 400 and "client_id" in response.json()
    assert not CheckIn.objects.exists()


def test_the_service_returns_the_first_for_a_second_arrival(resident):
    venue, client_id = make_venue(), uuid.uuid4()
    user = make_inspector(venue).user
    first, new = checkin_record(
        resident=resident,
        venue=venue,
        method="inspector_scan",
        scanned_by=user,
        client_id=client_id,
    )
    add_flag(resident, "fever_clinic")  # yellow: not a repeat
    again, again_new = checkin_record(
        resident=resident,
        venue=venue,
        method="inspector_scan",
        scanned_by=user,
        client_id=client_id,
    )
    assert (new, again_new, again.pk) == (True, False, first.pk)


@pytest.mark.django_db(transaction=True)
def test_two_arrivals_at_the_same_instant_leave_one_row(settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks; SQLite serialises whole-database writes")
    settings.ADMISSION_DOOR_QUEUE = 8  # six at once in one process: none refused by admission
    resident = make_resident()
    inspector = make_inspector()
    token = token_at(resident, timezone.now())
    client_id = str(uuid.uuid4())
    barrier = threading.Barrier(6)
    statuses = []

    def send():
        api = APIClient()
        api.force_authenticate(inspector.user)
        api.venue = inspector.venue
        barrier.wait()
        statuses.append(confirm(api, token, client_id=client_id).status_code)
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 5 + [201]
    assert CheckIn.objects.count() == 1


@pytest.mark.parametrize(
    ("rule", "required", "hours", "vaccination"),
    [("policy", "1", "", False), ("none", "", "", True), ("48", "1", "48", False)],
)
def test_the_page_gives_the_door_each_venues_rule_and_the_keys_address(
    client, rule, required, hours, vaccination
):
    """What static/js/offline-verify.js decides with offline (engine.entry_decision's inputs)."""
    venue = make_venue(entry_rule=rule, requires_vaccination=vaccination)
    user = make_inspector(venue).user
    client.force_login(user)
    page = client.get(reverse("checkins:inspect")).content.decode()
    assert (
        f'<option value="{venue.pk}" data-test-required="{required}" data-required-hours="{hours}"'
        f' data-requires-vaccination="{"1" if vaccination else ""}">'
    ) in page
    assert f'data-keys="{reverse("api-keys")}"' in page
    assert 'id="offline-text"' in page and "js/offline-verify.js" in page


def test_an_offline_confirmation_is_judged_by_the_status_of_its_instant(inspector):
    """A 24 h window open at the door (sampled 23 h before) and closed by the time the queue
    is sent two hours later: the check-in is the door's pass, with no overdue alert — not
    a stop computed from today's stored status."""
    from nucleic.services import policy_create
    from tests.factories import post_result

    policy_create(group="general", window_hours=24, effective_from=CONFIRMED - dt.timedelta(days=9))
    person = make_resident(name="冯小燕")
    with time_machine.travel(CONFIRMED, tick=False):
        post_result(
            id_number=person.id_number,
            name=person.name,
            sampled=CONFIRMED - dt.timedelta(hours=23),
            reported=CONFIRMED - dt.timedelta(hours=20),
        )
        from healthcode.services import healthcode_recompute_many

        healthcode_recompute_many(resident_ids=[person.pk], cause="test")
        token = token_at(person, timezone.now())
    with time_machine.travel(CONFIRMED + dt.timedelta(hours=2), tick=False):
        person.health_code.refresh_from_db()
        healthcode_recompute_many(resident_ids=[person.pk], cause="test")  # today: overdue
        sent = confirm(
            inspector, token, client_id=str(uuid.uuid4()), confirmed_at=CONFIRMED.isoformat()
        )
    assert sent.status_code == 201, sent.json()
    checkin = CheckIn.objects.get()
    assert (checkin.checked_in_at, checkin.decision) == (CONFIRMED, "pass")
    assert checkin.test["valid_now"] is True
    assert not Alert.objects.exists()
    person.health_code.refresh_from_db()
    assert person.health_code.test["valid_now"] is False  # the stored code stays today's


def test_a_second_arrival_answers_with_this_inspectors_row_of_that_id(resident):
    """The resent confirmation meets the constraint (the colour changed): the answer is the
    row this inspector recorded under that id — not another inspector's row with the same id,
    nor this inspector's row of another id."""
    client_id = str(uuid.uuid4())
    one, other = make_inspector(), make_inspector(phone="13522220001")
    now = timezone.now()
    assert (
        confirm(other, token_at(make_resident(), now), client_id=str(uuid.uuid4())).status_code
        == 201
    )
    assert confirm(one, token_at(make_resident(), now), client_id=client_id).status_code == 201
    token = token_at(resident, now)
    first = confirm(other, token, client_id=client_id)
    add_flag(resident, "close_contact")  # red now: the resend is no repeat
    again = confirm(other, token, client_id=client_id)
    assert again.status_code == 200
    assert again.json()["checkin_id"] == first.json()["checkin_id"]
    assert CheckIn.objects.count() == 3
