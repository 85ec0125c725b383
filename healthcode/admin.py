from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.services import audit_lookup, audit_lookup_by_identity
from healthcode import engine, masking, services
from healthcode.forms import ResidentLookupForm
from healthcode.models import (
    HealthCode,
    HealthCodeChange,
    HealthOfficer,
    ItineraryStay,
    Resident,
    RiskArea,
    RiskFlag,
    User,
)
from healthcode.regions import region_name

# --- Chinese everywhere (issue 11): values an officer reads, never a code ---------------------
# Sources of risk flags that are codes rather than names (the demo data, importers' system
# names); any other code-like source is shown as 外部系统 <code>, a name as it is.
SOURCE_NAMES = {"demo": _("演示数据"), "admin": _("后台录入")}


def source_name(source: str) -> str:
    if source in SOURCE_NAMES:
        return str(SOURCE_NAMES[source])
    if source.isascii() and source.replace("_", "").replace("-", "").isalnum():
        return _("外部系统 %(code)s") % {"code": source}
    return source


def region_column(field: str, description):
    """A list column showing a region code by name: 浙江省杭州市西湖区（330106）."""

    @admin.display(description=description, ordering=field)
    def column(self, obj):
        code = getattr(obj, field)
        name = region_name(code)
        return f"{name}（{code}）" if code and name != code else code or "-"

    return column


def regions_column(field: str, description):
    """A list column showing a list of region codes by name."""

    @admin.display(description=description)
    def column(self, obj):
        return "、".join(region_name(code) for code in getattr(obj, field)) or "-"

    return column


class SourceFilter(admin.SimpleListFilter):
    title = _("来源")
    parameter_name = "source"

    def lookups(self, request, model_admin):
        sources = model_admin.model.objects.values_list("source", flat=True).distinct()
        return sorted((s, source_name(s)) for s in sources)

    def queryset(self, request, queryset):
        return queryset.filter(source=self.value()) if self.value() else queryset


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that are evidence (lookups, batches, samples): looked at, never edited."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PersonRecordAdmin(admin.ModelAdmin):
    """For records that name a person by document (flags, samples, check-ins): opening one is
    a lookup of that person, and is kept like every other (``person_identity`` says whom)."""

    def person_identity(self, obj) -> tuple[str, str] | None:
        return obj.id_type, obj.id_number

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        identity = self.person_identity(obj) if obj is not None else None
        if identity and identity[1] and request.method == "GET":
            audit_lookup_by_identity(
                id_type=identity[0], id_number=identity[1], action="admin", actor=request.user
            )
        return super().change_view(request, object_id, form_url, extra_context)


class ChangeRecordAdmin(ReadOnlyAdmin, PersonRecordAdmin):
    """A record's earlier and later versions (a result's, a dose's): shown with the person's
    name and ID number masked, as every list shows them; the raw JSON is not on the page.
    Opening one shows a person's result or dose as it was: a lookup of the person the record
    (``record_field``) names, kept like every other."""

    record_field = ""
    exclude = ["before", "after"]
    readonly_fields = ["before_shown", "after_shown"]

    def person_identity(self, obj) -> tuple[str, str] | None:
        record = getattr(obj, self.record_field)
        return record.id_type, record.id_number

    @staticmethod
    def _masked(version: dict) -> dict:
        shown = dict(version)
        if shown.get("id_number"):
            shown["id_number"] = masking.mask_id_number(shown["id_number"])
        if shown.get("name"):
            shown["name"] = masking.mask_name(shown["name"])
        return shown

    @admin.display(description=_("变更前"))
    def before_shown(self, obj):
        return self._masked(obj.before)

    @admin.display(description=_("变更后"))
    def after_shown(self, obj):
        return self._masked(obj.after)


class FactAdmin(admin.ModelAdmin):
    """For the facts a status is computed from (flags, areas, itineraries, policies): they are
    ended or superseded, never deleted — a deleted fact would leave the codes computed from it
    standing with nothing marking them due, and would erase what an appeal needs to see."""

    def has_delete_permission(self, request, obj=None):
        return False


