"""Limits on 老幼助查: per account and per client IP, counted in the cache over an hour.

Both fail open with a logged warning when the cache is down (healthcode.throttling): a
companion at a door must still be able to look an elder up while Redis is away."""

from django.utils.translation import gettext_lazy as _

from healthcode.throttling import FailOpenRateThrottle

ELDER_LOOKUP_MESSAGE = _(
    "老幼助查过于频繁：每个账号、每个网络的查询次数有上限，以防冒用他人身份信息。"
    "请 %(minutes)d 分钟后再试。"
)


class ElderLookupPerUserThrottle(FailOpenRateThrottle):
    scope = "elder_lookup_user"
    limit_setting = "ELDER_LOOKUP_PER_USER_PER_HOUR"

    def get_ident(self, request):
        return str(request.user.pk)


class ElderLookupPerIpThrottle(FailOpenRateThrottle):
    scope = "elder_lookup_ip"
    limit_setting = "ELDER_LOOKUP_PER_IP_PER_HOUR"


def elder_lookup_wait(request) -> float | None:
    """Count this lookup against the account and the IP; the seconds to wait if either is
    over its limit, else None."""
    waits = [
        throttle.refusal_wait(request)
        for throttle in (ElderLookupPerUserThrottle(), ElderLookupPerIpThrottle())
    ]
    refused = [wait for wait in waits if wait is not None]
    return max(refused) if refused else None
