"""Staff find a resident by ID number with a POST form: the number never sits in a URL, and
every such search is recorded as a lookup of that person."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission

from healthcode.models import PersonLookup

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
    lookup = PersonLookup.objects.get(channel="admin_search")
    assert (lookup.viewer, lookup.resident) == (officer, resident)


def test_an_unknown_or_malformed_number_records_nothing(client, officer, resident):
    other = resident.id_number[:-4] + ("0000" if resident.id_number[-4:] != "0000" else "1111")
    for number in ("123", other):
        response = client.post(LOOKUP, {"id_type": "resident_id", "id_number": number})
        assert response.status_code == 200
    assert "没有登记该证件号码的居民" in response.content.decode() or "校验位" in (
        response.content.decode()
    )
    assert not PersonLookup.objects.exists()


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
    assert not PersonLookup.objects.exists()
