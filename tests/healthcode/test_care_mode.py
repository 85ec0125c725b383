"""关怀版: one preference per account, switched by a logged-in POST with CSRF, shown on the code
page (its own and each bound member's), and no other account's page changes."""

import pytest
from django.test import Client
from django.urls import reverse

from healthcode.models import User
from tests.factories import make_resident

pytestmark = pytest.mark.django_db

URL = reverse("healthcode:care-mode")


def _care_on_page(client, **params) -> bool:
    html = client.get(reverse("healthcode:code"), params).content.decode()
    return 'class="code-body care"' in html


def test_the_switch_is_stored_on_the_account_and_another_account_is_unaffected(client):
    elder, neighbour = make_resident(), make_resident()
    client.force_login(elder.user)
    response = client.post(URL, {"care_mode": "on"})
    assert response.status_code == 302 and response["Location"] == reverse("healthcode:code")
    assert User.objects.get(pk=elder.user.pk).care_mode is True
    assert User.objects.get(pk=neighbour.user.pk).care_mode is False
    assert _care_on_page(client)
    assert "退出关怀版" in client.get(reverse("healthcode:code")).content.decode()

    other = Client()
    other.force_login(neighbour.user)
    assert not _care_on_page(other)

    client.post(URL, {"care_mode": "off"})
    assert User.objects.get(pk=elder.user.pk).care_mode is False
    assert not _care_on_page(client)


def test_the_switch_needs_a_log_in(client):
    response = client.post(URL, {"care_mode": "on"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert not User.objects.filter(care_mode=True).exists()


def test_the_switch_needs_post(client, resident):
    client.force_login(resident.user)
    assert client.get(URL, {"care_mode": "on"}).status_code == 405
    assert User.objects.get(pk=resident.user.pk).care_mode is False


def test_the_switch_needs_the_csrf_token(resident):
    client = Client(enforce_csrf_checks=True)
    client.force_login(resident.user)
    assert client.post(URL, {"care_mode": "on"}).status_code == 403
    assert User.objects.get(pk=resident.user.pk).care_mode is False
    page = client.get(reverse("healthcode:code")).content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    assert client.post(URL, {"care_mode": "on", "csrfmiddlewaretoken": token}).status_code == 302
    assert User.objects.get(pk=resident.user.pk).care_mode is True


def test_anything_but_on_switches_it_off(client, resident):
    client.force_login(resident.user)
    client.post(URL, {"care_mode": "on"})
    client.post(URL, {"care_mode": "yes please"})
    assert User.objects.get(pk=resident.user.pk).care_mode is False


def test_the_holders_switch_applies_to_a_bound_members_code_and_returns_to_it(client, resident):
    from tests.proxy_scan.test_family import bind

    binding = bind(resident)
    client.force_login(resident.user)
    response = client.post(URL, {"care_mode": "on", "member": str(binding.public_id)})
    member_page = f"{reverse('healthcode:code')}?member={binding.public_id}"
    assert response.status_code == 302 and response["Location"] == member_page
    assert _care_on_page(client, member=str(binding.public_id))
    assert _care_on_page(client)  # and on the holder's own code: one preference
