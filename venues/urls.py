from django.urls import path

from venues import views

app_name = "venues"

urlpatterns = [
    path("venue/", views.venue_home, name="home"),
    path("venue/poster.<str:fmt>", views.poster, name="poster"),
    path(
        "venue/declaration-code/regenerate",
        views.regenerate_declaration_code,
        name="regenerate-code",
    ),
    path("venue/poster/reissue", views.reissue_poster, name="reissue-poster"),
    path(
        "venue/inspectors/<int:inspector_id>/remove",
        views.remove_inspector,
        name="remove-inspector",
    ),
    path("venue/checkins.csv", views.checkins_export, name="checkins-csv"),
    path("inspect/bind/", views.inspector_bind, name="bind"),
]
