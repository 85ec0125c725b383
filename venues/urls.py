from django.urls import path

from venues import officer_views, views

app_name = "venues"

urlpatterns = [
    path("venue/", views.venue_home, name="home"),
    path("venue/poster.<str:fmt>", views.poster, name="poster"),
    path(
        "venue/declaration-code/regenerate",
        views.regenerate_declaration_code,
        name="regenerate-code",
    ),
    path(
        "venue/vaccination-requirement",
        views.vaccination_requirement,
        name="vaccination-requirement",
    ),
    path("venue/poster/reissue", views.reissue_poster, name="reissue-poster"),
    path(
        "venue/inspectors/<int:inspector_id>/remove",
        views.remove_inspector,
        name="remove-inspector",
    ),
    path("venue/checkins.csv", views.checkins_export, name="checkins-csv"),
    path("inspect/bind/", views.inspector_bind, name="bind"),
    path("officer/venues/", officer_views.officer_venues, name="officer-queue"),
    path(
        "officer/venues/<int:venue_id>/approve",
        officer_views.officer_venue_approve,
        name="officer-approve",
    ),
    path(
        "officer/venues/<int:venue_id>/reject",
        officer_views.officer_venue_reject,
        name="officer-reject",
    ),
]
