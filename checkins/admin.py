from django.contrib import admin

from checkins.models import Alert, CheckIn, Device, GridWorker
from healthcode.admin import ApiKeyAdmin


@admin.register(CheckIn)
class CheckInAdmin(admin.ModelAdmin):
    list_display = ["checked_in_at", "venue", "masked_name", "method", "colour", "decision"]
    list_filter = ["method", "colour", "decision"]
    raw_id_fields = ["resident", "venue", "scanned_by"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "venue", "region_code", "acknowledged_at"]
    list_filter = ["kind"]
    raw_id_fields = ["checkin", "venue", "resident", "acknowledged_by"]


@admin.register(GridWorker)
class GridWorkerAdmin(admin.ModelAdmin):
    list_display = ["user", "region_codes"]
    raw_id_fields = ["user"]


@admin.register(Device)
class DeviceAdmin(ApiKeyAdmin):
    list_display = ["venue", "name", "prefix", "created_at", "revoked_at"]
    raw_id_fields = ["venue"]
