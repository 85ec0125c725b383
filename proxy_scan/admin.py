from django.contrib import admin

from proxy_scan.models import PaperCodeSeries


@admin.register(PaperCodeSeries)
class PaperCodeSeriesAdmin(admin.ModelAdmin):
    list_display = ("resident", "version", "revoked_at")
    raw_id_fields = ("resident", "revoked_by")
    readonly_fields = ("resident", "version", "revoked_at", "revoked_by")

    def has_add_permission(self, request):
        return False  # rows come from revoking, never by hand
