from django.utils.translation import gettext_lazy as _

from healthcode.apikeys import ApiKeyAuthentication
from nucleic.models import LabToken


class LabTokenAuthentication(ApiKeyAuthentication):
    """``Authorization: Bearer <lab token>``. A revoked token is refused outright."""

    model = LabToken
    select_related = ("lab",)
    invalid_message = _("检测机构令牌无效。")
    revoked_message = _("检测机构令牌已吊销。")
