"""After acknowledging an alert, ``next`` may only lead to a path on this site."""

import pytest
from django.urls import reverse

from checkins.models import Alert
from checkins.services import checkin_record
from tests.factories import add_flag, make_venue

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(resident):
    venue = make_venue()
    add_flag(resident, "fever_clinic")
    checkin_record(resident=resident, venue=venue, method="self_scan")
    return Alert.objects.get()


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example",
        "javascript:alert(1)",
        "http://testserver.evil.example/",
    ],
)
def test_a_foreign_next_goes_to_the_default(client, alert, next_url):
    client.force_login(alert.venue.administrator)
    response = client.post(reverse("checkins:alert-ack", args=[alert.pk]), {"next": next_url})
    assert response.status_code == 302
    assert response["Location"] == reverse("checkins:alerts")
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None  # the acknowledgement itself still counts


def test_a_path_on_this_site_is_followed(client, alert):
    client.force_login(alert.venue.administrator)
    response = client.post(reverse("checkins:alert-ack", args=[alert.pk]), {"next": "/venue/"})
    assert response["Location"] == "/venue/"