class ApiKeyAdmin(admin.ModelAdmin):
    """Machine keys (``healthcode.apikeys``): issued by an action on their owner, which shows
    the key once; here they are only listed and revoked."""

    readonly_fields = ["prefix", "created_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("吊销所选令牌"))
    def revoke(self, request, queryset):
        queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


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
    list_display = ["name_masked", "id_number_masked", "id_type", "region", "created_at"]
    list_filter = ["id_type"]
    # No ID number here: a GET search puts it in the URL and so in access logs and history.
    # Staff find a person by ID number with the POST form of lookup_view, which records it.
    search_fields = ["=public_id"]
    readonly_fields = ["public_id", "committed_at", "created_at"]
    raw_id_fields = ["user"]
    change_list_template = "admin/healthcode/resident/change_list.html"
    region = region_column("region_code", _("居住地"))

    @admin.display(description=_("姓名"))
    def name_masked(self, obj):
        return obj.masked_name

    @admin.display(description=_("证件号码"))
    def id_number_masked(self, obj):
        return obj.masked_id_number

    def get_urls(self):
        lookup = path(
            "lookup/",
            self.admin_site.admin_view(self.lookup_view),
            name="healthcode_resident_lookup",
        )
        return [lookup, *super().get_urls()]

    def lookup_view(self, request):
        """Find a resident by ID type and number (POST), record the lookup, open the record."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ResidentLookupForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            resident = Resident.objects.filter(
                id_type=form.cleaned_data["id_type"], id_number=form.cleaned_data["id_number"]
            ).first()
            if resident is None:
                # A search that finds nobody is still a lookup of that person (masked).
                audit_lookup(
                    action="admin_search",
                    actor=request.user,
                    id_number=form.cleaned_data["id_number"],
                )
                form.add_error("id_number", _("没有登记该证件号码的居民。"))
            else:
                audit_lookup(action="admin_search", actor=request.user, subject=resident)
                return redirect(reverse("admin:healthcode_resident_change", args=[resident.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("按证件号码查找居民"),
            "form": form,
        }
        return TemplateResponse(request, "admin/healthcode/resident/lookup.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # An officer opening a resident's record is a lookup of another person: keep it.
        resident = self.get_object(request, object_id)
        if resident is not None and request.method == "GET":
            audit_lookup(action="admin", actor=request.user, subject=resident)
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(HealthCode)
class HealthCodeAdmin(admin.ModelAdmin):
    list_display = ["resident", "colour", "computed_at", "review_at"]
    list_filter = ["colour"]
    readonly_fields = ["resident", "colour", "reasons", "computed_at", "review_at"]
    inlines = [HealthCodeChangeInline]

    def has_add_permission(self, request):
        return False


@admin.register(HealthOfficer)
class HealthOfficerAdmin(admin.ModelAdmin):
    """Officers and their regions; a city or province code covers the regions under it."""

    list_display = ["user", "regions"]
    raw_id_fields = ["user"]
    regions = regions_column("region_codes", _("负责区域"))


@admin.register(RiskFlag)
class RiskFlagAdmin(FactAdmin, PersonRecordAdmin):
    """Officers enter single flags here; bulk imports go through the API."""

    list_display = ["kind", "masked_person", "starts_at", "ends_at", "source_label", "entered_by"]
    list_filter = ["kind", SourceFilter]
    search_fields = ["=external_id"]  # never the ID number: it would sit in the URL
    readonly_fields = ["entered_by", "created_at", "updated_at"]

    @admin.display(description=_("来源"), ordering="source")
    def source_label(self, obj):
        return source_name(obj.source)

    @admin.display(description=_("人员"))
    def masked_person(self, obj):
        return f"{masking.mask_name(obj.name)} {masking.mask_id_number(obj.id_number)}"

    def save_model(self, request, obj, form, change):
        # An edit may move the flag to another person: the earlier one is recomputed too.
        before = RiskFlag.objects.filter(pk=obj.pk).values_list("id_type", "id_number").first()
        obj.entered_by = request.user
        obj.updated_at = timezone.now()
        duration = engine.RULES[obj.kind].default_duration
        if obj.ends_at is None and duration:
            obj.ends_at = obj.starts_at + duration  # yellow kinds end by themselves
        super().save_model(request, obj, form, change)
        people = services.residents_by_identity(
            {(obj.id_type, obj.id_number)} | ({before} if before else set())
        )
        if not change or form.changed_data:  # created, or ended or corrected
            changed = sorted(form.changed_data) if change else []
            services.risk_flags_audit(
                [(obj, changed)], by=request.user, people=people, now=obj.updated_at
            )
        services.recompute_later(
            resident_ids=list(people.values()), cause=f"risk flag {obj.pk} (admin)"
        )


@admin.register(RiskArea)
class RiskAreaAdmin(FactAdmin):
    list_display = ["region", "name", "level", "starts_at", "ends_at"]
    list_filter = ["level"]
    search_fields = ["region_code", "name"]
    region = region_column("region_code", _("地区"))

    def save_model(self, request, obj, form, change):
        previous = RiskArea.objects.filter(pk=obj.pk).values_list("region_code", flat=True).first()
        super().save_model(request, obj, form, change)
        services.risk_area_saved(area=obj, previous_region_code=previous)


@admin.register(ItineraryStay)
class ItineraryStayAdmin(FactAdmin, PersonRecordAdmin):
    list_display = ["resident", "region", "arrived_at", "left_at"]
    raw_id_fields = ["resident"]
    region = region_column("region_code", _("途经地区"))

    def person_identity(self, obj):
        return obj.resident.id_type, obj.resident.id_number

    def save_model(self, request, obj, form, change):
        # An edit may move the stay to another person: the earlier one is recomputed too.
        before = ItineraryStay.objects.filter(pk=obj.pk).values_list("resident_id", flat=True)
        super().save_model(request, obj, form, change)
        services.recompute_later(
            resident_ids=[obj.resident_id, *before], cause=f"itinerary {obj.pk} (admin)"
        )
