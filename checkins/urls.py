from django.urls import path

from checkins import views

app_name = "checkins"

urlpatterns = [
    path("v/<str:code>", views.venue_scan, name="scan"),
    path("checkin/<uuid:public_id>/", views.checkin_result, name="result"),
    path("checkin/<uuid:public_id>/leave", views.checkin_leave, name="leave"),
    path("inspect/", views.inspect_page, name="inspect"),
    path("alerts/", views.alerts_page, name="alerts"),
    path("alerts/<int:alert_id>/acknowledge", views.alert_acknowledge, name="alert-ack"),
    path(
        "alerts/<int:alert_id>/acknowledge-person",
        views.alert_acknowledge_person,
        name="alert-ack-person",
    ),
]
