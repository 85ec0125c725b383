from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from healthcode.admin import (
    ApiKeyAdmin,
    ChangeRecordAdmin,
    PersonRecordAdmin,
    ReadOnlyAdmin,
    region_column,
)
from nucleic import services
from nucleic.models import Lab, LabToken, ResultBatch, Sample, SampleChange, TestPolicy


class LabTokenInline(admin.TabularInline):
    model = LabToken
    extra = 0
    fields = ["name", "prefix", "created_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False  # issue tokens with the action, which shows the key once


@admin.register(Lab)
class LabAdmin(admin.ModelAdmin):
    list_display = ["name", "region", "created_at"]
    region = region_column("region_code", _("所在地"))
    inlines = [LabTokenInline]
    actions = ["issue_token"]

    @admin.action(description=_("签发新的 API 令牌（仅显示一次）"))
    def issue_token(self, request, queryset):
        for lab in queryset:
            _token, key = LabToken.issue(lab=lab, name="admin")
            self.message_user(request, f"{lab}: {key}", messages.WARNING)


@admin.register(LabToken)
class LabTokenAdmin(ApiKeyAdmin):
    list_display = ["lab", "name", "prefix", "created_at", "revoked_at"]
    readonly_fields = ["lab", "prefix", "created_at"]


@admin.register(ResultBatch)
class ResultBatchAdmin(ReadOnlyAdmin):
    list_display = ["lab", "received_at", "total", "created", "updated", "unchanged", "rejected"]
    list_filter = ["lab"]


@admin.register(Sample)
class SampleAdmin(ReadOnlyAdmin, PersonRecordAdmin):
    list_display = ["barcode", "lab", "result", "sampled_at", "reported_at"]
    list_filter = ["result", "lab"]
    search_fields = ["=barcode"]  # never the ID number: it would sit in the URL


@admin.register(SampleChange)
class SampleChangeAdmin(ChangeRecordAdmin):
    record_field = "sample"
    list_display = ["sample", "batch", "changed_at"]


@admin.register(TestPolicy)
class TestPolicyAdmin(admin.ModelAdmin):
    """Policies are effective-dated data: add a new one rather than editing the past."""

    list_display = ["group", "window_hours", "counts_from", "pending_counts", "effective_from"]
    list_filter = ["group"]
    readonly_fields = ["created_by", "created_at"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # superseded by a newer one, never deleted (see healthcode FactAdmin)

    def save_model(self, request, obj, form, change):
        policy = services.policy_create(
            group=obj.group,
            window_hours=obj.window_hours,
            counts_from=obj.counts_from,
            pending_counts=obj.pending_counts,
            effective_from=obj.effective_from,
            note=obj.note,
            created_by=request.user,
        )
        obj.pk = policy.pk  # the admin's change log refers to it
