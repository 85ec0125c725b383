"""GET/POST /api/v1/me/family, DELETE /api/v1/me/family/<id>, GET …/<id>/code."""

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from healthcode.models import Resident
from healthcode.selectors import resident_from_token
from proxy_scan.models import FamilyBinding
from tests.factories import add_flag, lookups, make_resident
from tests.proxy_scan.test_family import CHILD_ID, ELDER_ID, bind

pytestmark = pytest.mark.django_db


def api_for(resident) -> APIClient:
    api = APIClient()
    api.force_authenticate(resident.user)
    return api


def body(**overrides) -> dict:
    data = {"name": "王奶奶", "id_type": "resident_id", "id_number": ELDER_ID}
    return {**data, "relationship": "grandparent", **overrides}


def test_bind_then_list_members_masked_with_their_code(resident):
    api = api_for(resident)
    response = api.post(reverse("api-me-family"), body(), format="json")
    assert response.status_code == 201
    created = response.json()
    assert (
        created["name"] == "王*奶"
        and created["id_number"] == ELDER_ID[:4] + "*" * 10 + ELDER_ID[-4:]
    )
    assert created["has_login"] is False and created["code"]["colour"] == "green"
    add_flag(Resident.objects.get(id_number=ELDER_ID), "close_contact")
    listed = api.get(reverse("api-me-family"))
    assert listed["Cache-Control"] == "no-store"
    [member] = listed.json()
    assert member["id"] == created["id"] and member["relationship_label"] == "祖父母/外祖父母"
    assert member["code"]["colour"] == "red" and ELDER_ID not in listed.content.decode()


def test_field_errors_in_chinese_and_nothing_written(resident):
    api = api_for(resident)
    before = Resident.objects.count()
    bad = api.post(
        reverse("api-me-family"),
        body(id_number="110105195001011234", relationship="x"),
        format="json",
    )
    assert bad.status_code == 400 and bad.json()["relationship"] == ["请选择与您的关系。"]
    wrong_digit = ELDER_ID[:-1] + ("1" if ELDER_ID[-1] != "1" else "2")
    bad = api.post(reverse("api-me-family"), body(id_number=wrong_digit), format="json")
    assert bad.status_code == 400 and "校验位" in bad.json()["id_number"][0]
    make_resident(name="李四", id_number=CHILD_ID)
    bad = api.post(reverse("api-me-family"), body(id_number=CHILD_ID), format="json")
    assert bad.status_code == 400 and bad.json()["detail"] == "信息不符，请核对姓名和证件号码。"
    assert Resident.objects.count() == before + 1 and not FamilyBinding.objects.exists()


def test_the_eleventh_member_is_409(resident):
    from tests.factories import resident_id

    for seq in range(10):
        bind(resident, id_number=resident_id(region="330106", birth="19450101", seq=300 + seq))
    before = Resident.objects.count()
    refused = api_for(resident).post(reverse("api-me-family"), body(), format="json")
    assert refused.status_code == 409 and "最多可绑定 10 位" in refused.json()["detail"]
    assert Resident.objects.count() == before and FamilyBinding.objects.count() == 10


def test_a_members_code_with_a_token_and_a_recorded_lookup(resident):
    binding = bind(resident)
    response = api_for(resident).get(reverse("api-me-family-code", args=[binding.public_id]))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    data = response.json()
    assert data["colour"] == "green" and data["refresh_seconds"] > 0
    assert resident_from_token(token=data["token"], now=timezone.now()) == binding.member
    lookup = lookups().get(subject=binding.member)
    assert (lookup.actor, lookup.action) == (resident.user, "family")


def test_another_holders_binding_is_404_and_untouched(resident):
    binding = bind(resident)
    stranger = api_for(make_resident(name="赵六"))
    code_url = reverse("api-me-family-code", args=[binding.public_id])
    member_url = reverse("api-me-family-member", args=[binding.public_id])
    assert stranger.get(code_url).status_code == 404
    assert stranger.delete(member_url).status_code == 404
    assert stranger.get(reverse("api-me-family")).json() == []
    binding.refresh_from_db()
    assert binding.unbound_at is None
    assert not lookups(subject=binding.member).exists()


def test_unbind_then_the_code_is_404(resident):
    binding = bind(resident)
    api = api_for(resident)
    member_url = reverse("api-me-family-member", args=[binding.public_id])
    assert api.delete(member_url).status_code == 204
    assert api.delete(member_url).status_code == 404
    assert api.get(reverse("api-me-family-code", args=[binding.public_id])).status_code == 404
    assert FamilyBinding.objects.get().unbound_by == resident.user


def test_an_account_without_a_resident_gets_404(staff_user):
    api = APIClient()
    api.force_authenticate(staff_user)
    assert api.get(reverse("api-me-family")).status_code == 404
    assert api.post(reverse("api-me-family"), body(), format="json").status_code == 404
    assert not Resident.objects.exists()
