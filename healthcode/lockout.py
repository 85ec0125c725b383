"""Log-in lock-outs with django-axes: per account and per IP, on the database.

Wired in settings (AXES_*): axes refuses a locked-out log-in in its authentication backend,
before the password is checked, on every path that calls ``authenticate`` with the request
(/login/, /admin/login/, POST /api/v1/auth/token). This module tells axes who the account is
(the phone as registration stores it), how long the lock lasts, and what the page says.
"""

import datetime as dt
import math

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.forms.forms import NON_FIELD_ERRORS
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from healthcode.idnumbers import clean_phone
from healthcode.throttling import minutes_to_wait

LOCKED_MESSAGE = _("登录失败次数过多，请 %(minutes)d 分钟后再试。")


def login_account(request, credentials: dict | None) -> str:
    """The account a log-in attempt is for, so that "+86 138 0000 0001" and "13800000001"
    count as one. The page and admin send ``username``, the API ``phone``."""
    source = credentials or getattr(request, "data", None) or request.POST
    raw = str(source.get("phone") or source.get("username") or "")
    try:
        return clean_phone(raw)
    except ValidationError:
        return raw[:255]  # not a phone: counted as typed (it matches no account anyway)


def failure_limit(request, credentials) -> int:
    return settings.LOGIN_FAILURE_LIMIT


def cool_off(request) -> dt.timedelta:
    return dt.timedelta(minutes=settings.LOGIN_COOLOFF_MINUTES)


class LoginLockoutHandler(AxesDatabaseHandler):
    """axes' database handler with two limits and exact edges.

    - The account and the IP have their own limits (LOGIN_FAILURE_LIMIT, LOGIN_IP_FAILURE_LIMIT);
      axes compares one number with one limit, so IP failures are shifted by the difference.
    - A failure counts for exactly the cool-off: at ``last failure + cool-off`` it is over.
    - Success clears the account's failures only: logging in to one's own account must not
      wipe the IP's count of failures against other people's accounts.
    """

    def get_user_attempts(self, request, credentials=None):
        threshold = get_cool_off_threshold(request)
        attempts = self.filter_user_attempts(request, credentials)
        return [qs.filter(attempt_time__gt=threshold) for qs in attempts]

    def get_failures(self, request, credentials=None) -> int:
        by_account, by_ip = (
            qs.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for qs in self.get_user_attempts(request, credentials)
        )
        shift = settings.LOGIN_IP_FAILURE_LIMIT - settings.LOGIN_FAILURE_LIMIT
        return max(by_account, by_ip - shift)

    def reset_user_attempts(self, request, credentials=None) -> int:
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count

    def locked_until(self, request, credentials=None) -> dt.datetime | None:
        """When the lock on this account or IP lifts (the later of the two), or None."""
        limits = (settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_IP_FAILURE_LIMIT)
        ends = []
        for qs, limit in zip(self.get_user_attempts(request, credentials), limits, strict=True):
            counted = 0
            for failures, at in qs.order_by("-attempt_time").values_list(
                "failures_since_start", "attempt_time"
            ):
                counted += failures
                if counted >= limit:  # locked until this attempt stops counting
                    ends.append(at + cool_off(request))
                    break
        return max(ends, default=None)


def login_succeeded(*, user) -> None:
    """Clear the account's failures after a log-in that did not go through ``login()`` (the
    token API): axes does it itself on ``user_logged_in``, which only sessions send."""
    axes_reset(username=user.get_username())


def lockout_wait_seconds(request, credentials=None) -> int:
    """Seconds until this locked-out request's account and IP may try again."""
    AxesProxyHandler.update_request(request)
    until = AxesProxyHandler.get_implementation().locked_until(request, credentials)
    if until is None:
        return int(cool_off(request).total_seconds())
    return max(1, math.ceil((until - timezone.now()).total_seconds()))


def locked_message(wait_seconds: int) -> str:
    return LOCKED_MESSAGE % {"minutes": minutes_to_wait(wait_seconds)}


def lockout_response(request, original_response, credentials) -> HttpResponse:
    """The log-in page again, status 429, its form saying how long to wait (the phone typed
    stays filled in). Called by axes' middleware for /login/ and /admin/login/."""
    wait = lockout_wait_seconds(request, credentials)
    context = getattr(original_response, "context_data", None) or {}
    form = context.get("form")
    if form is None or not hasattr(original_response, "template_name"):
        response = HttpResponse(
            locked_message(wait), status=429, content_type="text/plain; charset=utf-8"
        )
    else:
        form.errors.pop(NON_FIELD_ERRORS, None)  # not "wrong password": we did not check it
        form.add_error(None, locked_message(wait))
        response = TemplateResponse(
            request, original_response.template_name, context, status=429
        ).render()
    response["Retry-After"] = str(wait)
    return response
