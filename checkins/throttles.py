"""Throttles for 手工登记 (a name and ID number typed at the door): per inspector and per
venue, each with its own cache key and rate setting. Leaked name/ID lists are the threat: a
real door types one person in half a minute or more, a script harvesting statuses types
thousands. The rates (MANUAL_CHECKIN_RATE_PER_*) are DRF rates such as "60/hour".

The history lives in the cache (Redis in production). If the cache is unreachable the
throttle lets the request through and logs a warning: a door must keep working when Redis
is down, and the binding and approval checks still apply."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.throttling import SimpleRateThrottle

from checkins.fields import VenueIdField
from healthcode.throttling import FailOpenMixin
from venues.models import VenueInspector


class ManualCheckinThrottled(Throttled):
    default_detail = _(
        "手工登记过于频繁：每位检测员、每个场所的登记次数有上限，以防冒用他人身份信息。"
    )
    extra_detail_singular = extra_detail_plural = _("请 {wait} 秒后再试。")


class DeviceIdCardThrottled(ManualCheckinThrottled):
    default_detail = _("证件查验过于频繁：每台设备的查验次数有上限，以防冒用他人身份信息。")


class _FailOpenRateThrottle(FailOpenMixin, SimpleRateThrottle):
    setting_name = ""

    def get_rate(self) -> str:
        return getattr(settings, self.setting_name)


class ManualCheckinPerInspectorThrottle(_FailOpenRateThrottle):
    scope = "manual_checkin_inspector"
    setting_name = "MANUAL_CHECKIN_RATE_PER_INSPECTOR"
    cache_format = "throttle:manual-checkin:inspector:%(ident)s"

    def get_cache_key(self, request, view) -> str | None:
        if not request.user.is_authenticated:
            return None
        return self.cache_format % {"ident": request.user.pk}


class ManualCheckinPerVenueThrottle(_FailOpenRateThrottle):
    """Counts only requests of the venue's own inspectors, so that nobody else can use up a
    venue's allowance by naming it (they get 403 from the view instead)."""

    scope = "manual_checkin_venue"
    setting_name = "MANUAL_CHECKIN_RATE_PER_VENUE"
    cache_format = "throttle:manual-checkin:venue:%(ident)s"

    def get_cache_key(self, request, view) -> str | None:
        data = request.data if hasattr(request.data, "get") else {}
        try:
            # The same parsing as the view's, so that no spelling of an id ("12.0") the view
            # accepts escapes this count.
            venue_id = VenueIdField().run_validation(data.get("venue"))
        except ValidationError:
            return None  # the view answers 400
        if not VenueInspector.objects.filter(user_id=request.user.pk, venue_id=venue_id).exists():
            return None
        return self.cache_format % {"ident": venue_id}


class DeviceIdCardThrottle(_FailOpenRateThrottle):
    """A gate reading an ID card (name and number, no code) answers with that person's colour:
    the machine form of 手工登记, limited per device. Scanned codes are not counted."""

    scope = "device_id_card"
    setting_name = "DEVICE_ID_CARD_RATE"
    cache_format = "throttle:device-id-card:%(ident)s"

    def get_cache_key(self, request, view) -> str | None:
        data = request.data if hasattr(request.data, "get") else {}
        if data.get("code") or request.auth is None:
            return None
        return self.cache_format % {"ident": request.auth.pk}
