from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent
from healthcode.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The trail, read only (PostgreSQL refuses changes anyway). The lookups of people that
    were ``PersonLookup`` rows are its reads."""

    list_display = ["at", "kind", "what", "role", "actor", "machine", "venue_name", "subject"]
    list_filter = ["kind", "role", "action"]
    date_hierarchy = "at"
    list_select_related = ["actor", "subject"]
    raw_id_fields = ["actor", "subject"]

    @admin.display(description=_("事项"), ordering="action")
    def what(self, obj):
        return obj.action_label
