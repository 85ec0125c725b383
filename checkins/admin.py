from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from checkins.models import Alert, CheckIn, Device, GridWorker


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
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["venue", "name", "prefix", "created_at", "revoked_at"]
    raw_id_fields = ["venue"]
    readonly_fields = ["prefix", "created_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # issue keys from the venue's devices action, which shows the key once

    @admin.action(description=_("吊销所选设备令牌"))
    def revoke(self, request, queryset):
        queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        messages.success(request, _("已吊销。"))
