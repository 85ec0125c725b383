from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from healthcode.apikeys import ApiKeyAuthentication
from nucleic.models import LabToken


class LabTokenAuthentication(ApiKeyAuthentication):
    """``Authorization: Bearer <lab token>``. A revoked token is refused outright."""

    model = LabToken
    select_related = ("lab",)
    invalid_message = _("检测机构令牌无效。")
    revoked_message = _("检测机构令牌已吊销。")


class IsLab(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, LabToken)
