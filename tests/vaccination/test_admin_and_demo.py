"""The admin shows doses read-only with masked identities; the demo data has a site, its
key, doses for most demo residents and a venue that requires vaccination."""

from io import StringIO

import pytest
from django.core.management import call_command

from healthcode.models import Resident, User
from tests.factories import give_doses, lookups, make_resident
from vaccination.models import Dose, DoseBatch, SiteKey
from vaccination.selectors import vaccination_line
from venues.models import Venue

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser(phone="13800009999", password="x-Pass-2026!"))
    return client


def test_doses_are_listed_masked_and_read_only(admin_client):
    person = make_resident(name="张三丰")
    give_doses(person, ["2021-04-01"])
    body = admin_client.get("/admin/vaccination/dose/").content.decode()
    assert "张*丰" in body and person.id_number[:4] + "**********" in body
    assert "张三丰" not in body and person.id_number not in body
    assert "姓名" in body and "证件号码" in body
    dose = Dose.objects.get()
    assert admin_client.get("/admin/vaccination/dose/add/").status_code == 403
    assert admin_client.post(f"/admin/vaccination/dose/{dose.pk}/delete/").status_code == 403
    assert admin_client.get(f"/admin/vaccination/dose/{dose.pk}/change/").status_code == 200
    assert lookups(subject=person, action="admin").count() == 1
    batch = DoseBatch.objects.get()
    assert admin_client.post(f"/admin/vaccination/dosebatch/{batch.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/vaccination/site/").status_code == 200
    assert admin_client.get("/admin/vaccination/sitekey/").status_code == 200


def test_seed_demo_adds_doses_a_site_key_and_a_venue_requiring_vaccination():
    from healthcode.apikeys import hash_key
    from healthcode.management.commands.seed_demo import (
        DEMO_VACCINATION_KEY,
        VACCINATION_VENUE_ADMIN_PHONE,
    )

    for _ in range(2):  # idempotent
        out = StringIO()
        call_command("seed_demo", stdout=out)
    zhang = Resident.objects.get(name="张三")
    assert vaccination_line(resident=zhang) == "已接种 3 剂（末次 2022-01-10）"
    assert vaccination_line(resident=Resident.objects.get(name="赵六")) == "未接种"
    vaccinated = [r for r in Resident.objects.all() if vaccination_line(resident=r) != "未接种"]
    assert len(vaccinated) > Resident.objects.count() / 2
    assert SiteKey.objects.filter(key_hash=hash_key(DEMO_VACCINATION_KEY)).exists()
    assert DEMO_VACCINATION_KEY in out.getvalue()
    venue = Venue.objects.get(administrator__phone=VACCINATION_VENUE_ADMIN_PHONE)
    assert venue.requires_vaccination and venue.is_approved
    assert Dose.objects.count() == 11  # the second run sent nothing again
