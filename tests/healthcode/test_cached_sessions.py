"""Sessions read from the cache (healthcode.sessions) keep the guarantees of database
sessions: a logged-out or password-changed session is never usable again, and the door works
with the cache down."""

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache, caches
from django.test import Client
from django.urls import reverse

from healthcode.sessions import SessionStore

pytestmark = pytest.mark.django_db

PASSWORD = "Abc-12345-xyz"


@pytest.fixture
def signed_in(resident):
    resident.user.set_password(PASSWORD)
    resident.user.save()
    client = Client()
    answer = client.post(reverse("login"), {"username": resident.user.phone, "password": PASSWORD})
    assert answer.status_code == 302 and "sessionid" in client.cookies
    return client


def code_page(client):
    return client.get(reverse("healthcode:code"))


def test_a_signed_in_request_reads_the_session_from_the_cache(signed_in):
    key = signed_in.cookies["sessionid"].value
    assert cache.get(SessionStore.cache_key_prefix + key)["data"]
    assert code_page(signed_in).status_code == 200


def test_a_logged_out_session_cookie_is_refused(signed_in):
    key = signed_in.cookies["sessionid"].value
    assert code_page(signed_in).status_code == 200
    signed_in.post(reverse("logout"))
    assert cache.get(SessionStore.cache_key_prefix + key) is None
    assert not Session.objects.filter(session_key=key).exists()
    replay = Client()
    replay.cookies["sessionid"] = key  # the stolen or kept cookie
    assert code_page(replay).status_code == 302


def test_a_password_change_ends_the_other_sessions(signed_in, resident):
    assert code_page(signed_in).status_code == 200  # its session is in the cache
    resident.user.set_password("Another-pass-987")
    resident.user.save()
    assert code_page(signed_in).status_code == 302


def test_with_the_cache_down_sessions_come_from_the_database(signed_in, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(caches["default"], "get", down)
    monkeypatch.setattr(caches["default"], "set", down)
    assert code_page(signed_in).status_code == 200


def test_a_log_out_the_cache_cannot_hear_deletes_nothing(signed_in, monkeypatch):
    """Better a failed log-out the person retries than a row gone and a copy left in Redis
    that the cookie could use again when Redis is back."""
    key = signed_in.cookies["sessionid"].value

    def down(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(caches["default"], "delete", down)
    with pytest.raises(ConnectionError):
        SessionStore(key).delete()
    assert Session.objects.filter(session_key=key).exists()


def test_a_cached_copy_lives_at_most_session_cache_seconds(settings):
    settings.SESSION_CACHE_SECONDS = 60
    store = SessionStore()
    assert store._cache_seconds(1209600) == 60
    assert store._cache_seconds(30) == 30
