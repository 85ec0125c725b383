"""The venue administrator's two buttons, requested as the page requests them:
重新签发场所码 (every poster printed before stops working) and 更换申报码 (the old
declaration code binds no new inspector). Each acts on the requester's own venue only, on a
POST with its CSRF token only."""

import pytest
from django.test import Client
from django.urls import reverse

from checkins.models import CheckIn
from healthcode.models import User
from tests.factories import PASSWORD, make_venue
from tests.qr import decode_qr
from venues.models import Venue, VenueInspector

pytestmark = pytest.mark.django_db

REISSUE = reverse("venues:reissue-poster")
REGENERATE = reverse("venues:regenerate-code")


def poster_path(client, venue) -> str:
    """The check-in address in the venue's poster as its administrator downloads it now."""
    client.force_login(venue.administrator)
    response = client.get(reverse("venues:poster", args=["png"]))
    assert response.status_code == 200
    return decode_qr(response.content).removeprefix("http://testserver")


def scan(client, resident, path, method="get"):
    client.force_login(resident.user)
    return getattr(client, method)(path)


def bind(client, phone: str, declaration_code: str):
    client.force_login(User.objects.create_user(phone=phone, password=PASSWORD))
    return client.post(reverse("venues:bind"), {"declaration_code": declaration_code})


def state(venue) -> tuple:
    venue = Venue.objects.get(pk=venue.pk)
    return venue.poster_version, venue.poster_issued_at, venue.declaration_code


def test_reissuing_voids_the_old_poster_and_the_new_one_works(client, resident):
    venue = make_venue()
    old = poster_path(client, venue)
    response = client.post(REISSUE)
    assert response.status_code == 302 and response["Location"] == reverse("venues:home")
    assert "旧海报扫码将显示“此场所码已作废”" in client.get(reverse("venues:home")).content.decode()
    new = poster_path(client, venue)
    assert new != old

    for method in ("get", "post"):
        refused = scan(client, resident, old, method)
        assert refused.status_code == 404 and "此场所码已作废" in refused.content.decode()
    assert not CheckIn.objects.exists()
    page = scan(client, resident, new)
    assert page.status_code == 200 and venue.full_name in page.content.decode()
    assert scan(client, resident, new, "post").status_code == 302
    assert list(CheckIn.objects.values_list("venue", "resident")) == [(venue.pk, resident.pk)]


def test_a_new_declaration_code_binds_inspectors_and_the_old_one_does_not(client):
    venue = make_venue()
    old = venue.declaration_code
    assert bind(client, "13500000201", old).status_code == 302  # bound before the change
    client.force_login(venue.administrator)
    response = client.post(REGENERATE)
    assert response.status_code == 302 and response["Location"] == reverse("venues:home")
    new = Venue.objects.get(pk=venue.pk).declaration_code
    assert new != old
    home = client.get(reverse("venues:home")).content.decode()
    assert new in home and old not in home and "旧申报码不能再绑定新的检测员" in home

    refused = bind(client, "13500000202", old)
    assert refused.status_code == 200 and "申报码无效或已更换" in refused.content.decode()
    assert bind(client, "13500000203", new).status_code == 302
    bound = VenueInspector.objects.filter(venue=venue).values_list("user__phone", flat=True)
    assert sorted(bound) == ["13500000201", "13500000203"]  # those bound before stay


@pytest.mark.parametrize("action", [REISSUE, REGENERATE])
def test_another_venues_administrator_changes_only_their_own_venue(client, resident, action):
    ours, theirs = make_venue(full_name="文三路联华超市"), make_venue(full_name="学院路书店")
    our_poster, before = poster_path(client, ours), state(ours)
    their_before = state(theirs)
    client.force_login(theirs.administrator)
    assert client.post(action).status_code == 302  # there is no venue to name: theirs changes
    assert state(ours) == before
    assert state(theirs) != their_before
    page = scan(client, resident, our_poster)
    assert page.status_code == 200 and ours.full_name in page.content.decode()
    assert bind(client, "13500000204", ours.declaration_code).status_code == 302


@pytest.mark.parametrize("action", [REISSUE, REGENERATE])
def test_anyone_without_an_approved_venue_changes_nothing(client, action):
    venue = make_venue()
    before = state(venue)
    client.force_login(User.objects.create_user(phone="13500000205", password=PASSWORD))
    assert client.post(action).status_code == 302  # no venue of theirs: back to declaring one
    client.logout()
    anonymous = client.post(action)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    assert state(venue) == before


@pytest.mark.parametrize("action", [REISSUE, REGENERATE])
def test_a_get_or_a_post_without_the_csrf_token_changes_nothing(client, action):
    venue = make_venue()
    before = state(venue)
    client.force_login(venue.administrator)
    assert client.get(action).status_code == 405
    forged = Client(enforce_csrf_checks=True)  # a form on another site, posting with the cookie
    forged.force_login(venue.administrator)
    assert forged.post(action).status_code == 403
    assert state(venue) == before
