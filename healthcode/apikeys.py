"""API keys for machines (labs, scan devices): only a SHA-256 of the key is stored, the key
is shown once at issue, and a revoked key is refused outright. Too many unknown keys from one
IP and every key from it gets 429 for a while (healthcode.throttling.KeyFailureThrottle)."""

import hashlib
import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from healthcode.throttling import KEY_FAILURE_MESSAGE, KeyFailureThrottle, TooManyAttempts


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKey(models.Model):
    KEY_PREFIX = "key_"

    name = models.CharField(_("用途"), max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("前缀"), max_length=8, editable=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        abstract = True

    @classmethod
    def create_with_key(cls, **fields) -> tuple["ApiKey", str]:
        key = cls.KEY_PREFIX + secrets.token_urlsafe(32)
        start = len(cls.KEY_PREFIX)
        obj = cls.objects.create(key_hash=hash_key(key), prefix=key[start : start + 8], **fields)
        return obj, key

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None and self.revoked_at <= timezone.now()


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <key>`` for one ApiKey model; ``request.auth`` is the key row."""

    keyword = "Bearer"
    model: type[ApiKey]
    select_related: tuple[str, ...] = ()
    invalid_message = _("令牌无效。")
    revoked_message = _("令牌已吊销。")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Authorization 头格式应为 Bearer <令牌>。"))
        guard = KeyFailureThrottle()
        wait = guard.blocked_for(request)
        if wait is not None:  # even a right key: the IP is guessing
            raise TooManyAttempts(wait=wait, message=KEY_FAILURE_MESSAGE)
        row = self.find(hash_key(header[1]))
        if row is None:
            guard.record_failure()
            raise exceptions.AuthenticationFailed(self.invalid_message)
        if row.is_revoked:
            raise exceptions.AuthenticationFailed(self.revoked_message)
        return MachineClient(row), row

    def find(self, key_hash: str) -> "ApiKey | None":
        """The key row with this hash (a subclass may read it from a cache)."""
        return (
            self.model.objects.select_related(*self.select_related)
            .filter(key_hash=key_hash)
            .first()
        )

    def authenticate_header(self, request):
        return self.keyword


class HasKey(permissions.BasePermission):
    """The request carries a key of a kind the view's own authentication accepts (a lab's
    token on the lab API, a site's key on the vaccination API, a device's at the gate)."""

    def has_permission(self, request, view):
        kinds = tuple(
            auth.model
            for auth in view.authentication_classes
            if issubclass(auth, ApiKeyAuthentication)
        )
        return bool(kinds) and isinstance(request.auth, kinds)


class MachineClient:
    """The authenticated party of a machine request (not a person)."""

    is_authenticated = True
    is_staff = False

    def __init__(self, key: ApiKey) -> None:
        self.key = key


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Documents machine keys (labs, devices) in the OpenAPI schema."""

    target_class = "healthcode.apikeys.ApiKeyAuthentication"
    match_subclasses = True
    name = "machineKey"

    def __init__(self, target):
        super().__init__(target)
        # One security scheme per kind of key: a lab's key does not open a device's door.
        self.name = getattr(target, "__name__", type(target).__name__)

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "检测机构、接种点或扫码设备的 API 令牌",
        }
