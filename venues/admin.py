from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from checkins.models import Device
from healthcode.admin import region_column
from venues.models import Venue, VenueInspector
from venues.selectors import venue_unusable_reason


class VenueInspectorInline(admin.TabularInline):
    model = VenueInspector
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Venue)
class VenueAdmin(admin.ModelAdmin):
    list_display = ["full_name", "status", "category", "region", "entry_rule", "submitted_at"]
    list_filter = ["status", "category", "entry_rule"]
    search_fields = ["full_name", "region_code", "credit_code"]
    raw_id_fields = ["administrator"]
    # Approval goes through the officers' page (/officer/venues/) and its services only.
    readonly_fields = [
        "public_id",
        "declaration_code",
        "poster_version",
        "poster_issued_at",
        "status",
        "submitted_at",
        "decided_by",
        "decided_at",
        "rejection_reason",
    ]
    inlines = [VenueInspectorInline]
    actions = ["issue_device_key"]
    region = region_column("region_code", _("所在地"))

    @admin.action(description=_("签发扫码设备令牌（仅显示一次）"))
    def issue_device_key(self, request, queryset):
        for venue in queryset:
            reason = venue_unusable_reason(venue)
            if reason is not None:
                self.message_user(request, f"{venue}: {reason}", messages.ERROR)
                continue
            _device, key = Device.create_with_key(venue=venue, name="admin")
            self.message_user(request, f"{venue}: {key}", messages.WARNING)
