from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from healthcode import masking
from healthcode.admin import ApiKeyAdmin, ChangeRecordAdmin, PersonRecordAdmin, ReadOnlyAdmin
from vaccination.models import Dose, DoseBatch, DoseChange, Site, SiteKey


class SiteKeyInline(admin.TabularInline):
    model = SiteKey
    extra = 0
    fields = ["name", "prefix", "created_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False  # issue keys with the action, which shows the key once


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "region_code", "created_at"]
    inlines = [SiteKeyInline]
    actions = ["issue_key"]

    @admin.action(description=_("签发新的 API 令牌（仅显示一次）"))
    def issue_key(self, request, queryset):
        for site in queryset:
            _key, key = SiteKey.issue(site=site, name="admin")
            self.message_user(request, f"{site}: {key}", messages.WARNING)


@admin.register(SiteKey)
class SiteKeyAdmin(ApiKeyAdmin):
    list_display = ["site", "name", "prefix", "created_at", "revoked_at"]
    readonly_fields = ["site", "prefix", "created_at"]


@admin.register(DoseBatch)
class DoseBatchAdmin(ReadOnlyAdmin):
    list_display = ["site", "received_at", "total", "created", "updated", "unchanged", "rejected"]
    list_filter = ["site"]


@admin.register(Dose)
class DoseAdmin(ReadOnlyAdmin, PersonRecordAdmin):
    list_display = [
        "record_id",
        "site",
        "name_masked",
        "id_number_masked",
        "product",
        "dose_number",
        "vaccinated_on",
    ]
    list_filter = ["site", "dose_number"]
    search_fields = ["=record_id"]  # never the ID number: it would sit in the URL
    # The detail page names the person: opening it is recorded as a lookup (PersonRecordAdmin).

    @admin.display(description=_("姓名"))
    def name_masked(self, obj):
        return masking.mask_name(obj.name)

    @admin.display(description=_("证件号码"))
    def id_number_masked(self, obj):
        return masking.mask_id_number(obj.id_number)


@admin.register(DoseChange)
class DoseChangeAdmin(ChangeRecordAdmin):
    record_field = "dose"
    list_display = ["dose", "batch", "changed_at"]
