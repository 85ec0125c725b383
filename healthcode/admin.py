from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from healthcode.models import HealthCode, HealthCodeChange, PersonLookup, Resident, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["phone"]
    list_display = ["phone", "is_staff", "is_active", "date_joined"]
    search_fields = ["phone"]
    fieldsets = [
        (None, {"fields": ["phone", "password"]}),
        (
            _("权限"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("时间"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["phone", "password1", "password2"]})]


class HealthCodeChangeInline(admin.TabularInline):
    model = HealthCodeChange
    extra = 0
    can_delete = False
    readonly_fields = ["old_colour", "new_colour", "reasons", "cause", "changed_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Resident)
class ResidentAdmin(admin.ModelAdmin):
    # Staff see masked identities in lists; the detail page is for authorised officers.
    list_display = ["masked_name", "masked_id_number", "id_type", "region_code", "created_at"]
    list_filter = ["id_type"]
    search_fields = ["=id_number", "=public_id"]
    readonly_fields = ["public_id", "committed_at", "created_at"]
    raw_id_fields = ["user"]


@admin.register(HealthCode)
class HealthCodeAdmin(admin.ModelAdmin):
    list_display = ["resident", "colour", "computed_at", "review_at"]
    list_filter = ["colour"]
    readonly_fields = ["resident", "colour", "reasons", "computed_at", "review_at"]
    inlines = [HealthCodeChangeInline]

    def has_add_permission(self, request):
        return False


@admin.register(PersonLookup)
class PersonLookupAdmin(admin.ModelAdmin):
    list_display = ["viewer", "resident", "channel", "looked_up_at"]
    list_filter = ["channel"]
    readonly_fields = ["viewer", "resident", "channel", "looked_up_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
