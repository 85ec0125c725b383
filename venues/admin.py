from django.contrib import admin

from venues.models import Venue, VenueInspector


class VenueInspectorInline(admin.TabularInline):
    model = VenueInspector
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Venue)
class VenueAdmin(admin.ModelAdmin):
    list_display = ["full_name", "category", "region_code", "entry_rule", "poster_version"]
    list_filter = ["category", "entry_rule"]
    search_fields = ["full_name", "region_code"]
    raw_id_fields = ["administrator"]
    readonly_fields = ["public_id", "declaration_code", "poster_version", "poster_issued_at"]
    inlines = [VenueInspectorInline]
