from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from appeals.models import Appeal
from healthcode.admin import ReadOnlyAdmin


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    """Read only: appeals are decided on the officers' pages (/officer/appeals/), through the
    service that withdraws the fact and audits the decision. Persons masked."""

    list_display = [
        "number",
        "masked_resident",
        "reason_text",
        "kind",
        "status",
        "created_at",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["status", "kind"]
    date_hierarchy = "created_at"
    list_select_related = ["resident", "decided_by"]
    search_fields = ["=public_id"]
    fields = [
        "number",
        "masked_resident",
        "fact",
        "kind",
        "reason_text",
        "text",
        "has_photo",
        "status",
        "created_at",
        "decided_by",
        "decided_at",
        "answer",
    ]
    readonly_fields = fields

    @admin.display(description=_("编号"), ordering="pk")
    def number(self, obj):
        return obj.pk

    @admin.display(description=_("申诉人"))
    def masked_resident(self, obj):
        return f"{obj.resident.masked_name} {obj.resident.masked_id_number}"

    @admin.display(description=_("附照片"), boolean=True)
    def has_photo(self, obj):
        return bool(obj.photo)
