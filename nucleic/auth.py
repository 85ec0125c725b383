from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from nucleic.models import LabToken, hash_key


class LabClient:
    """The authenticated party of a lab request (not a person)."""

    is_authenticated = True
    is_staff = False

    def __init__(self, token: LabToken) -> None:
        self.token = token
        self.lab = token.lab


class LabTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <lab token>``. A revoked token is refused outright."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Authorization 头格式应为 Bearer <令牌>。"))
        token = LabToken.objects.select_related("lab").filter(key_hash=hash_key(header[1])).first()
        if token is None:
            raise exceptions.AuthenticationFailed(_("检测机构令牌无效。"))
        if token.revoked_at is not None and token.revoked_at <= timezone.now():
            raise exceptions.AuthenticationFailed(_("检测机构令牌已吊销。"))
        return LabClient(token), token

    def authenticate_header(self, request):
        return self.keyword


class IsLab(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, LabToken)


class LabTokenScheme(OpenApiAuthenticationExtension):
    """Documents the lab token in the OpenAPI schema."""

    target_class = "nucleic.auth.LabTokenAuthentication"
    name = "labToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "检测机构 API 令牌"}
