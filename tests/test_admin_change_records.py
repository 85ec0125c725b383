"""A result's or a dose's earlier versions, opened in the admin, show the person masked and
are recorded as a lookup of that person, like opening the result or the dose itself."""

import datetime as dt

import pytest

from healthcode.models import User
from nucleic.models import SampleChange
from tests.factories import lab_token, lookups, make_resident, post_result, site_key
from vaccination import services as vaccination_services
from vaccination.models import DoseChange

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser(phone="13800009998", password="x-Pass-2026!"))
    return client


def test_opening_a_results_earlier_version_is_a_lookup_of_its_person(admin_client):
    person = make_resident(name="李四光")
    other = make_resident(name="王五")
    token = lab_token()[0]
    for result in ("pending", "negative"):
        post_result(
            id_number=person.id_number,
            name=person.name,
            sampled=NOW,
            reported=NOW + dt.timedelta(hours=5),
            result=result,
            barcode="BC-AUDIT-1",
            token=token,
        )
    change = SampleChange.objects.get()
    body = admin_client.get(f"/admin/nucleic/samplechange/{change.pk}/change/").content.decode()
    assert person.id_number not in body and "李四光" not in body
    assert person.id_number[:4] + "**********" in body
    assert lookups(subject=person, action="admin").count() == 1
    assert lookups(subject=other).count() == 0
    # The list names no one in full and records nobody: it shows no person.
    listing = admin_client.get("/admin/nucleic/samplechange/").content.decode()
    assert person.id_number not in listing
    assert lookups(subject=person, action="admin").count() == 1


def test_opening_a_doses_earlier_version_is_a_lookup_of_its_person(admin_client):
    person = make_resident(name="赵云")
    key = site_key()[0]
    record = {
        "record_id": "V-AUDIT-1",
        "id_type": person.id_type,
        "id_number": person.id_number,
        "name": person.name,
        "product": "新冠病毒灭活疫苗（Vero细胞）",
        "dose_number": 1,
    }
    for day in ("2021-04-01", "2021-04-02"):  # the site corrects the date
        vaccination_services.doses_ingest(
            key=key, content_type="test", records=[{**record, "vaccinated_on": day}]
        )
    change = DoseChange.objects.get()
    body = admin_client.get(f"/admin/vaccination/dosechange/{change.pk}/change/").content.decode()
    assert person.id_number not in body
    assert lookups(subject=person, action="admin").count() == 1
