"""The code page's service worker (docs/offline.md): the script at the site root, and the key
that tells it whose code it keeps — on the holder's own code page, QR and code answer only."""

import re

import pytest
from django.urls import reverse

from healthcode.service_worker import OWNER_HEADER, owner_key
from tests.factories import make_resident
from tests.proxy_scan.test_family import bind

pytestmark = pytest.mark.django_db


def test_the_worker_is_served_from_the_root_for_the_whole_site_and_never_kept(client):
    response = client.get("/sw.js")  # anyone may fetch it: it holds no data
    assert reverse("service-worker") == "/sw.js"
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-store" in response["Cache-Control"] and "no-cache" in response["Cache-Control"]
    # The site's CSP holds for the worker too: it runs our own script, fetches our own origin.
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    body = response.content.decode()
    assert 'var VERSION = "v' in body and 'addEventListener("fetch"' in body
    assert OWNER_HEADER in body  # the header the views below set is the one it reads


def test_the_worker_answers_nothing_but_get(client):
    assert client.post("/sw.js").status_code == 405


def test_the_code_page_registers_the_worker_and_asks_for_its_own_page_to_be_kept(client, resident):
    client.force_login(resident.user)
    body = client.get(reverse("healthcode:code")).content.decode()
    card = re.search(r'<section id="code-card"[^>]*>', body).group(0)
    assert 'data-sw="/sw.js"' in card and 'data-keep="1"' in card
    # The marker the worker fills in when it gives the kept page back offline, empty online.
    assert 'data-offline-qr-at=""' in card


def test_the_holders_own_code_answers_carry_their_key(client, resident):
    client.force_login(resident.user)
    key = owner_key(resident.user)
    for address in (reverse("healthcode:code"), reverse("healthcode:code-qr"), "/api/v1/me/code"):
        response = client.get(address)
        assert response.status_code == 200 and response[OWNER_HEADER] == key, address
    # Opaque: a keyed hash, not the account's id, phone or ID number.
    assert re.fullmatch(r"[0-9a-f]{24}", key) and key != str(resident.user.pk)
    assert resident.user.phone not in key and resident.id_number not in key


def test_each_account_has_its_own_key(client, resident):
    other = make_resident(name="李四")
    assert owner_key(resident.user) != owner_key(other.user)
    assert owner_key(resident.user) == owner_key(resident.user)  # stable across sessions
    client.force_login(other.user)
    assert client.get("/api/v1/me/code")[OWNER_HEADER] == owner_key(other.user)


def test_a_family_members_code_carries_no_key_so_it_is_never_kept(client, resident):
    binding = bind(resident)
    client.force_login(resident.user)
    page = client.get(f"{reverse('healthcode:code')}?member={binding.public_id}")
    assert page.status_code == 200 and not page.has_header(OWNER_HEADER)
    card = re.search(r'<section id="code-card"[^>]*>', page.content.decode()).group(0)
    assert "data-keep" not in card
    qr = client.get(f"{reverse('healthcode:code-qr')}?member={binding.public_id}")
    assert qr.status_code == 200 and not qr.has_header(OWNER_HEADER)
    answer = client.get(reverse("api-me-family-code", args=[binding.public_id]))
    assert answer.status_code == 200 and not answer.has_header(OWNER_HEADER)


def test_pages_other_than_the_code_carry_no_key(client, resident):
    client.force_login(resident.user)
    for name in ("records:record", "proxy_scan:family", "proxy_scan:paper"):
        response = client.get(reverse(name))
        assert response.status_code == 200 and not response.has_header(OWNER_HEADER), name
