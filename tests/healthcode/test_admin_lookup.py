"""Staff find a resident by ID number with a POST form: the number never sits in a URL, and
every such search is recorded as a lookup of that person."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission

from nucleic.models import Sample
from tests.factories import last_event_pk, lookups, resident_id

pytestmark = pytest.mark.django_db
LOOKUP = "/admin/healthcode/resident/lookup/"


@pytest.fixture
def officer(client, django_user_model):
    user = django_user_model.objects.create_user(phone="13600000000", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_resident"))
    client.force_login(user)
    return user


def test_a_post_lookup_records_it_and_opens_the_record_by_pk(client, officer, resident):
    assert client.get(LOOKUP).status_code == 200
    response = client.post(LOOKUP, {"id_type": "resident_id", "id_number": resident.id_number})
    assert response.status_code == 302
    assert response["Location"] == f"/admin/healthcode/resident/{resident.pk}/change/"
    assert resident.id_number not in response["Location"]
    lookup = lookups().get(action="admin_search")
    assert (lookup.actor, lookup.subject) == (officer, resident)


def test_a_malformed_number_is_a_field_error_and_looks_nobody_up(client, officer, resident):
    response = client.post(LOOKUP, {"id_type": "resident_id", "id_number": "123"})
    assert response.status_code == 200
    assert not lookups().exists()


def test_a_number_that_matches_nobody_is_still_a_masked_lookup(client, officer, resident):
    nobody = resident_id(birth="19800101", seq=999)
    response = client.post(LOOKUP, {"id_type": "resident_id", "id_number": nobody})
    assert response.status_code == 200
    assert "没有登记该证件号码的居民" in response.content.decode()
    lookup = lookups().get()
    assert (lookup.actor, lookup.subject, lookup.action) == (officer, None, "admin_search")
    assert lookup.subject_masked_id == nobody[:4] + "*" * 10 + nobody[-4:]


def test_the_changelist_does_not_search_by_id_number(client, officer, resident):
    page = client.get("/admin/healthcode/resident/", {"q": resident.id_number})
    assert page.status_code == 200
    assert page.context["cl"].result_count == 0  # the GET search ignores ID numbers
    assert "按证件号码查找" in page.content.decode()
    for model_admin in admin.site._registry.values():
        assert not any("id_number" in f for f in model_admin.search_fields), model_admin


def test_staff_without_view_permission_cannot_look_up(client, django_user_model, resident):
    user = django_user_model.objects.create_user(phone="13600000001", password="x", is_staff=True)
    client.force_login(user)
    response = client.post(LOOKUP, {"id_type": "resident_id", "id_number": resident.id_number})
    assert response.status_code == 403
    assert not lookups().exists()


def test_opening_a_flag_a_sample_or_a_manual_check_in_is_a_lookup(admin_client, admin_user):
    import datetime as dt

    from django.utils import timezone

    from checkins.services import checkin_manual
    from tests.factories import add_flag, make_resident, make_venue, post_result

    person = make_resident(name="冯七")
    flag = add_flag(person, "symptoms")
    post_result(
        id_number=person.id_number,
        name=person.name,
        sampled=timezone.now() - dt.timedelta(hours=3),
        reported=timezone.now() - dt.timedelta(hours=1),
        barcode="ADMIN-LOOK-1",
    )
    sample = Sample.objects.get(barcode="ADMIN-LOOK-1")
    stranger = resident_id(birth="19800101", seq=998)
    checkin = checkin_manual(
        venue=make_venue(),
        scanned_by=admin_user,
        name="褚八",
        id_type="resident_id",
        id_number=stranger,
        phone="13912345678",
        temperature_band="normal",
    )
    mark = last_event_pk()  # after the manual registration's own lookup
    pages = [
        f"/admin/healthcode/riskflag/{flag.pk}/change/",
        f"/admin/nucleic/sample/{sample.pk}/change/",
        f"/admin/checkins/checkin/{checkin.pk}/change/",
    ]
    bodies = [admin_client.get(page) for page in pages]
    assert [b.status_code for b in bodies] == [200, 200, 200]
    rows = lookups(pk__gt=mark).order_by("pk").values_list("subject", "subject_masked_id")
    assert list(rows) == [
        (person.pk, ""),
        (person.pk, ""),
        (None, stranger[:4] + "*" * 10 + stranger[-4:]),
    ]
    checkin_page = bodies[2].content.decode()
    assert stranger not in checkin_page and "13912345678" not in checkin_page
    assert "139****5678" in checkin_page
