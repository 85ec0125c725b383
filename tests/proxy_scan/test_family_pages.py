"""The /family/ page and the code page's switcher to a bound member's code."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from healthcode.models import Resident
from healthcode.selectors import resident_from_token
from proxy_scan.models import FamilyBinding
from tests.factories import lookups, make_resident, post_result
from tests.healthcode.test_code_page import decode_qr
from tests.proxy_scan.test_family import CHILD_ID, ELDER_ID, bind

pytestmark = pytest.mark.django_db


def member_url(binding) -> str:
    return f"{reverse('healthcode:code')}?member={binding.public_id}"


def test_the_family_page_lists_members_masked_with_their_colour(client, resident):
    binding = bind(resident)
    client.force_login(resident.user)
    body = client.get(reverse("proxy_scan:family")).content.decode()
    member = binding.member
    assert member.masked_name in body and member.masked_id_number in body
    assert member.name not in body and member.id_number not in body
    assert "祖父母/外祖父母" in body and "绿码" in body and member_url(binding) in body


def test_binding_from_the_page(client, resident):
    client.force_login(resident.user)
    response = client.post(
        reverse("proxy_scan:family"),
        {
            "name": "王小明",
            "id_type": "resident_id",
            "id_number": CHILD_ID,
            "relationship": "child",
        },
        follow=True,
    )
    assert "已绑定 王*明" in response.content.decode()
    assert FamilyBinding.objects.get(holder=resident).member.id_number == CHILD_ID


def test_a_refused_bind_on_the_page_says_why_in_chinese_and_writes_nothing(client, resident):
    make_resident(name="李四", id_number=ELDER_ID)
    client.force_login(resident.user)
    before = Resident.objects.count()
    response = client.post(
        reverse("proxy_scan:family"),
        {"name": "李五", "id_type": "resident_id", "id_number": ELDER_ID, "relationship": "parent"},
    )
    assert response.status_code == 400 and "信息不符" in response.content.decode()
    response = client.post(
        reverse("proxy_scan:family"),
        {"name": "李五", "id_type": "resident_id", "id_number": "123", "relationship": "x"},
    )
    body = response.content.decode()
    assert response.status_code == 400 and "请选择与您的关系" in body
    assert Resident.objects.count() == before and not FamilyBinding.objects.exists()


def test_unbinding_from_the_page_and_the_old_link_then_404s(client, resident):
    binding = bind(resident)
    client.force_login(resident.user)
    assert client.get(member_url(binding)).status_code == 200
    response = client.post(reverse("proxy_scan:family-unbind", args=[binding.public_id]))
    assert response.status_code == 302
    binding.refresh_from_db()
    assert binding.unbound_at is not None  # the row stays
    assert client.get(member_url(binding)).status_code == 404
    qr = f"{reverse('healthcode:code-qr')}?member={binding.public_id}"
    assert client.get(qr).status_code == 404


def test_another_holder_gets_404_and_cannot_unbind(client, resident):
    binding = bind(resident)
    stranger = make_resident(name="赵六")
    client.force_login(stranger.user)
    assert client.get(member_url(binding)).status_code == 404
    assert (
        client.get(f"{reverse('healthcode:code')}?member={binding.member.public_id}").status_code
        == 404
    )
    assert (
        client.get(f"{reverse('healthcode:code-qr')}?member={binding.public_id}").status_code == 404
    )
    url = reverse("proxy_scan:family-unbind", args=[binding.public_id])
    assert client.post(url).status_code == 404
    binding.refresh_from_db()
    assert binding.unbound_at is None
    assert not lookups(subject=binding.member).exists()


def test_the_code_page_switches_to_a_members_code_with_its_own_token(client, resident):
    binding = bind(resident, name="王小明", id_number=CHILD_ID, relationship="child")
    sampled = timezone.now() - dt.timedelta(hours=3)
    post_result(
        id_number=CHILD_ID,
        name="王小明",
        sampled=sampled,
        reported=sampled + dt.timedelta(hours=1),
        result="positive",
    )
    client.force_login(resident.user)
    own = client.get(reverse("healthcode:code")).content.decode()
    assert "colour-green" in own and f"?member={binding.public_id}" in own  # the tab
    body = client.get(member_url(binding)).content.decode()
    member = binding.member
    assert "colour-red" in body and "红码" in body and "核酸阳性" in body
    assert member.masked_name in body and member.masked_id_number in body
    assert member.name not in body and member.id_number not in body
    src = re.search(r'<img id="qr"[^>]*src="([^"]+)"', body).group(1).replace("&amp;", "&")
    token = decode_qr(client.get(src).content)
    assert resident_from_token(token=token, now=timezone.now()) == member
    api = re.search(r'data-api="([^"]+)"', body).group(1)
    assert api == reverse("api-me-family-code", args=[binding.public_id])
    lookup = lookups().get(subject=member)
    assert (lookup.actor, lookup.action) == (resident.user, "family")


def test_a_malformed_member_key_is_404(client, resident):
    client.force_login(resident.user)
    assert client.get(f"{reverse('healthcode:code')}?member=nope").status_code == 404


def test_the_page_needs_a_resident(client, staff_user):
    client.force_login(staff_user)
    assert client.get(reverse("proxy_scan:family")).status_code == 404
    data = {
        "name": "王小明",
        "id_type": "resident_id",
        "id_number": CHILD_ID,
        "relationship": "child",
    }
    assert client.post(reverse("proxy_scan:family"), data).status_code == 404
    assert not Resident.objects.exists()


def test_family_pages_carry_no_inline_script_or_style(client, resident):
    bind(resident)
    client.force_login(resident.user)
    for url in (reverse("proxy_scan:family"), member_url(FamilyBinding.objects.get())):
        body = client.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)", body) and " style=" not in body
        assert "<style" not in body and not re.search(r"\son[a-z]+=", body)


def test_member_code_page_query_count(client, resident, django_assert_num_queries):
    binding = bind(resident)
    client.force_login(resident.user)
    client.get(member_url(binding))  # the first viewing is recorded; this one is not again
    # (the session and the account row come from the cache: healthcode.sessions, usercache)
    # 1 own code joined with resident, 2 the binding joined with member and code, 3 is a
    # viewing already recorded (once per token life), 4 the switcher's bindings, 5 the
    # account's roles for the navigation, 6 the member's doses for the vaccination line
    # (dose_identity index)
    with django_assert_num_queries(6):
        assert client.get(member_url(binding)).status_code == 200
