"""API tokens (``Authorization: Token <key>``) that expire and die with a password change.

A token works for API_TOKEN_TTL_DAYS from its issue — a staff member's (``healthcode.roles``)
for STAFF_SESSION_HOURS, as their browser session does; a password change (any path: the admin,
``changepassword``, ``set_password`` + save) stamps ``User.password_changed_at`` and every token
issued before it is refused. Each log-in issues a fresh token, replacing the account's previous
one, so logging in again is how a client recovers from 401.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from healthcode.roles import has_staff_role


def token_problem(token: Token, *, now: dt.datetime) -> str | None:
    """Why this token may no longer be used (a message), or None if it may."""
    if now >= token.created + dt.timedelta(days=settings.API_TOKEN_TTL_DAYS):
        return _("登录已过期，请重新登录。")
    # Whether the holder is staff is asked only of tokens older than a working day, so a
    # fresh token costs no extra query.
    staff_limit = dt.timedelta(hours=settings.STAFF_SESSION_HOURS)
    if now >= token.created + staff_limit and has_staff_role(token.user):
        return _("登录已过期，请重新登录。")
    changed = token.user.password_changed_at
    if changed is not None and token.created < changed:
        return _("密码已修改，请重新登录。")
    return None


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing expired and pre-password-change tokens with 401."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)  # select_related("user")
        problem = token_problem(token, now=timezone.now())
        if problem:
            raise exceptions.AuthenticationFailed(problem, code="token_expired")
        return user, token


@transaction.atomic
def api_token_issue(*, user) -> Token:
    """A new API token for a log-in; the account's previous token stops working."""
    type(user).objects.select_for_update().filter(pk=user.pk).first()  # one log-in at a time
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)
