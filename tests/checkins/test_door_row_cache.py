"""The door's row cache (healthcode.rowcache): a venue, a scan device and an inspector's
binding are read from the cache on every scan, and a change to any of them is seen by the very
next scan — never a revoked device, an unbound inspector or an old poster let through."""

import pytest
from django.core.cache import cache, caches
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from checkins.models import CheckIn, Device
from checkins.selectors import device_key
from healthcode import tokens
from healthcode.models import User
from tests.factories import make_venue
from venues import codes, services
from venues.models import VenueInspector
from venues.selectors import VenueCodeRefused, venue_from_code, venue_key

pytestmark = pytest.mark.django_db


def device_api(venue):
    row, key = Device.create_with_key(venue=venue, name="闸机")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return row, api


def verify(api, resident):
    token = tokens.issue_for(resident.health_code, now=timezone.now()).token
    return api.post(reverse("api-devices-verify"), {"code": token}, format="json")


def test_a_revoked_device_is_refused_by_the_next_scan(resident):
    row, api = device_api(make_venue())
    assert verify(api, resident).status_code == 200
    assert cache.get(device_key(row.key_hash)) is not None  # read from the cache from now on
    row.revoked_at = timezone.now()
    row.save()
    assert verify(api, resident).status_code == 401
    row.delete()
    assert verify(api, resident).status_code == 401
    assert CheckIn.objects.count() == 1


def test_a_device_sees_its_venue_rejected_at_once(resident):
    venue = make_venue()
    _row, api = device_api(venue)
    assert verify(api, resident).status_code == 200
    venue.status, venue.rejection_reason = "rejected", "名称与执照不符"  # as the admin may
    venue.save()
    answer = verify(api, resident)
    assert answer.status_code == 403 and "已被驳回" in answer.json()["detail"]
    assert CheckIn.objects.count() == 1


def test_a_reissued_poster_refuses_the_old_one_at_once():
    venue = make_venue()
    old = codes.make(public_id=venue.public_id, version=venue.poster_version)
    assert venue_from_code(old) == venue
    assert cache.get(venue_key(venue.public_id)) is not None
    venue = services.poster_reissue(venue=venue)
    with pytest.raises(VenueCodeRefused):
        venue_from_code(old)
    new = codes.make(public_id=venue.public_id, version=venue.poster_version)
    assert venue_from_code(new).poster_version == venue.poster_version


def test_an_unbound_inspector_is_refused_by_the_next_scan(resident):
    venue = make_venue()
    user = User.objects.create_user(phone="13522220001", password="x")
    services.inspector_bind(user=user, declaration_code=venue.declaration_code)
    api = APIClient()
    api.force_authenticate(user)
    token = tokens.issue_for(resident.health_code, now=timezone.now()).token
    body = {"venue": venue.pk, "code": token}
    assert api.post(reverse("api-inspect-verify"), body, format="json").status_code == 200
    VenueInspector.objects.filter(user=user).delete()
    answer = api.post(reverse("api-inspect-verify"), body, format="json")
    assert answer.status_code == 403 and answer.json()["code"] == "not_inspector"


def test_an_unreachable_cache_is_read_past(resident, monkeypatch):
    _row, api = device_api(make_venue())

    def down(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(caches["default"], "get", down)
    monkeypatch.setattr(caches["default"], "set", down)
    assert verify(api, resident).status_code == 200  # the gate still opens


def test_a_revocation_with_the_cache_down_goes_through_and_is_seen(resident, monkeypatch):
    row, api = device_api(make_venue())
    assert verify(api, resident).status_code == 200

    def down(*args, **kwargs):
        raise ConnectionError("redis down")

    for method in ("get", "set", "delete_many"):
        monkeypatch.setattr(caches["default"], method, down)
    row.revoked_at = timezone.now()
    row.save()  # not refused: the cached copy expires by itself (DOOR_ROW_CACHE_SECONDS)
    assert verify(api, resident).status_code == 401  # read from the database meanwhile
