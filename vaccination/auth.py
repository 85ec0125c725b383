from django.utils.translation import gettext_lazy as _

from healthcode.apikeys import ApiKeyAuthentication
from vaccination.models import SiteKey


class SiteKeyAuthentication(ApiKeyAuthentication):
    """``Authorization: Bearer <site key>``. A revoked key is refused outright."""

    model = SiteKey
    select_related = ("site",)
    invalid_message = _("接种点令牌无效。")
    revoked_message = _("接种点令牌已吊销。")
