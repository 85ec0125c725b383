from django.contrib import admin

from audit.models import AuditEvent
from healthcode.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "kind", "action", "role", "actor", "machine", "venue_name", "subject"]
    list_filter = ["kind", "role", "action"]
    date_hierarchy = "at"
    list_select_related = ["actor", "subject"]
    raw_id_fields = ["actor", "subject"]
