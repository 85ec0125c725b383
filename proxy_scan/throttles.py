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


PROXY_SCAN_HELPER_MESSAGE = _(
    "帮扫过于频繁：每个账号每小时可帮他人登记的次数有上限，以防冒用他人身份信息。"
    "请 %(minutes)d 分钟后再试。"
)
PROXY_SCAN_PERSON_MESSAGE = _(
    "此人近一小时内被他人代为登记的次数已达上限，请 %(minutes)d 分钟后再试，"
    "或请场所工作人员人工登记。"
)


class _KeyedThrottle(FailOpenRateThrottle):
    """Counted per a key the service names (an account, a person), not per request: 帮扫's
    limits are the service's, so every channel that checks people in for others shares them."""

    def __init__(self, ident: str) -> None:
        super().__init__()
        self.ident = ident

    def get_ident(self, request):
        return self.ident


class ProxyScanPerHelperThrottle(_KeyedThrottle):
    scope = "proxy_scan_helper"
    limit_setting = "PROXY_SCAN_PER_HELPER_PER_HOUR"


class ProxyScanPerPersonThrottle(_KeyedThrottle):
    scope = "proxy_scan_person"
    limit_setting = "PROXY_SCAN_PER_PERSON_PER_HOUR"
