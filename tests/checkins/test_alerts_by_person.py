"""A grid worker's alerts at a glance: the unacknowledged count, alerts grouped by person with
region names, and acknowledging all of one person's alerts at once."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from checkins.models import Alert, CheckIn, GridWorker
from checkins.selectors import alerts_by_person
from healthcode.models import User
from tests.factories import PASSWORD, make_resident, make_venue

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def _alert(resident, venue, *, minutes_ago, kind="yellow", acknowledged=False):
    """An alert as checkins.services raises it, at a chosen time (the check-in path itself is
    tested in test_inspect_and_alerts.py)."""
    at = NOW - dt.timedelta(minutes=minutes_ago)
    checkin = CheckIn.objects.create(
        resident=resident,
        venue=venue,
        checked_in_at=at,
        left_at=at + dt.timedelta(minutes=30),
        method="self_scan",
        decision="pass",
        decision_code=kind,
        decision_text="",
    )
    return Alert.objects.create(
        checkin=checkin,
        venue=venue,
        resident=resident,
        kind=kind,
        region_code=resident.region_code,
        created_at=at,
        acknowledged_at=at if acknowledged else None,
    )


def _grid_worker(phone, region_codes):
    user = User.objects.create_user(phone=phone, password=PASSWORD)
    return GridWorker.objects.create(user=user, region_codes=region_codes)


@pytest.fixture
def venue():
    return make_venue()


@pytest.fixture
def people():
    return {
        "zhang": make_resident(name="张三丰", region_code="330106"),
        "li": make_resident(name="李四光", region_code="330105"),
        "wang": make_resident(name="王五一", region_code="110105"),  # not Hangzhou
    }


@pytest.fixture
def worker():
    return _grid_worker("13522230001", ["330100"])  # all of Hangzhou


def _count_on_page(body: str) -> int:
    match = re.search(r'id="unacknowledged-count".*?<strong>(\d+)</strong>', body, re.S)
    assert match, body
    return int(match.group(1))


def test_alerts_grouped_by_person_unacknowledged_first(worker, people, venue):
    zhang, li, wang = people["zhang"], people["li"], people["wang"]
    z_old_done = _alert(zhang, venue, minutes_ago=300, acknowledged=True)
    z_new = _alert(zhang, venue, minutes_ago=10, kind="red")
    z_old = _alert(zhang, venue, minutes_ago=200)
    l_done = _alert(li, venue, minutes_ago=1, acknowledged=True)
    l_open = _alert(li, venue, minutes_ago=100)
    _alert(wang, venue, minutes_ago=5)  # another region: not this worker's
    groups = alerts_by_person(grid_worker=worker)
    assert [g.masked_name for g in groups] == ["张*丰", "李*光"]
    assert [a.pk for a in groups[0].alerts] == [z_new.pk, z_old.pk, z_old_done.pk]
    assert [a.pk for a in groups[1].alerts] == [l_open.pk, l_done.pk]
    assert [g.unacknowledged for g in groups] == [2, 1]
    assert groups[0].region_name == "浙江省杭州市西湖区"
    assert groups[1].region_name == "浙江省杭州市拱墅区"


def test_a_person_with_only_handled_alerts_comes_after_those_with_open_ones(worker, people, venue):
    _alert(people["zhang"], venue, minutes_ago=1, acknowledged=True)  # newest, but handled
    _alert(people["li"], venue, minutes_ago=500)
    assert [g.masked_name for g in alerts_by_person(grid_worker=worker)] == ["李*光", "张*丰"]


def test_page_shows_the_count_names_and_no_full_name_or_code_alone(client, worker, people, venue):
    _alert(people["zhang"], venue, minutes_ago=10)
    _alert(people["zhang"], venue, minutes_ago=20)
    _alert(people["li"], venue, minutes_ago=30)
    _alert(people["li"], venue, minutes_ago=40, acknowledged=True)
    _alert(people["wang"], venue, minutes_ago=5)  # not counted: Beijing
    client.force_login(worker.user)
    body = client.get(reverse("checkins:alerts")).content.decode()
    assert _count_on_page(body) == 3
    assert "负责区域：浙江省杭州市" in body
    assert "浙江省杭州市西湖区" in body and "浙江省杭州市拱墅区" in body
    assert "张*丰" in body and "李*光" in body
    for full in ["张三丰", "李四光", "王五一", "王*一"]:
        assert full not in body
    assert body.count('class="card person-alerts"') == 2


def test_count_is_zero_and_says_so(client, worker):
    client.force_login(worker.user)
    body = client.get(reverse("checkins:alerts")).content.decode()
    assert _count_on_page(body) == 0 and 'id="no-alerts"' in body


def test_acknowledge_all_of_one_person_leaves_another_alone(client, worker, people, venue):
    z1 = _alert(people["zhang"], venue, minutes_ago=10)
    z2 = _alert(people["zhang"], venue, minutes_ago=20, kind="fever")
    l1 = _alert(people["li"], venue, minutes_ago=30)
    client.force_login(worker.user)
    response = client.post(reverse("checkins:alert-ack-person", args=[z2.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("checkins:alerts")
    for alert in (z1, z2):
        alert.refresh_from_db()
        assert alert.acknowledged_by == worker.user and alert.acknowledged_at is not None
    l1.refresh_from_db()
    assert l1.acknowledged_at is None and l1.acknowledged_by is None
    body = client.get(reverse("checkins:alerts")).content.decode()
    assert "已将 2 条预警标记为已处理" in body
    assert _count_on_page(body) == 1


def test_acknowledge_all_keeps_an_earlier_acknowledgement(client, worker, people, venue):
    other = _grid_worker("13522230009", ["330106"])
    done = _alert(people["zhang"], venue, minutes_ago=50)
    done.acknowledged_at, done.acknowledged_by = NOW, other.user
    done.save()
    open_one = _alert(people["zhang"], venue, minutes_ago=10)
    client.force_login(worker.user)
    client.post(reverse("checkins:alert-ack-person", args=[open_one.pk]))
    done.refresh_from_db()
    assert (done.acknowledged_at, done.acknowledged_by) == (NOW, other.user)


def test_another_regions_grid_worker_gets_404_and_nothing_changes(client, people, venue):
    beijing = _grid_worker("13522230002", ["110100"])
    z1 = _alert(people["zhang"], venue, minutes_ago=10)
    z2 = _alert(people["zhang"], venue, minutes_ago=20)
    client.force_login(beijing.user)
    assert client.post(reverse("checkins:alert-ack-person", args=[z1.pk])).status_code == 404
    assert Alert.objects.filter(acknowledged_at=None).count() == 2
    assert Alert.objects.filter(pk__in=[z1.pk, z2.pk], acknowledged_by__isnull=False).count() == 0


def test_only_the_alerts_in_my_region_of_a_person_who_moved(client, people, venue):
    """A person's alert from when they lived elsewhere is not this grid worker's to close."""
    zhang = people["zhang"]
    elsewhere = _alert(zhang, venue, minutes_ago=60)
    Alert.objects.filter(pk=elsewhere.pk).update(region_code="110105")
    here = _alert(zhang, venue, minutes_ago=10)
    xihu = _grid_worker("13522230003", ["330106"])
    client.force_login(xihu.user)
    client.post(reverse("checkins:alert-ack-person", args=[here.pk]))
    here.refresh_from_db()
    elsewhere.refresh_from_db()
    assert here.acknowledged_at is not None and elsewhere.acknowledged_at is None


def test_not_a_grid_worker_gets_404(client, people, venue):
    alert = _alert(people["zhang"], venue, minutes_ago=10)
    client.force_login(venue.administrator)  # may acknowledge one by one, not by person
    assert client.post(reverse("checkins:alert-ack-person", args=[alert.pk])).status_code == 404
    assert client.get(reverse("checkins:alerts")).status_code == 404
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_get_does_not_acknowledge(client, worker, people, venue):
    alert = _alert(people["zhang"], venue, minutes_ago=10)
    client.force_login(worker.user)
    assert client.get(reverse("checkins:alert-ack-person", args=[alert.pk])).status_code == 405
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_venue_administrator_page_still_lists_and_acknowledges(client, people, venue):
    alert = _alert(people["zhang"], venue, minutes_ago=10)
    client.force_login(venue.administrator)
    assert "张*丰" in client.get(reverse("venues:home")).content.decode()
    client.post(reverse("checkins:alert-ack", args=[alert.pk]), {"next": "/venue/"})
    alert.refresh_from_db()
    assert alert.acknowledged_by == venue.administrator


@pytest.mark.parametrize("per_person", [1, 6])
def test_page_queries_do_not_grow_with_alerts(
    client, worker, people, venue, per_person, django_assert_num_queries
):
    for minutes in range(per_person):
        _alert(people["zhang"], venue, minutes_ago=minutes)
        _alert(people["li"], venue, minutes_ago=minutes + 100, acknowledged=minutes % 2 == 0)
    client.force_login(worker.user)
    # (the session comes from the cache: healthcode.sessions)
    # 1 the user, 2 the grid worker, 3 the unacknowledged count,
    # 4 the alerts with venue, resident and check-in (one query, grouped in Python),
    # 5 whom this worker already read on the page within the hour, 6 the reads of the rest
    # (one INSERT), 7 the account's roles for the navigation
    with django_assert_num_queries(7):
        response = client.get(reverse("checkins:alerts"))
    assert response.status_code == 200
    assert response.content.decode().count('class="alert-row') == 2 * per_person
