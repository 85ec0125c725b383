from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from audit.models import CHANGE_LABELS, READ_LABELS, VIEWER_KINDS, AuditEvent
from healthcode.admin import ReadOnlyAdmin


class ActionFilter(admin.SimpleListFilter):
    """Events by what happened in words (a kind of viewer, a change's name), not by the
    action's code; the actions one label covers are filtered together."""

    title = _("事项")
    parameter_name = "what"

    def _actions(self) -> dict[str, list[str]]:
        by_label: dict[str, list[str]] = {}
        for labels in (VIEWER_KINDS, READ_LABELS, CHANGE_LABELS):
            for action, label in labels.items():
                by_label.setdefault(str(label), []).append(action)
        return by_label

    def lookups(self, request, model_admin):
        return [(label, label) for label in sorted(self._actions())]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(action__in=self._actions().get(self.value(), []))


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The trail, read only (PostgreSQL refuses changes anyway). The lookups of people that
    were ``PersonLookup`` rows are its reads."""

    list_display = ["at", "kind", "what", "role", "actor", "machine", "venue_name", "subject"]
    list_filter = ["kind", "role", ActionFilter]
    date_hierarchy = "at"
    list_select_related = ["actor", "subject"]
    raw_id_fields = ["actor", "subject"]

    @admin.display(description=_("事项"), ordering="action")
    def what(self, obj):
        return obj.action_label
