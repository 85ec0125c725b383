"""Per-IP limits on registration and on machine keys, counted in the Django cache.

The cache is Redis in production. Throttling is a defence, not a service: when the cache
cannot be reached, every check here lets the request through with a logged warning, so that
residents can still register and gates still open while Redis is down. Log-in lock-outs do
not live here; they use django-axes on the database (healthcode.lockout).
"""

import logging
import math

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.throttling import SimpleRateThrottle

log = logging.getLogger(__name__)

REGISTRATION_MESSAGE = _("注册请求过于频繁，请 %(minutes)d 分钟后再试。")
KEY_FAILURE_MESSAGE = _("令牌错误次数过多，请 %(minutes)d 分钟后再试。")


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the address
    the outermost trusted proxy saw (the N-th from the right in X-Forwarded-For), which the
    client cannot forge. django-axes uses this too, so all per-IP limits agree."""
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if count and hops:
        return hops[-min(count, len(hops))]
    return request.META.get("REMOTE_ADDR", "")


def minutes_to_wait(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))


class TooManyAttempts(exceptions.Throttled):
    """429 with ``Retry-After`` (seconds) and a Chinese ``detail`` naming the wait in minutes.

    DRF's own Throttled appends an English sentence to the detail; this one does not."""

    def __init__(self, *, wait: float, message: str) -> None:
        wait = max(1, math.ceil(wait))
        exceptions.APIException.__init__(
            self, message % {"minutes": minutes_to_wait(wait)}, "throttled"
        )
        self.wait = wait


def _cache_unavailable(exc: Exception) -> None:
    # No address, key or phone here: only that the limit was skipped, and why.
    log.warning("throttle skipped, cache unavailable (%s); request allowed", type(exc).__name__)


class FailOpenMixin:
    """For a DRF throttle: a cache that cannot be reached lets the request through (logged)."""

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # any cache backend error: fail open
            _cache_unavailable(exc)
            return True


class FailOpenRateThrottle(FailOpenMixin, SimpleRateThrottle):
    """DRF's sliding-window throttle keyed by client IP; a cache error allows the request."""

    limit_setting: str
    window_seconds = 3600

    def parse_rate(self, rate):
        # Limits come from integer settings (read per request, so tests can override them).
        return getattr(settings, self.limit_setting), self.window_seconds

    def get_rate(self):
        return self.limit_setting

    def get_ident(self, request):
        return client_ip(request)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def refusal_wait(self, request) -> float | None:
        """Count this request; the seconds to wait if it is over the limit, else None."""
        if self.allow_request(request, None):
            return None
        return self.wait() or self.duration


class RegistrationThrottle(FailOpenRateThrottle):
    """New accounts per IP per hour, shared by the page and the API."""

    scope = "registration"
    limit_setting = "REGISTRATION_PER_IP_PER_HOUR"


class KeyFailureThrottle(FailOpenRateThrottle):
    """Unknown lab or device keys per IP. Not a DRF throttle class: authentication runs before
    throttles, so ApiKeyAuthentication asks ``blocked_for`` first and reports failures."""

    scope = "api_key_failures"
    limit_setting = "API_KEY_FAILURE_LIMIT"

    def __init__(self) -> None:
        self.window_seconds = settings.API_KEY_FAILURE_WINDOW_MINUTES * 60
        super().__init__()
        self.key = None

    def blocked_for(self, request) -> float | None:
        """Seconds until this IP may present keys again, or None if it may now."""
        try:
            self.key = self.get_cache_key(request, None)
            self.history = self.cache.get(self.key, [])
            self.now = self.timer()
            while self.history and self.history[-1] <= self.now - self.duration:
                self.history.pop()
        except Exception as exc:
            self.key = None
            _cache_unavailable(exc)
            return None
        if len(self.history) >= self.num_requests:
            return self.wait() or self.duration
        return None

    def record_failure(self) -> None:
        if self.key is None:  # the cache was unreachable in blocked_for
            return
        try:
            self.throttle_success()  # appends this moment to the IP's failures
        except Exception as exc:
            _cache_unavailable(exc)
