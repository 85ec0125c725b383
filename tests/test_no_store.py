"""Pages, exports and API answers with personal data are never stored by a browser or a
proxy (Cache-Control: no-store); static files stay cacheable."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from checkins.models import GridWorker
from checkins.services import checkin_record
from healthcode.models import User
from tests.factories import PASSWORD, lab_token, make_venue

pytestmark = pytest.mark.django_db


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_every_personal_page_and_export_is_no_store(client, resident):
    venue = make_venue()
    checkin = checkin_record(resident=resident, venue=venue, method="self_scan")[0]
    client.force_login(venue.administrator)
    for url in ("/venue/", reverse("venues:checkins-csv")):
        response = client.get(url)
        assert response.status_code == 200 and no_store(response), url
    client.force_login(resident.user)
    for url in ("/code/", reverse("checkins:result", args=[checkin.public_id]), "/inspect/"):
        response = client.get(url)
        assert response.status_code == 200 and no_store(response), url
    worker = User.objects.create_user(phone="13522220001", password=PASSWORD)
    GridWorker.objects.create(user=worker, region_codes=["110100"])
    client.force_login(worker)
    assert no_store(client.get("/alerts/"))
    assert no_store(Client().get("/login/")) and no_store(Client().get("/register/"))


def test_api_answers_are_no_store(resident):
    client = APIClient()
    client.force_authenticate(resident.user)
    assert no_store(client.get("/api/v1/me/code"))
    _token, key = lab_token()
    lab = APIClient()
    lab.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = lab.get("/api/v1/nucleic/batches")
    assert response.status_code == 200 and no_store(response)
    assert no_store(Client().get("/api/v1/nowhere"))  # errors too


def test_static_files_stay_cacheable(settings):
    settings.WHITENOISE_USE_FINDERS = True  # serve the sources, as collectstatic output would be
    response = Client().get("/static/css/app.css")
    assert response.status_code == 200
    assert not no_store(response)
    assert "max-age" in response["Cache-Control"]
