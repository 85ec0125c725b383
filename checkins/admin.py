from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from checkins.models import Alert, CheckIn, Device, GridWorker
from healthcode import masking
from healthcode.admin import ApiKeyAdmin, PersonRecordAdmin, region_column, regions_column
from healthcode.idnumbers import IdType


@admin.register(CheckIn)
class CheckInAdmin(PersonRecordAdmin):
    list_display = ["checked_in_at", "venue_name", "person", "method", "colour", "decision"]
    list_filter = ["method", "colour", "decision"]
    list_select_related = ["venue", "resident"]
    raw_id_fields = ["resident", "venue", "scanned_by"]
    # A manual registration's typed identity is shown masked; opening it is a lookup.
    exclude = ["manual_id_number", "manual_phone"]
    readonly_fields = ["manual_identity"]

    @admin.display(description=_("场所"), ordering="venue__full_name")
    def venue_name(self, obj):
        return obj.venue.full_name

    @admin.display(description=_("姓名"))
    def person(self, obj):
        return obj.masked_name

    @admin.display(description=_("登记证件号码 / 手机号码"))
    def manual_identity(self, obj):
        masked = [
            masking.mask_id_number(obj.manual_id_number),
            masking.mask_phone(obj.manual_phone),
        ]
        return " / ".join(m for m in masked if m)

    def person_identity(self, obj):
        if obj.resident_id:
            return obj.resident.id_type, obj.resident.id_number
        return IdType.RESIDENT_ID, obj.manual_id_number

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "venue_name", "region", "acknowledged_at"]
    list_filter = ["kind"]
    list_select_related = ["venue"]
    raw_id_fields = ["checkin", "venue", "resident", "acknowledged_by"]
    region = region_column("region_code", _("居住地"))

    @admin.display(description=_("场所"), ordering="venue__full_name")
    def venue_name(self, obj):
        return obj.venue.full_name


@admin.register(GridWorker)
class GridWorkerAdmin(admin.ModelAdmin):
    list_display = ["user", "regions"]
    raw_id_fields = ["user"]
    regions = regions_column("region_codes", _("负责区域"))


@admin.register(Device)
class DeviceAdmin(ApiKeyAdmin):
    list_display = ["venue_name", "name", "prefix", "created_at", "revoked_at"]
    list_select_related = ["venue"]
    raw_id_fields = ["venue"]

    @admin.display(description=_("场所"), ordering="venue__full_name")
    def venue_name(self, obj):
        return obj.venue.full_name
