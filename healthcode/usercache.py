"""The signed-in account's row, from the cache (Redis in production) instead of a query.

Every signed-in request loads its account (``django.contrib.auth.get_user``): the row whose
password hash the session is checked against, so that a password change ends every other
session, and whose ``is_active`` lets a deactivated account be refused. On the door's paths
that was one statement in two to five. ``CachedModelBackend`` reads it through
``healthcode.rowcache`` under ``account_key(pk)``; every save or delete of the account drops
the copy (post_save/post_delete, at once and again on commit), so the next request reads
the row as it now is: a new password, a deactivation or a deletion is seen at once.

Only the row is kept (pickled before anything reads permissions, so no permission cache
rides along); roles live in other tables and are read where they are needed. Every change
to an account goes through ``save()`` (``set_password``, ``care_mode_set``, the admin,
``update_last_login``): a ``QuerySet.update()`` of accounts would bypass the drop and must
call ``forget_account`` itself.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from healthcode import rowcache

# The path a session names its backend by (``login(..., backend=BACKEND)``).
BACKEND = "healthcode.usercache.CachedModelBackend"


def account_key(pk) -> str:
    return f"door:account:{pk}"


def forget_account(pk) -> None:
    rowcache.forget(account_key(pk))


class CachedModelBackend(ModelBackend):
    """Django's ModelBackend, with the account row of a session read from the row cache."""

    def get_user(self, user_id):
        model = get_user_model()
        try:
            pk = model._meta.pk.to_python(user_id)
        except Exception:
            return None
        user = rowcache.cached(
            account_key(pk), lambda: model._default_manager.filter(pk=pk).first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None
