"""The signed-in account's row comes from the cache (healthcode.usercache), and every change to
it is seen by the very next request: a new password ends the other sessions, a deactivated or
deleted account is refused, a new permission counts at once."""

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache, caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from healthcode import services, usercache
from healthcode.models import User
from tests.factories import make_resident

pytestmark = pytest.mark.django_db

PASSWORD = "Account-pass-2026!"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def my_code(client):
    return client.get(reverse("api-me-code"))


def account_reads(client) -> tuple[int, int]:
    """(status, statements that read the account table) of one code refresh."""
    with CaptureQueriesContext(connection) as sql:
        status = my_code(client).status_code
    return status, sum('FROM "healthcode_user"' in q["sql"] for q in sql.captured_queries)


def test_a_session_reads_its_account_from_the_cache():
    user = make_resident().user
    client = signed_in(user)
    assert client.session["_auth_user_backend"] == usercache.BACKEND
    assert account_reads(client) == (200, 1)  # the first request loads and keeps the row
    assert cache.get(usercache.account_key(user.pk)) is not None
    assert account_reads(client) == (200, 0)
    assert account_reads(client) == (200, 0)


def test_a_password_change_ends_the_other_sessions_at_once():
    user = make_resident().user
    client = signed_in(user)
    assert my_code(client).status_code == 200  # cached from here on
    user.set_password("Another-pass-2026!")
    user.save()
    assert cache.get(usercache.account_key(user.pk)) is None
    assert my_code(client).status_code == 401  # signed out: no account
    assert "_auth_user_id" not in client.session


def test_a_deactivated_account_is_refused_by_the_next_request():
    user = make_resident().user
    client = signed_in(user)
    assert my_code(client).status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert my_code(client).status_code == 401  # signed out: no account


def test_a_deleted_account_is_refused_by_the_next_request():
    user = User.objects.create_user(phone="13600000009", password=PASSWORD)
    client = signed_in(user)
    assert my_code(client).status_code == 404  # signed in, no resident registered
    user.delete()
    assert cache.get(usercache.account_key(user.pk or 0)) is None
    assert my_code(client).status_code == 401  # signed out: no account


def test_a_preference_saved_is_what_the_next_request_sees():
    user = make_resident().user
    client = signed_in(user)
    assert my_code(client).status_code == 200
    services.care_mode_set(user=user, enabled=True)
    assert usercache.CachedModelBackend().get_user(user.pk).care_mode is True


def test_the_cached_copy_carries_no_permissions():
    """Permissions are read per request, never pickled with the row: one granted after the row
    was cached counts on the next request."""
    user = make_resident().user
    backend = usercache.CachedModelBackend()
    first = backend.get_user(user.pk)
    assert not first.has_perm("nucleic.add_testpolicy")  # fills this instance's perm cache
    user.user_permissions.add(Permission.objects.get(codename="add_testpolicy"))
    again = backend.get_user(user.pk)
    assert again is not first
    assert again.has_perm("nucleic.add_testpolicy")


def test_an_unreachable_cache_reads_the_database(monkeypatch):
    user = make_resident().user
    client = signed_in(user)

    def down(*args, **kwargs):
        raise ConnectionError("redis down")

    for method in ("get", "set"):
        monkeypatch.setattr(caches["default"], method, down)
    # Sessions fall back to their rows too (healthcode.sessions): the request still works.
    assert account_reads(client) == (200, 1)


def test_a_session_of_an_unknown_account_or_bad_id_is_anonymous():
    backend = usercache.CachedModelBackend()
    assert backend.get_user(987654321) is None
    assert backend.get_user("not-a-number") is None
    assert cache.get(usercache.account_key(987654321)) is None  # a miss is not kept
